#pragma once
// A process that asks ckpt service to dump itself waits for the answer on a socket connected
// to the service. That connection is not the process's to keep: the image leaves it out and
// records its fd number with the answer a restored process is to get ("restored"), and restore
// puts a socket at that fd which yields that answer and then end-of-file. The process, stopped
// in its read or about to start it, reads "dumped" in the original and "restored" in every
// restored copy, as libcriu's callers do.

#include <sys/types.h>

#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "common/unique_fd.h"

namespace crossrig::engine {

/// The image file holding the record, in images of a self-dump only.
inline constexpr const char* kCallerFdFile = "caller-fd.json";

/// The most a reply may hold: it must fit a unix socket's buffer, written before the restored
/// process reads it.
inline constexpr std::size_t kMaxCallerReply = 64 * 1024;

struct CallerFd {
  pid_t pid = 0;  ///< The process holding it: the tree's root.
  int fd = -1;
  bool cloexec = false;
  std::vector<std::uint8_t> reply;  ///< What a restored process reads from it.
};

/// The record of process pid's fd for caller-fd.json; throws kUsage unless that fd is a socket
/// and reply fits kMaxCallerReply.
nlohmann::json caller_fd_record(pid_t pid, int fd, const std::string& reply);

/// Reads caller-fd.json; throws kBadImage naming what is wrong.
CallerFd parse_caller_fd(const nlohmann::json& record);

/// One end of a new socket pair whose other end has sent reply and closed: a read gets the
/// reply, then end-of-file.
UniqueFd replay_socket(const std::vector<std::uint8_t>& reply);

}  // namespace crossrig::engine
