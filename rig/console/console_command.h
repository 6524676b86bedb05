#pragma once

namespace crossrig::rig {

/// `rig console ...`: serve a board's console, attach to it, or wait for patterns on it.
/// argv[0] is "console"; returns the exit code.
int console_command(int argc, char** argv);

}  // namespace crossrig::rig
