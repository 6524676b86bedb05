#pragma once
// The kernel's sock_diag netlink interface (NETLINK_SOCK_DIAG): the one place that tells which
// socket a unix socket is connected to and which connections wait in a listener's queue, things
// no socket option reveals. It lists the sockets of ckpt's own network namespace.

#include <cstdint>
#include <map>
#include <string>
#include <vector>

namespace crossrig::engine {

/// One unix socket as sock_diag reports it.
struct UnixDiag {
  std::uint32_t ino = 0;
  int type = 0;   ///< SOCK_STREAM, SOCK_DGRAM or SOCK_SEQPACKET.
  int state = 0;  ///< TCP_LISTEN, TCP_ESTABLISHED (connected) or TCP_CLOSE.
  /// The bound address as its bytes: "" when unbound; an abstract name starts with '\0'.
  std::string name;
  /// The bound file's inode and device (the kernel's dev_t: major << 20 | minor), 0 if none.
  std::uint32_t vfs_ino = 0, vfs_dev = 0;
  bool has_peer = false;             ///< Connected; to a closed socket when peer is 0.
  std::uint32_t peer = 0;            ///< The peer's inode.
  std::vector<std::uint32_t> icons;  ///< A listener's connections not accepted yet, in order.
  /// A listener: connections waiting and its backlog; otherwise bytes queued to read (the
  /// first datagram's length for a datagram socket) and bytes sent but not read.
  std::uint32_t rqueue = 0, wqueue = 0;
  int shutdown = 0;  ///< The kernel's RCV_SHUTDOWN (1) and SEND_SHUTDOWN (2) bits.
};

/// Every unix socket of ckpt's network namespace, by inode. Throws kUnsupported when the
/// kernel has no UNIX_DIAG, kSystem on another failure.
std::map<std::uint32_t, UnixDiag> list_unix_sockets();

/// Whether the kernel answers sock_diag dumps of family (AF_UNIX, or AF_INET with protocol
/// IPPROTO_TCP/IPPROTO_UDP); detail says why not.
bool sock_diag_works(int family, int protocol, std::string* detail);

}  // namespace crossrig::engine
