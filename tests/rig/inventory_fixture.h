// What the rig CLI tests share: a scratch directory, files in it, and running the rig binary.
#pragma once

#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "plugctl/sim/plugsim_process.h"

namespace crossrig::rig::testing {

inline const std::string kRig = CROSSRIG_BINARY_DIR "/bin/rig";

/// A fresh directory under the temp dir, removed with everything in it at the end.
class ScratchDir {
 public:
  /// stem: the start of the directory name.
  explicit ScratchDir(const std::string& stem) {
    static int counter = 0;
    path_ = std::filesystem::temp_directory_path() /
            (stem + "-" + std::to_string(::getpid()) + "-" + std::to_string(counter++));
    std::filesystem::remove_all(path_);
    std::filesystem::create_directories(path_);
  }
  ~ScratchDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  ScratchDir(const ScratchDir&) = delete;
  ScratchDir& operator=(const ScratchDir&) = delete;

  /// The absolute path of name inside the directory.
  std::string file(const std::string& name) const { return (path_ / name).string(); }
  /// Writes text to name and returns its path.
  std::string write(const std::string& name, const std::string& text) const {
    std::ofstream(file(name)) << text;
    return file(name);
  }
  /// The whole text of name ("" if missing).
  std::string read(const std::string& name) const {
    std::ifstream in(file(name));
    return std::string(std::istreambuf_iterator<char>(in), {});
  }
  /// The directory.
  const std::filesystem::path& path() const { return path_; }

 private:
  std::filesystem::path path_;
};

/// Runs `rig args...` in cwd (if given) with env entries set over ours; the lab state file
/// lookup and $RIG_INVENTORY see only what env gives, so the machine's own lab never leaks in.
inline crossrig::plugsim::CommandResult rig(const std::vector<std::string>& args,
                                            const std::vector<std::string>& env = {},
                                            const std::string& cwd = "") {
  std::vector<std::string> argv{"/usr/bin/env", "-u", "RIG_INVENTORY",
                                "XDG_RUNTIME_DIR=/nonexistent-rig-test"};
  if (!cwd.empty()) argv.insert(argv.begin() + 1, {"--chdir", cwd});
  argv.insert(argv.end(), env.begin(), env.end());
  argv.push_back(kRig);
  argv.insert(argv.end(), args.begin(), args.end());
  return crossrig::plugsim::run_command(argv, std::chrono::seconds(60));
}

}  // namespace crossrig::rig::testing
