#pragma once

#include <string>
#include <vector>

namespace crossrig::rig::matrix {

/// Runs argv (argv[0] searched in PATH) with stdin on /dev/null, stdout written to out_file
/// and stderr appended to err_file (the same file may be given for both), and waits for it.
/// Returns its exit status, or 128 + the signal that killed it; 127 if it could not start.
int run_child(const std::vector<std::string>& argv, const std::string& out_file,
              const std::string& err_file);

}  // namespace crossrig::rig::matrix
