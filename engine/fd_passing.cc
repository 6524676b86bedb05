#include "engine/fd_passing.h"

#include <fcntl.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cstddef>
#include <cstring>
#include <span>
#include <string>
#include <utility>
#include <vector>

#include "common/unique_fd.h"
#include "engine/kcmp.h"
#include "engine/ptrace_task.h"

namespace crossrig::engine {
namespace {

// The scratch page: the address, then the task's msghdr, iovec, byte and cmsg.
struct Layout {
  sockaddr_un addr;
  msghdr msg;
  iovec iov;
  char byte;
  alignas(cmsghdr) char control[CMSG_SPACE(sizeof(int))];
};
static_assert(sizeof(Layout) <= 4096);

socklen_t fill_address(Layout& l, pid_t pid) {
  l.addr.sun_family = AF_UNIX;
  std::string name = "crossrig-ckpt-" + std::to_string(::getpid()) + "-" + std::to_string(pid);
  std::memcpy(l.addr.sun_path + 1, name.data(), name.size());
  return static_cast<socklen_t>(offsetof(sockaddr_un, sun_path) + 1 + name.size());
}

// Sends fd with one byte to the datagram socket bound at addr; false if nobody listens there.
bool send_fd(int fd, const sockaddr_un& addr, socklen_t addr_len) {
  UniqueFd sock(::socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0));
  const std::uint8_t byte = 0;
  return sock &&
         send_message(sock.get(), std::span(&byte, 1), {fd}, &addr, addr_len, MSG_NOSIGNAL) == 1;
}

}  // namespace

FdChannel::FdChannel(pid_t pid, RemoteAddr scratch, InjectFn sys, int sock)
    : pid_(pid), scratch_(scratch), sys_(std::move(sys)), sock_(sock) {}

FdChannel::FdChannel(FdChannel&& other) noexcept
    : pid_(other.pid_),
      scratch_(other.scratch_),
      sys_(std::move(other.sys_)),
      sock_(std::exchange(other.sock_, -1)) {}

FdChannel::~FdChannel() {
  try {
    close();
  } catch (const std::exception&) {
    // The task died under us; its socket went with it.
  }
}

std::optional<FdChannel> FdChannel::open(pid_t pid, RemoteAddr scratch, InjectFn sys,
                                         int fd_floor) {
  Layout l{};
  const socklen_t addr_len = fill_address(l, pid);
  write_remote(pid, scratch, std::span(reinterpret_cast<const std::uint8_t*>(&l.addr), addr_len));
  std::int64_t sock = sys("socket", {AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0});
  if (sock < 0) return std::nullopt;
  // Above every fd the caller will install, so that installing one never closes the socket.
  if (sock < fd_floor) {
    std::int64_t moved = sys("fcntl", {static_cast<std::uint64_t>(sock), F_DUPFD_CLOEXEC,
                                       static_cast<std::uint64_t>(fd_floor)});
    sys("close", {static_cast<std::uint64_t>(sock)});
    if (moved < 0) return std::nullopt;
    sock = moved;
  }
  FdChannel channel(pid, scratch, std::move(sys), static_cast<int>(sock));
  if (channel.sys_("bind", {static_cast<std::uint64_t>(sock), scratch.addr(), addr_len}) != 0)
    return std::nullopt;
  return channel;
}

std::optional<int> FdChannel::pass(int fd) {
  if (sock_ < 0) return std::nullopt;
  Layout l{};
  const socklen_t addr_len = fill_address(l, pid_);
  auto remote = [&](const void* field) {
    return scratch_.addr() + static_cast<std::uint64_t>(static_cast<const char*>(field) -
                                                        reinterpret_cast<const char*>(&l));
  };
  l.iov = {reinterpret_cast<void*>(remote(&l.byte)), 1};
  l.msg.msg_iov = reinterpret_cast<iovec*>(remote(&l.iov));
  l.msg.msg_iovlen = 1;
  l.msg.msg_control = reinterpret_cast<void*>(remote(l.control));
  l.msg.msg_controllen = sizeof l.control;
  write_remote(pid_, scratch_, std::span(reinterpret_cast<const std::uint8_t*>(&l), sizeof l));
  if (!send_fd(fd, l.addr, addr_len) ||
      sys_("recvmsg", {static_cast<std::uint64_t>(sock_), remote(&l.msg),
                       MSG_CMSG_CLOEXEC | MSG_DONTWAIT}) != 1)
    return std::nullopt;
  Layout back{};
  read_remote(pid_, scratch_, std::span(reinterpret_cast<std::uint8_t*>(&back), sizeof back));
  // The control pointer in the copy read back is the task's; walk ckpt's own copy.
  back.msg.msg_control = back.control;
  const cmsghdr* c = CMSG_FIRSTHDR(&back.msg);
  if (c == nullptr || c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS ||
      c->cmsg_len != CMSG_LEN(sizeof(int)))
    return std::nullopt;
  int theirs = -1;
  std::memcpy(&theirs, CMSG_DATA(c), sizeof theirs);
  // Anyone in the network namespace may send to that address first: only the file ckpt sent
  // will do.
  if (same_open_file(::getpid(), fd, pid_, theirs)) return theirs;
  sys_("close", {static_cast<std::uint64_t>(theirs)});
  return std::nullopt;
}

void FdChannel::close() {
  if (sock_ < 0) return;
  int sock = sock_;
  sock_ = -1;
  sys_("close", {static_cast<std::uint64_t>(sock)});
}

ssize_t send_message(int fd, std::span<const std::uint8_t> bytes, const std::vector<int>& passed,
                     const sockaddr_un* to, socklen_t len, int flags) {
  // Words, so that the control message is aligned as cmsghdr needs.
  std::vector<std::uint64_t> control((CMSG_SPACE(sizeof(int) * passed.size()) + 7) / 8);
  iovec iov{const_cast<std::uint8_t*>(bytes.data()), bytes.size()};
  msghdr msg{};
  msg.msg_name = const_cast<sockaddr_un*>(to);
  msg.msg_namelen = len;
  msg.msg_iov = &iov;
  msg.msg_iovlen = 1;
  if (!passed.empty()) {
    msg.msg_control = control.data();
    msg.msg_controllen = CMSG_SPACE(sizeof(int) * passed.size());
    cmsghdr* c = CMSG_FIRSTHDR(&msg);
    c->cmsg_level = SOL_SOCKET;
    c->cmsg_type = SCM_RIGHTS;
    c->cmsg_len = CMSG_LEN(sizeof(int) * passed.size());
    std::memcpy(CMSG_DATA(c), passed.data(), sizeof(int) * passed.size());
  }
  return ::sendmsg(fd, &msg, flags);
}

}  // namespace crossrig::engine
