#pragma once
// Handing ckpt's own descriptors to a stopped task: SCM_RIGHTS to a datagram socket the task
// binds to an abstract address, so no file permission, root or mount namespace of the task
// stands in the way (a task in another network namespace cannot be reached). The dump hands
// the task its pages file this way, the restore every file description of the tree.

#include <sys/socket.h>
#include <sys/types.h>
#include <sys/un.h>

#include <cstdint>
#include <functional>
#include <initializer_list>
#include <optional>
#include <span>
#include <string_view>
#include <vector>

#include "engine/remote_ptr.h"

namespace crossrig::engine {

/// Runs one syscall in the task and returns the kernel's result (-errno on failure).
using InjectFn =
    std::function<std::int64_t(std::string_view name, std::initializer_list<std::uint64_t> args)>;

/// The task's end of the channel: a socket in the task, bound, at an fd >= the floor asked.
class FdChannel {
 public:
  /// Opens the channel in task pid, using the page at scratch for arguments (clobbered by
  /// every call); nullopt if the task cannot make or bind the socket.
  static std::optional<FdChannel> open(pid_t pid, RemoteAddr scratch, InjectFn sys,
                                       int fd_floor = 0);
  FdChannel(FdChannel&& other) noexcept;
  FdChannel& operator=(FdChannel&&) = delete;
  ~FdChannel();

  /// Sends ckpt's fd; returns the task's new close-on-exec fd on the same open file
  /// description, or nullopt (nobody received, or a file other than ckpt's arrived first).
  std::optional<int> pass(int fd);
  /// Closes the task's socket (also done on destruction, failures ignored there).
  void close();

 private:
  FdChannel(pid_t pid, RemoteAddr scratch, InjectFn sys, int sock);
  pid_t pid_;
  RemoteAddr scratch_;
  InjectFn sys_;
  int sock_ = -1;
};

/// One sendmsg of bytes from socket fd, to `to` (len 0: fd is connected), with the
/// descriptors passed in flight (SCM_RIGHTS); returns what sendmsg returns.
ssize_t send_message(int fd, std::span<const std::uint8_t> bytes, const std::vector<int>& passed,
                     const sockaddr_un* to = nullptr, socklen_t len = 0,
                     int flags = MSG_DONTWAIT | MSG_NOSIGNAL);

}  // namespace crossrig::engine
