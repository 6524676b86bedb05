#pragma once
// Process handling the ckpt integration tests share: spawning tools with their output in a
// log, waiting for files, and giving up cleanly (every started process killed and reaped).

#include <sys/types.h>

#include <filesystem>
#include <functional>
#include <set>
#include <string>
#include <vector>

namespace crossrig::ckpt_test {

/// Processes the test started and must kill if it gives up.
std::set<pid_t>& live();

/// Registers what fail() must also clean up (e.g. an image directory outside the workdir).
void at_fail(std::function<void()> cleanup);

/// Says FAIL and why on stderr, kills every live() process, reaps every child, runs the
/// at_fail() cleanup and exits 1.
[[noreturn]] void fail(const std::string& why);

/// execv of argv[0] (a path: no PATH search); exits 127 when it cannot run.
[[noreturn]] void exec(const std::vector<std::string>& argv);

/// Starts argv with stdin on /dev/null, stdout and stderr appended to log, no other fd of
/// ours, in cwd when given.
pid_t spawn(const std::vector<std::string>& argv, const std::filesystem::path& log,
            const std::filesystem::path& cwd = {});

/// Waits for pid and takes it off live(); returns its exit code, or 128 + the signal.
int wait_exit(pid_t pid);

/// Runs argv to its end as spawn() does, the command line first written to log.
int run(const std::vector<std::string>& argv, const std::filesystem::path& log);

/// Waits for a file to have content and returns it; the bound only stops a broken run from
/// hanging ctest (fail() names what never appeared).
std::string wait_file(const std::filesystem::path& path, const std::string& what);

/// Sends SIGTERM to the tracee pid and fails (naming stage) unless it wrote PASS to outfile
/// and exited; removes outfile.
void expect_pass(pid_t pid, const std::filesystem::path& outfile, const std::string& stage);

/// What a failed dump must leave as it found it, beyond what the tracee checks itself: the
/// task's mappings and open files (a dump injects a scratch mapping and, while it copies
/// pages, an fd on the image).
std::string mappings_and_fds(pid_t pid);

}  // namespace crossrig::ckpt_test
