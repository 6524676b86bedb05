#pragma once
// Reading a stopped process's state from /proc and from outside (prlimit): no injection.

#include <sys/types.h>

#include <vector>

#include "engine/proc_parse.h"
#include "engine/task_image.h"

namespace crossrig::engine {

/// Path of a file under /proc/PID/.
std::string proc_path(pid_t pid, const std::string& file);

/// The numeric entries of a directory (pids, tids, fds), sorted.
std::vector<int> list_numeric_dir(const std::string& path);

/// The target of a symbolic link (a /proc fd, cwd, exe ...).
std::string read_link(const std::string& path);

/// Thread ids of a process.
std::vector<int> list_threads(pid_t pid);

/// The children of every thread of a process, as /proc lists them.
std::vector<pid_t> list_children(pid_t pid);

/// The process-wide state other than sigactions, rlimits and fds (engine/file_table.h).
TaskImage read_task(pid_t pid);

/// The mm fields of /proc/PID/stat and auxv; vmas and brk are filled by the caller.
MmImage read_mm_fields(pid_t pid);

/// Credentials from /proc/PID/status fields (personality aside).
CredsImage creds_from_status(const std::map<std::string, std::string>& status);

/// The fields of /proc/PID/task/TID/status.
std::map<std::string, std::string> thread_status(pid_t pid, pid_t tid);

/// Seccomp mode from status fields: 0 none, 1 strict, 2 filters.
int seccomp_mode(const std::map<std::string, std::string>& status);

/// Credentials and personality of one thread (the kernel keeps them per thread).
CredsImage read_thread_creds(pid_t pid, pid_t tid);

/// PROT_* bits of a maps line.
int prot_of(const MapsEntry& e);

}  // namespace crossrig::engine
