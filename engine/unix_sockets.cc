#include "engine/unix_sockets.h"

#include <fcntl.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/time.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <cstddef>
#include <cstring>
#include <map>
#include <optional>
#include <tuple>
#include <utility>

#include "engine/ckpt_error.h"
#include "engine/fd_passing.h"
#include "engine/sock_diag.h"
#include "engine/socket_option.h"
#include "engine/task_fd.h"
#include "engine/task_info.h"

namespace crossrig::engine {
namespace {

constexpr int kRcvShutdown = 1, kSendShutdown = 2;

std::string fd_name(pid_t pid, int fd) {
  return "fd " + std::to_string(fd) + " of process " + std::to_string(pid);
}

std::string type_name(int type) {
  switch (type) {
    case SOCK_STREAM:
      return "stream";
    case SOCK_DGRAM:
      return "datagram";
    case SOCK_SEQPACKET:
      return "seqpacket";
    default:
      return "type " + std::to_string(type);
  }
}

std::string family_name(int family) {
  static const std::map<int, std::string> names = {
      {AF_INET, "an IPv4 socket"},
      {AF_INET6, "an IPv6 socket"},
      {AF_NETLINK, "a netlink socket"},
      {AF_PACKET, "a packet socket"},
      {AF_UNIX, "a unix socket of another network namespace"}};
  auto it = names.find(family);
  return it != names.end() ? it->second : "a socket of family " + std::to_string(family);
}

// A name as sock_diag or recvmsg give it; a path's trailing NUL, which the kernel keeps in
// the address length, dropped.
std::string name_from(const char* bytes, std::size_t len) {
  std::string name(bytes, len);
  if (!name.empty() && name[0] != '\0') name.resize(std::strlen(name.c_str()));
  return name;
}

std::string described(const UnixSocketImage& s) {
  std::string what = "the unix " + type_name(s.type) + " socket " + std::to_string(s.ino);
  if (!s.name.empty()) what += " (" + printable_name(s.name) + ")";
  return what;
}

std::int64_t usec(const timeval& tv) {
  return static_cast<std::int64_t>(tv.tv_sec) * 1000000 + tv.tv_usec;
}

// The process's own peek offset, put back however the peeks end: it belongs to the socket,
// which ckpt's copy shares.
class PeekOffsetKept {
 public:
  PeekOffsetKept(int fd, const std::string& what)
      : fd_(fd), what_(what), saved_(get_socket_option<int>(fd, SOL_SOCKET, SO_PEEK_OFF, what)) {}
  PeekOffsetKept(const PeekOffsetKept&) = delete;
  PeekOffsetKept& operator=(const PeekOffsetKept&) = delete;
  ~PeekOffsetKept() {
    if (!put_back_) ::setsockopt(fd_, SOL_SOCKET, SO_PEEK_OFF, &saved_, sizeof saved_);
  }
  void put_back() {
    put_back_ = true;
    if (::setsockopt(fd_, SOL_SOCKET, SO_PEEK_OFF, &saved_, sizeof saved_) != 0)
      throw_errno("putting back the peek offset of " + what_);
  }

 private:
  int fd_;
  const std::string& what_;
  int saved_;
  bool put_back_ = false;
};

// What one peek at a queue found: its bytes (in the buffer), the sender's address and ckpt's
// duplicates of the descriptors in flight with them.
struct Peeked {
  ssize_t length = -1;  ///< -1: nothing queued from the offset on.
  std::string sender;
  std::vector<UniqueFd> fds;
};

Peeked peek_at(int fd, int offset, std::vector<std::uint8_t>& buf, const std::string& what) {
  if (::setsockopt(fd, SOL_SOCKET, SO_PEEK_OFF, &offset, sizeof offset) != 0)
    throw_errno("setting the peek offset of " + what);
  sockaddr_un from{};
  // SCM_MAX_FD descriptors, beside credentials (SO_PASSCRED) or a security label.
  alignas(cmsghdr) char control[CMSG_SPACE(sizeof(int) * 253) + 1024];
  iovec iov{buf.data(), buf.size()};
  msghdr msg{};
  msg.msg_name = &from;
  msg.msg_namelen = sizeof from;
  msg.msg_iov = &iov;
  msg.msg_iovlen = 1;
  msg.msg_control = control;
  msg.msg_controllen = sizeof control;
  Peeked p;
  p.length = ::recvmsg(fd, &msg, MSG_PEEK | MSG_DONTWAIT | MSG_TRUNC | MSG_CMSG_CLOEXEC);
  if (p.length < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) return {};
  if (p.length < 0) throw_errno("peeking at the queue of " + what);
  for (cmsghdr* c = CMSG_FIRSTHDR(&msg); c != nullptr; c = CMSG_NXTHDR(&msg, c)) {
    if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS) continue;
    const std::size_t count = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
    for (std::size_t i = 0; i < count; ++i) {
      int passed = -1;
      std::memcpy(&passed, CMSG_DATA(c) + i * sizeof(int), sizeof passed);
      p.fds.emplace_back(passed);
    }
  }
  if ((msg.msg_flags & MSG_CTRUNC) != 0)
    throw CkptError(CkptError::kSystem,
                    "peeking at the queue of " + what +
                        ": the kernel could not give ckpt every descriptor in flight in it; is "
                        "ckpt at its limit of open files (ulimit -n)?");
  if (msg.msg_namelen > offsetof(sockaddr_un, sun_path))
    p.sender = name_from(from.sun_path, msg.msg_namelen - offsetof(sockaddr_un, sun_path));
  return p;
}

// The bytes queued to the socket behind fd, peeked from offset 0 on so that they stay
// queued, and the descriptors in flight with them, handed to add_file with here (the socket
// and the process holding it). One entry per datagram or record; for a stream one per run of
// bytes that ends with a message carrying descriptors, since a peek goes on through bytes
// without any up to the end of such a message (where that message starts does not show), and
// one for the bytes after the last.
std::vector<QueuedImage> peek_queue(int fd, const UnixSocketImage& s,
                                    const UnixSocketTable::Queue& here, bool in_flight,
                                    PagesWriter& data,
                                    const UnixSocketTable::InFlightAdder& add_file) {
  const std::string& what = here.what;
  PeekOffsetKept kept(fd, what);
  std::vector<QueuedImage> queue;
  std::vector<std::uint8_t> buf(256 * 1024);
  int offset = 0;
  for (;;) {
    Peeked p = peek_at(fd, offset, buf, what);
    if (p.length < 0) break;
    const auto n = static_cast<std::size_t>(p.length);
    // A stream's end of data, or a record socket shut for reading that has no more; a
    // zero-length datagram otherwise, which the kernel skips at the next peek.
    if (n == 0 && (s.type == SOCK_STREAM || (s.shutdown & kRcvShutdown) != 0)) break;
    // A datagram longer than buf (MSG_TRUNC gives its length), or bytes that fill buf before
    // the end of the stream's message carrying the descriptors.
    if (n > buf.size() || (s.type == SOCK_STREAM && !p.fds.empty() && n == buf.size())) {
      buf.resize(std::max(n, 2 * buf.size()));
      continue;
    }
    if (in_flight && !p.fds.empty())
      throw CkptError(CkptError::kUnsupported,
                      what +
                          " has descriptors in flight in its own queue: ckpt cannot checkpoint "
                          "descriptors in flight inside one in flight yet; dump once they are "
                          "received");
    QueuedImage q;
    q.offset = data.size();
    q.length = n;
    if (s.type == SOCK_DGRAM) q.sender = p.sender;
    data.append(std::span(buf.data(), n));
    for (UniqueFd& passed : p.fds)
      q.files.push_back(add_file(std::move(passed), here));
    const bool run_goes_on = s.type == SOCK_STREAM && !queue.empty() &&
                             queue.back().files.empty() && q.files.empty() &&
                             queue.back().offset + queue.back().length == q.offset;
    if (run_goes_on)
      queue.back().length += q.length;
    else
      queue.push_back(std::move(q));
    offset += static_cast<int>(n);
  }
  kept.put_back();
  return queue;
}

// The state ckpt reads through its copy of the socket behind pid's fd: options, queued
// bytes and the descriptors in flight with them. queue: the socket as messages name it, and
// the process holding it.
void read_through_copy(pid_t pid, int fd, const UnixSocketTable::Queue& queue, bool in_flight,
                       UnixSocketImage& s, PagesWriter& data,
                       const UnixSocketTable::InFlightAdder& add_file) {
  const std::string& what = queue.what;
  UniqueFd copy = copy_task_fd(pid, fd);
  s.sndbuf = get_socket_option<int>(copy.get(), SOL_SOCKET, SO_SNDBUF, what);
  s.rcvbuf = get_socket_option<int>(copy.get(), SOL_SOCKET, SO_RCVBUF, what);
  s.passcred = get_socket_option<int>(copy.get(), SOL_SOCKET, SO_PASSCRED, what) != 0;
  s.peek_off = get_socket_option<int>(copy.get(), SOL_SOCKET, SO_PEEK_OFF, what);
  s.rcvtimeo_usec = usec(get_socket_option<timeval>(copy.get(), SOL_SOCKET, SO_RCVTIMEO, what));
  s.sndtimeo_usec = usec(get_socket_option<timeval>(copy.get(), SOL_SOCKET, SO_SNDTIMEO, what));
  if (s.state != "listening") s.queue = peek_queue(copy.get(), s, queue, in_flight, data, add_file);
}

// holder: "process P has fd N on", or where a socket in flight was found.
[[noreturn]] void refuse_other_socket(pid_t pid, int fd, const std::string& holder) {
  UniqueFd copy = copy_task_fd(pid, fd);
  const std::string what = fd_name(pid, fd);
  const int family = get_socket_option<int>(copy.get(), SOL_SOCKET, SO_DOMAIN, what);
  const int type = get_socket_option<int>(copy.get(), SOL_SOCKET, SO_TYPE, what);
  throw CkptError(CkptError::kUnsupported,
                  holder + " " + family_name(family) + " (" + type_name(type) +
                      "), which ckpt cannot checkpoint yet (it can: unix sockets of the tree's "
                      "network namespace)");
}

// Whether the bound file at path (its name seen through the binding process's root, in its
// mount namespace) still is the socket's (the kernel's dev_t is major<<20|minor).
bool file_is_gone(const std::string& path, const UnixDiag& d) {
  struct stat st {};
  if (::lstat(path.c_str(), &st) != 0) return true;
  return st.st_ino != d.vfs_ino || major(st.st_dev) != (d.vfs_dev >> 20) ||
         minor(st.st_dev) != (d.vfs_dev & 0xfffff);
}

}  // namespace

std::string printable_name(const std::string& name) {
  if (name.empty() || name[0] != '\0') return name;
  std::string out = "@";
  for (char c : name.substr(1))
    out += c == '\0' ? '@' : c;
  return out;
}

int UnixSocketTable::add(pid_t pid, int fd, std::uint32_t ino, const Queue* in_flight) {
  held_.push_back({pid, fd, ino, in_flight != nullptr ? std::optional(*in_flight) : std::nullopt});
  return static_cast<int>(held_.size() - 1);
}

std::string UnixSocketTable::Held::name() const {
  return in_flight ? "a socket in flight in the queue of " + in_flight->what : fd_name(pid, fd);
}

pid_t UnixSocketTable::Held::root_pid() const {
  return in_flight ? in_flight->owner : pid;
}

std::vector<UnixSocketImage> UnixSocketTable::read(PagesWriter& data,
                                                   const InFlightAdder& add_file) {
  if (held_.empty()) return {};
  const std::map<std::uint32_t, UnixDiag> diag = list_unix_sockets();
  std::vector<const UnixDiag*> found;
  std::vector<UnixSocketImage> out;
  // Sockets found in flight in a queue join held_ meanwhile and are read in turn; a copy of
  // each entry, as held_ grows.
  for (std::size_t i = 0; i < held_.size(); ++i) {
    const Held h = held_[i];
    auto it = diag.find(h.ino);
    if (it == diag.end())
      refuse_other_socket(h.pid, h.fd,
                          h.in_flight ? "the queue of " + h.in_flight->what + " holds in flight"
                                      : "process " + std::to_string(h.pid) + " has fd " +
                                            std::to_string(h.fd) + " on");
    const UnixDiag& d = it->second;
    found.push_back(&d);
    UnixSocketImage& s = out.emplace_back();
    s.ino = d.ino;
    s.type = d.type;
    s.name = name_from(d.name.data(), d.name.size());
    const std::string what = h.name() + ", " + described(s);
    if (d.type != SOCK_STREAM && d.type != SOCK_DGRAM && d.type != SOCK_SEQPACKET)
      throw CkptError(CkptError::kUnsupported, what + " is of a type ckpt cannot make again");
    // A datagram socket that another connect()ed to is TCP_ESTABLISHED too, though it has no
    // peer of its own.
    if (d.state == TCP_LISTEN)
      s.state = "listening";
    else if (d.type == SOCK_DGRAM ? d.has_peer : d.state == TCP_ESTABLISHED)
      s.state = "connected";
    else
      s.state = "unconnected";
    if (!s.name.empty() && s.name[0] != '\0' && s.name[0] != '/')
      throw CkptError(CkptError::kUnsupported,
                      what +
                          " is bound to a relative path, which ckpt cannot bind again yet: "
                          "bind it to an absolute path or an abstract name");
    s.deleted = !s.name.empty() && s.name[0] == '/' &&
                file_is_gone(proc_path(h.root_pid(), "root") + s.name, d);
    s.shutdown = d.shutdown;
    if (s.state == "listening") s.backlog = static_cast<int>(d.wqueue);
    read_through_copy(h.pid, h.fd, {what, h.root_pid()}, h.in_flight.has_value(), s, data,
                      add_file);
  }
  std::map<std::uint32_t, int> index;
  for (std::size_t i = 0; i < held_.size(); ++i)
    index[held_[i].ino] = static_cast<int>(i);
  // The connections waiting in each listener's queue, in order. sock_diag names each by its
  // client (the waiting socket has no inode until accepted), whose unread bytes sit in it.
  for (std::size_t l = 0; l < held_.size(); ++l) {
    for (std::uint32_t client_ino : found[l]->icons) {
      const std::string what = held_[l].name() + ", " + described(out[l]);
      auto client = index.find(client_ino);
      if (client == index.end() || client->second >= static_cast<int>(held_.size()))
        throw CkptError(CkptError::kUnsupported,
                        what +
                            " has a connection waiting from a socket outside the tree, "
                            "which ckpt cannot connect again: dump once it is accepted");
      const auto c = static_cast<std::size_t>(client->second);
      if (found[c]->wqueue != 0)
        throw CkptError(CkptError::kUnsupported,
                        what +
                            " has a connection waiting with bytes its client sent, which "
                            "ckpt cannot read without accepting it: dump once the server "
                            "has accepted it");
      UnixSocketImage embryo;
      embryo.type = out[l].type;
      embryo.state = "connected";
      embryo.name = out[l].name;
      embryo.deleted = out[l].deleted;
      embryo.listener = static_cast<int>(l);
      embryo.peer = client->second;
      out[c].peer = static_cast<int>(out.size());
      out.push_back(embryo);
    }
  }
  for (std::size_t i = 0; i < found.size(); ++i) {
    const UnixDiag& d = *found[i];
    UnixSocketImage& s = out[i];
    const std::string what = held_[i].name() + ", " + described(s);
    // A client whose connection waits in a listener's queue has its peer from above.
    if (s.peer < 0 && d.peer != 0) {
      if (auto p = index.find(d.peer); p != index.end()) {
        s.peer = p->second;
      } else {
        auto outside = diag.find(d.peer);
        const std::string peer_name =
            outside == diag.end()
                ? ""
                : name_from(outside->second.name.data(), outside->second.name.size());
        if (s.type != SOCK_DGRAM || peer_name.empty())
          throw CkptError(CkptError::kUnsupported,
                          what + " is connected to socket " + std::to_string(d.peer) +
                              (peer_name.empty() ? "" : " (" + printable_name(peer_name) + ")") +
                              " outside the tree, which ckpt cannot connect again: dump the "
                              "process holding it with this one");
        s.peer_name = peer_name;
      }
    }
  }
  // An unnamed datagram socket can only be sent to through a socketpair it is one end of.
  for (std::size_t i = 0; i < found.size(); ++i) {
    const UnixSocketImage& s = out[i];
    const bool peer_gone = s.state == "connected" && s.peer < 0 && s.peer_name.empty();
    const bool mutual =
        s.peer >= 0 && out[static_cast<std::size_t>(s.peer)].peer == static_cast<int>(i);
    if (s.type == SOCK_DGRAM && !s.queue.empty() && s.name.empty() && !peer_gone && !mutual)
      throw CkptError(CkptError::kUnsupported,
                      held_[i].name() + ", " + described(s) +
                          " has datagrams queued but no name, so no restored socket could "
                          "send them to it again");
  }
  return out;
}

namespace {

sockaddr_un address_of(const std::string& name, socklen_t* len) {
  sockaddr_un a{};
  a.sun_family = AF_UNIX;
  std::memcpy(a.sun_path, name.data(), name.size());
  // A path's length counts its NUL, as the kernel keeps it; an abstract name is its bytes.
  *len = static_cast<socklen_t>(offsetof(sockaddr_un, sun_path) + name.size() +
                                (name[0] == '\0' ? 0 : 1));
  return a;
}

// A path holds a socket file no socket is bound to any more (its process exited): connecting
// to it is refused whatever the socket's type, where a live one of another type answers
// EPROTOTYPE.
bool stale_socket_file(const std::string& path) {
  struct stat st {};
  if (path[0] != '/' || ::lstat(path.c_str(), &st) != 0 || !S_ISSOCK(st.st_mode)) return false;
  UniqueFd probe(::socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0));
  socklen_t len = 0;
  sockaddr_un a = address_of(path, &len);
  return probe && ::connect(probe.get(), reinterpret_cast<sockaddr*>(&a), len) != 0 &&
         errno == ECONNREFUSED;
}

void bind_name(int fd, const std::string& name, const std::string& what) {
  socklen_t len = 0;
  sockaddr_un a = address_of(name, &len);
  if (::bind(fd, reinterpret_cast<sockaddr*>(&a), len) == 0) return;
  const int err = errno;
  if (err == EADDRINUSE && stale_socket_file(name) && ::unlink(name.c_str()) == 0 &&
      ::bind(fd, reinterpret_cast<sockaddr*>(&a), len) == 0)
    return;
  errno = err;
  if (err == EADDRINUSE)
    throw CkptError(CkptError::kSystem,
                    "binding " + what + " again: " + printable_name(name) +
                        " is taken by a live socket or a file that is not a socket; stop its "
                        "process or remove the file");
  throw_errno("binding " + what + " to " + printable_name(name) + " again");
}

void connect_to(int fd, const std::string& name, const std::string& what) {
  socklen_t len = 0;
  sockaddr_un a = address_of(name, &len);
  if (::connect(fd, reinterpret_cast<sockaddr*>(&a), len) == 0) return;
  if (errno == EAGAIN)
    throw CkptError(CkptError::kSystem, "connecting " + what + " to " + printable_name(name) +
                                            " again: the listener's queue is full");
  throw_errno("connecting " + what + " to " + printable_name(name) + " again");
}

timeval timeval_of(std::int64_t usec) {
  return {static_cast<time_t>(usec / 1000000), static_cast<suseconds_t>(usec % 1000000)};
}

void apply_options(int fd, const UnixSocketImage& s) {
  const std::string what = described(s);
  // getsockopt reports twice what setsockopt was given; *BUFFORCE passes the limits, as the
  // process may have been allowed more than ckpt's defaults.
  for (auto [option, force, value] : {std::tuple{SO_SNDBUF, SO_SNDBUFFORCE, s.sndbuf},
                                      std::tuple{SO_RCVBUF, SO_RCVBUFFORCE, s.rcvbuf}}) {
    if (value == 0) continue;
    const int half = value / 2;
    if (::setsockopt(fd, SOL_SOCKET, force, &half, sizeof half) != 0)
      set_socket_option(fd, SOL_SOCKET, option, half, what);
  }
  const int passcred = s.passcred ? 1 : 0;
  set_socket_option(fd, SOL_SOCKET, SO_PASSCRED, passcred, what);
  if (s.peek_off >= 0) set_socket_option(fd, SOL_SOCKET, SO_PEEK_OFF, s.peek_off, what);
  const timeval rcv = timeval_of(s.rcvtimeo_usec), snd = timeval_of(s.sndtimeo_usec);
  set_socket_option(fd, SOL_SOCKET, SO_RCVTIMEO, rcv, what);
  set_socket_option(fd, SOL_SOCKET, SO_SNDTIMEO, snd, what);
}

std::string with_passed(std::size_t bytes, const std::vector<int>& passed) {
  std::string what = std::to_string(bytes) + " bytes";
  if (!passed.empty()) what += " with " + std::to_string(passed.size()) + " descriptors in flight";
  return what;
}

// A stream's or record's bytes; the descriptors go with the first part sent.
void send_all(int fd, std::span<const std::uint8_t> bytes, std::vector<int> passed,
              const std::string& what) {
  do {
    ssize_t n = send_message(fd, bytes, passed);
    if (n < 0)
      throw_errno("queueing " + with_passed(bytes.size(), passed) + " to " + what +
                  " again (its peer's send buffer or its queue is full)");
    passed.clear();
    bytes = bytes.subspan(static_cast<std::size_t>(n));
  } while (!bytes.empty());
}

// Makes the sockets in phases: each socket with its name (listeners listening); connections
// through listeners, accepted ones first so that pending ones stay queued in order; queued
// bytes, sent by each socket's peer; datagram sockets connected; shutdowns.
class SocketMaker {
 public:
  SocketMaker(const std::vector<UnixSocketImage>& s, std::span<const std::uint8_t> data,
              InFlightFiles in_flight)
      : s_(s),
        data_(data),
        in_flight_(in_flight),
        fd_(s.size()),
        gone_peer_(s.size()),
        paired_(s.size()) {}

  std::vector<UniqueFd> make() {
    for (std::size_t i = 0; i < s_.size(); ++i)
      make_one(i);
    connect_through_listeners();
    for (std::size_t i = 0; i < s_.size(); ++i)
      refill(i);
    for (std::size_t i = 0; i < s_.size(); ++i) {
      const UnixSocketImage& s = s_[i];
      if (s.type != SOCK_DGRAM || paired_[i]) continue;
      if (s.peer >= 0) connect_to(fd(i), s_[static_cast<std::size_t>(s.peer)].name, described(s));
      if (!s.peer_name.empty()) connect_to(fd(i), s.peer_name, described(s));
    }
    for (std::size_t i = 0; i < s_.size(); ++i) {
      const int how = s_[i].shutdown == (kRcvShutdown | kSendShutdown) ? SHUT_RDWR
                      : s_[i].shutdown == kSendShutdown                ? SHUT_WR
                                                                       : SHUT_RD;
      if (s_[i].shutdown != 0 && fd_[i] && !gone_peer_[i] && ::shutdown(fd(i), how) != 0)
        throw_errno("shutting " + described(s_[i]) + " again");
    }
    temp_listeners_.clear();
    gone_peer_.clear();
    for (const UnixSocketImage& s : s_) {
      if (s.deleted) ::unlink(s.name.c_str());
    }
    return std::move(fd_);
  }

 private:
  int fd(std::size_t i) const { return fd_[i].get(); }
  const UnixSocketImage& peer_of(std::size_t i) const {
    return s_[static_cast<std::size_t>(s_[i].peer)];
  }

  UniqueFd new_socket(const UnixSocketImage& s, int extra = 0) {
    UniqueFd fd(::socket(AF_UNIX, s.type | SOCK_CLOEXEC | extra, 0));
    if (!fd) throw_errno("making " + described(s) + " again");
    apply_options(fd.get(), s);
    if (!s.name.empty() && s.listener < 0 && !via_listener(s))
      bind_name(fd.get(), s.name, described(s));
    return fd;
  }

  void socket_pair(std::size_t a, std::size_t b) {
    int ends[2];
    if (::socketpair(AF_UNIX, s_[a].type | SOCK_CLOEXEC, 0, ends) != 0)
      throw_errno("making " + described(s_[a]) + " again");
    fd_[a].reset(ends[0]);
    fd_[b].reset(ends[1]);
    paired_[a] = paired_[b] = true;
    apply_options(ends[0], s_[a]);
    apply_options(ends[1], s_[b]);
    if (!s_[a].name.empty()) bind_name(ends[0], s_[a].name, described(s_[a]));
    if (!s_[b].name.empty()) bind_name(ends[1], s_[b].name, described(s_[b]));
  }

  // The listener a connected stream or seqpacket socket was accepted from, whose name it
  // shares: the image's own, or, when it is closed, one ckpt makes for the time of the restore.
  std::optional<std::size_t> listener_for(const UnixSocketImage& s) const {
    if (s.name.empty()) return std::nullopt;
    for (std::size_t l = 0; l < s_.size(); ++l) {
      if (s_[l].state == "listening" && s_[l].type == s.type && s_[l].name == s.name) return l;
    }
    return std::nullopt;
  }
  // Whether s is the accepted end of a connection, made by accept() rather than bound.
  bool via_listener(const UnixSocketImage& s) const {
    if (s.state != "connected" || s.type == SOCK_DGRAM || s.peer < 0 || s.name.empty() ||
        s.listener >= 0)
      return false;
    const UnixSocketImage& p = s_[static_cast<std::size_t>(s.peer)];
    if (p.listener >= 0) return false;
    if (listener_for(s)) return true;
    return !listener_for(p) && p.name.empty();
  }

  void make_one(std::size_t i) {
    const UnixSocketImage& s = s_[i];
    if (fd_[i] || s.listener >= 0 || via_listener(s)) return;
    if (s.state == "connected" && s.peer < 0 && s.peer_name.empty()) {
      // Its peer was closed: a socketpair whose other end refills the queue, then goes.
      int ends[2];
      if (::socketpair(AF_UNIX, s.type | SOCK_CLOEXEC, 0, ends) != 0)
        throw_errno("making " + described(s) + " again");
      fd_[i].reset(ends[0]);
      gone_peer_[i].reset(ends[1]);
      paired_[i] = true;
      apply_options(ends[0], s);
      if (!s.name.empty()) bind_name(ends[0], s.name, described(s));
      const int big = 16 << 20;
      ::setsockopt(ends[1], SOL_SOCKET, SO_SNDBUFFORCE, &big, sizeof big);
      return;
    }
    if (s.state == "connected" && s.peer >= 0) {
      const UnixSocketImage& p = peer_of(i);
      const auto peer = static_cast<std::size_t>(s.peer);
      if (p.listener >= 0 || via_listener(p)) return;  // Connected through a listener.
      const bool mutual = p.peer == static_cast<int>(i);
      if (s.type != SOCK_DGRAM || (mutual && (s.name.empty() || p.name.empty()))) {
        socket_pair(i, peer);
        return;
      }
    }
    fd_[i] = new_socket(s);
    if (s.state == "listening" && ::listen(fd(i), s.backlog) != 0)
      throw_errno("making " + described(s) + " listen again");
  }

  int listener_fd(const UnixSocketImage& accepted) {
    if (auto l = listener_for(accepted)) return fd(*l);
    auto& temp = temp_listeners_[{accepted.type, accepted.name}];
    if (!temp) {
      temp = UniqueFd(::socket(AF_UNIX, accepted.type | SOCK_CLOEXEC, 0));
      if (!temp) throw_errno("making a listener for " + described(accepted));
      bind_name(temp.get(), accepted.name, described(accepted));
      if (::listen(temp.get(), SOMAXCONN) != 0) throw_errno("listen");
    }
    return temp.get();
  }

  void connect_through_listeners() {
    for (std::size_t b = 0; b < s_.size(); ++b) {
      if (!via_listener(s_[b])) continue;
      const auto a = static_cast<std::size_t>(s_[b].peer);
      const int listener = listener_fd(s_[b]);
      fd_[a] = new_socket(s_[a], SOCK_NONBLOCK);
      connect_to(fd(a), s_[b].name, described(s_[a]));
      fd_[b] = UniqueFd(::accept4(listener, nullptr, nullptr, SOCK_CLOEXEC));
      if (!fd_[b]) throw_errno("accepting " + described(s_[b]) + " again");
      apply_options(fd(b), s_[b]);
    }
    // Pending connections last, so each listener's queue holds just them, in order.
    for (std::size_t e = 0; e < s_.size(); ++e) {
      if (s_[e].listener < 0) continue;
      const auto client = static_cast<std::size_t>(s_[e].peer);
      fd_[client] = new_socket(s_[client], SOCK_NONBLOCK);
      connect_to(fd(client), s_[static_cast<std::size_t>(s_[e].listener)].name,
                 described(s_[client]));
    }
    for (std::size_t i = 0; i < s_.size(); ++i) {
      if (fd_[i] && ::fcntl(fd(i), F_SETFL, 0) != 0) throw_errno("fcntl");
    }
  }

  // Where a datagram to socket i from sender is sent from. Through the connection when i has
  // no name to send to (a socketpair) or the sender is its peer; else from the image's socket
  // of that name, or one ckpt binds to it for the time of the send, to i's name.
  struct Sender {
    int fd = -1;
    bool connected = false;
    UniqueFd temp;
  };
  Sender datagram_sender(std::size_t i, const std::string& sender) {
    const UnixSocketImage& s = s_[i];
    const int peer = s.peer >= 0 ? fd(static_cast<std::size_t>(s.peer)) : gone_peer_[i].get();
    if (paired_[i] && (s.name.empty() || (s.peer >= 0 ? peer_of(i).name : "") == sender))
      return {peer, true, {}};
    if (s.name.empty())
      throw CkptError(CkptError::kBadImage,
                      "files.json: " + described(s) + " has datagrams queued but no name nor peer");
    for (std::size_t j = 0; j < s_.size(); ++j) {
      if (!sender.empty() && s_[j].name == sender && s_[j].type == SOCK_DGRAM && fd_[j])
        return {fd(j), false, {}};
    }
    UniqueFd temp(::socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0));
    if (!temp) throw_errno("making a socket to send the queue of " + described(s));
    if (!sender.empty())
      bind_name(temp.get(), sender, "the sender of a datagram to " + described(s));
    const int from = temp.get();
    return {from, false, std::move(temp)};
  }

  // ckpt's descriptors on the files q carries in flight, every socket being made by now.
  std::vector<int> passed_with(const QueuedImage& q, const std::string& what) const {
    std::vector<int> passed;
    for (int file : q.files) {
      const auto f = static_cast<std::size_t>(file);
      int fd = -1;
      if (file >= 0 && f < in_flight_.files.size() && f < in_flight_.fds.size()) {
        const FileImage& image = in_flight_.files[f];
        const auto socket = static_cast<std::size_t>(image.socket);
        fd = image.kind != "unix"  ? in_flight_.fds[f]
             : socket < fd_.size() ? fd_[socket].get()
                                   : -1;
      }
      if (fd < 0)
        throw CkptError(CkptError::kBadImage, "files.json: a message queued to " + what +
                                                  " carries file " + std::to_string(file) +
                                                  ", which ckpt has not made");
      passed.push_back(fd);
    }
    return passed;
  }

  void refill(std::size_t i) {
    const UnixSocketImage& s = s_[i];
    if (s.queue.empty()) return;
    const std::string what = described(s);
    if (s.type != SOCK_DGRAM) {
      const int from = s.peer >= 0 ? fd(static_cast<std::size_t>(s.peer)) : gone_peer_[i].get();
      for (const QueuedImage& q : s.queue)
        send_all(from, data_.subspan(q.offset, q.length), passed_with(q, what), what);
      return;
    }
    for (const QueuedImage& q : s.queue) {
      Sender from = datagram_sender(i, q.sender);
      const auto bytes = data_.subspan(q.offset, q.length);
      const std::vector<int> passed = passed_with(q, what);
      socklen_t len = 0;
      sockaddr_un to{};
      if (!from.connected) to = address_of(s.name, &len);
      if (send_message(from.fd, bytes, passed, from.connected ? nullptr : &to, len) !=
          static_cast<ssize_t>(bytes.size()))
        throw_errno("queueing a datagram of " + with_passed(bytes.size(), passed) + " to " + what +
                    " again");
      if (from.temp && !q.sender.empty() && q.sender[0] == '/') ::unlink(q.sender.c_str());
    }
  }

  const std::vector<UnixSocketImage>& s_;
  std::span<const std::uint8_t> data_;
  InFlightFiles in_flight_;
  std::vector<UniqueFd> fd_;
  std::vector<UniqueFd> gone_peer_;  ///< The other end of a socket whose peer was closed.
  std::vector<bool> paired_;         ///< Made by socketpair(), so already connected.
  std::map<std::pair<int, std::string>, UniqueFd> temp_listeners_;
};

}  // namespace

void check_unix_sockets(const FilesImage& files, std::size_t data_size) {
  auto bad = [](const std::string& what) {
    throw CkptError(CkptError::kBadImage, "files.json: " + what);
  };
  const auto count = static_cast<int>(files.sockets.size());
  for (const FileImage& f : files.files) {
    if ((f.kind == "unix") != (f.socket >= 0) || f.socket >= count)
      bad("file " + f.path + " names socket " + std::to_string(f.socket));
  }
  for (const UnixSocketImage& s : files.sockets) {
    const std::string what = described(s);
    if (s.type != SOCK_STREAM && s.type != SOCK_DGRAM && s.type != SOCK_SEQPACKET)
      bad(what + " has an unknown type");
    if (s.state != "listening" && s.state != "connected" && s.state != "unconnected")
      bad(what + " has an unknown state " + s.state);
    if (s.peer >= count || s.listener >= count ||
        (s.listener >= 0 &&
         (files.sockets[static_cast<std::size_t>(s.listener)].state != "listening" || s.peer < 0)))
      bad(what + " names a peer or listener that is not in the image");
    if (s.name.size() >= sizeof(sockaddr_un::sun_path) ||
        s.peer_name.size() >= sizeof(sockaddr_un::sun_path))
      bad(what + " has a name longer than a socket address holds");
    for (const QueuedImage& q : s.queue) {
      if (q.offset > data_size || q.length > data_size - q.offset)
        bad("the queue of " + what + " lies outside files-data.img");
      for (int file : q.files) {
        // An epoll's watches belong to a process, a TCP or UDP socket is made after these.
        if (file < 0 || file >= static_cast<int>(files.files.size()) ||
            files.files[static_cast<std::size_t>(file)].kind == "epoll" ||
            files.files[static_cast<std::size_t>(file)].kind == "inet")
          bad("a message queued to " + what + " carries file " + std::to_string(file) +
              ", which is not in the image or cannot be in flight");
      }
    }
  }
}

std::vector<UniqueFd> make_unix_sockets(const std::vector<UnixSocketImage>& sockets,
                                        std::span<const std::uint8_t> files_data,
                                        InFlightFiles in_flight) {
  return SocketMaker(sockets, files_data, in_flight).make();
}

}  // namespace crossrig::engine
