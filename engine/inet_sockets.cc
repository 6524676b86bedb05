#include "engine/inet_sockets.h"

#include <arpa/inet.h>
#include <linux/sockios.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <vector>

#include "engine/ckpt_error.h"
#include "engine/socket_option.h"
#include "engine/task_fd.h"

namespace crossrig::engine {
namespace {

std::string fd_name(pid_t pid, int fd) {
  return "fd " + std::to_string(fd) + " of process " + std::to_string(pid);
}

std::string endpoint(const std::string& address, int port, int family) {
  return family == AF_INET6 ? "[" + address + "]:" + std::to_string(port)
                            : address + ":" + std::to_string(port);
}

std::string described(const InetSocketImage& s) {
  std::string what = std::string(s.type == SOCK_STREAM ? "TCP" : "UDP") +
                     (s.family == AF_INET6 ? "v6" : "") + " socket " +
                     endpoint(s.address, s.port, s.family);
  if (!s.peer_address.empty()) what += " to " + endpoint(s.peer_address, s.peer_port, s.family);
  return what;
}

// An address and port as text, from getsockname or getpeername.
bool read_address(int fd, bool peer, std::string* address, int* port) {
  sockaddr_storage a{};
  socklen_t len = sizeof a;
  if ((peer ? ::getpeername(fd, reinterpret_cast<sockaddr*>(&a), &len)
            : ::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len)) != 0)
    return false;
  char text[INET6_ADDRSTRLEN] = {};
  if (a.ss_family == AF_INET6) {
    const auto* in6 = reinterpret_cast<const sockaddr_in6*>(&a);
    ::inet_ntop(AF_INET6, &in6->sin6_addr, text, sizeof text);
    *port = ntohs(in6->sin6_port);
  } else {
    const auto* in = reinterpret_cast<const sockaddr_in*>(&a);
    ::inet_ntop(AF_INET, &in->sin_addr, text, sizeof text);
    *port = ntohs(in->sin_port);
  }
  *address = text;
  return true;
}

bool to_sockaddr(int family, const std::string& address, int port, sockaddr_storage* out,
                 socklen_t* len) {
  *out = {};
  if (family == AF_INET6) {
    auto* in6 = reinterpret_cast<sockaddr_in6*>(out);
    in6->sin6_family = AF_INET6;
    in6->sin6_port = htons(static_cast<std::uint16_t>(port));
    *len = sizeof *in6;
    return ::inet_pton(AF_INET6, address.c_str(), &in6->sin6_addr) == 1;
  }
  auto* in = reinterpret_cast<sockaddr_in*>(out);
  in->sin_family = AF_INET;
  in->sin_port = htons(static_cast<std::uint16_t>(port));
  *len = sizeof *in;
  return ::inet_pton(AF_INET, address.c_str(), &in->sin_addr) == 1;
}

// The receive queue's bytes, peeked; fewer than len when they moved meanwhile.
std::vector<std::uint8_t> peek_receive_queue(int fd, std::size_t len, const std::string& what) {
  std::vector<std::uint8_t> bytes(len);
  if (len == 0) return bytes;
  const ssize_t n = ::recv(fd, bytes.data(), len, MSG_PEEK | MSG_DONTWAIT);
  if (n < 0) throw_errno("peeking at the receive queue of " + what);
  bytes.resize(static_cast<std::size_t>(n));
  return bytes;
}

// The send queue, peeked whole: tcp_peek_sndq copies every buffer of it in one call or fails
// (EFAULT) when they do not fit, so the room grows until they do. It may hold other than
// SIOCOUTQ said, when an ACK came between the two (seen on a slow board's 6.1 kernel).
std::vector<std::uint8_t> peek_send_queue(int fd, std::size_t measured, const std::string& what) {
  constexpr std::size_t kSlack = 64 * 1024;
  for (std::size_t room = measured + kSlack; room <= (measured + kSlack) * 16; room *= 2) {
    std::vector<std::uint8_t> bytes(room);
    const ssize_t n = ::recv(fd, bytes.data(), room, MSG_PEEK | MSG_DONTWAIT);
    if (n < 0 && errno != EFAULT) throw_errno("peeking at the send queue of " + what);
    if (n >= 0 && static_cast<std::size_t>(n) < room) {
      bytes.resize(static_cast<std::size_t>(n));
      return bytes;
    }
  }
  throw CkptError(CkptError::kSystem, "the send queue of " + what + " keeps outgrowing the " +
                                          std::to_string(measured) + " bytes SIOCOUTQ reported");
}

// The bytes of a connection's queues as one read found them.
struct QueueBytes {
  std::vector<std::uint8_t> recv, send;
  std::uint64_t unsent = 0;
  bool whole = false;  ///< Both as long as measured just before.
};

// Reads an established connection through ckpt's copy in repair mode: the queues' bytes,
// their sequence numbers and options into s.
QueueBytes read_connection(int fd, InetSocketImage& s, const std::string& what) {
  int outq = 0, unsent = 0, inq = 0;
  QueueBytes q;
  set_socket_option<int>(fd, SOL_TCP, TCP_REPAIR_QUEUE, TCP_RECV_QUEUE, what);
  s.recv_seq = get_socket_option<std::uint32_t>(fd, SOL_TCP, TCP_QUEUE_SEQ, what);
  if (::ioctl(fd, SIOCINQ, &inq) != 0) throw_errno("measuring the receive queue of " + what);
  q.recv = peek_receive_queue(fd, static_cast<std::size_t>(inq), what);
  set_socket_option<int>(fd, SOL_TCP, TCP_REPAIR_QUEUE, TCP_SEND_QUEUE, what);
  s.send_seq = get_socket_option<std::uint32_t>(fd, SOL_TCP, TCP_QUEUE_SEQ, what);
  if (::ioctl(fd, SIOCOUTQ, &outq) != 0) throw_errno("measuring the send queue of " + what);
  q.send = peek_send_queue(fd, static_cast<std::size_t>(outq), what);
  if (::ioctl(fd, SIOCOUTQNSD, &unsent) != 0)
    throw_errno("measuring the unsent part of the send queue of " + what);
  set_socket_option<int>(fd, SOL_TCP, TCP_REPAIR_QUEUE, TCP_NO_QUEUE, what);
  q.unsent = std::min<std::uint64_t>(static_cast<std::uint64_t>(unsent), q.send.size());
  q.whole = q.recv.size() == static_cast<std::size_t>(inq) &&
            q.send.size() == static_cast<std::size_t>(outq);

  const auto info = get_socket_option<tcp_info>(fd, SOL_TCP, TCP_INFO, what);
  s.mss = get_socket_option<std::uint32_t>(fd, SOL_TCP, TCP_MAXSEG, what);
  s.sack = (info.tcpi_options & TCPI_OPT_SACK) != 0;
  s.timestamps = (info.tcpi_options & TCPI_OPT_TIMESTAMPS) != 0;
  if ((info.tcpi_options & TCPI_OPT_WSCALE) != 0) {
    s.snd_wscale = info.tcpi_snd_wscale;
    s.rcv_wscale = info.tcpi_rcv_wscale;
  }
  if (s.timestamps)
    s.timestamp = get_socket_option<std::uint32_t>(fd, SOL_TCP, TCP_TIMESTAMP, what);
  const auto w = get_socket_option<tcp_repair_window>(fd, SOL_TCP, TCP_REPAIR_WINDOW, what);
  s.snd_wl1 = w.snd_wl1;
  s.snd_wnd = w.snd_wnd;
  s.max_window = w.max_window;
  s.rcv_wnd = w.rcv_wnd;
  s.rcv_wup = w.rcv_wup;
  return q;
}

// Where each connection's queues begin and end, as the kernel counts them.
std::vector<std::uint32_t> queue_marks(const std::vector<UniqueFd>& connections) {
  std::vector<std::uint32_t> marks;
  for (const UniqueFd& c : connections) {
    for (int queue : {TCP_RECV_QUEUE, TCP_SEND_QUEUE}) {
      int len = 0;
      std::uint32_t seq = 0;
      socklen_t seq_len = sizeof seq;
      if (::setsockopt(c.get(), SOL_TCP, TCP_REPAIR_QUEUE, &queue, sizeof queue) != 0 ||
          ::getsockopt(c.get(), SOL_TCP, TCP_QUEUE_SEQ, &seq, &seq_len) != 0 ||
          ::ioctl(c.get(), queue == TCP_RECV_QUEUE ? SIOCINQ : SIOCOUTQ, &len) != 0)
        throw_errno("reading the queues of a TCP connection");
      marks.push_back(seq);
      marks.push_back(static_cast<std::uint32_t>(len));
    }
    // With the send queue selected, the kernel would count new bytes as sent without
    // sending them.
    const int none = TCP_NO_QUEUE;
    ::setsockopt(c.get(), SOL_TCP, TCP_REPAIR_QUEUE, &none, sizeof none);
  }
  return marks;
}

// The tree is stopped, but the kernel still moves bytes its connections had queued, as far as
// the peers' windows let it. Both ends of a connection must be read at the same point of its
// stream, or the restore would lose or repeat bytes: wait until no queue moves any more.
void wait_until_still(const std::vector<UniqueFd>& connections, const std::string& first) {
  if (connections.empty()) return;
  constexpr int kTries = 150;  // 20 ms apart: 3 s.
  auto before = queue_marks(connections);
  for (int i = 0; i < kTries; ++i) {
    ::usleep(20000);
    auto now = queue_marks(connections);
    if (now == before) return;
    before = std::move(now);
  }
  throw CkptError(CkptError::kSystem,
                  "the TCP connections of the tree (" + first +
                      ", ...) kept moving bytes for 3 s while the tree was stopped: a peer "
                      "outside the tree is sending; stop it, or dump it with the tree");
}

}  // namespace

InetSocketTable::~InetSocketTable() {
  if (die_) return;
  for (const UniqueFd& fd : repaired_) {
    const int off = TCP_REPAIR_OFF_NO_WP;
    ::setsockopt(fd.get(), SOL_TCP, TCP_REPAIR, &off, sizeof off);
  }
}

int InetSocketTable::add(pid_t pid, int fd) {
  held_.push_back({pid, fd});
  return static_cast<int>(held_.size() - 1);
}

std::vector<InetSocketImage> InetSocketTable::read(PagesWriter& data) {
  std::vector<InetSocketImage> out;
  struct Connection {
    std::size_t index;
    std::string what;
  };
  std::vector<Connection> connections;
  for (const Held& h : held_) {
    UniqueFd copy = copy_task_fd(h.pid, h.fd);
    const int fd = copy.get();
    std::string what = fd_name(h.pid, h.fd);
    InetSocketImage s;
    s.family = get_socket_option<int>(fd, SOL_SOCKET, SO_DOMAIN, what);
    s.type = get_socket_option<int>(fd, SOL_SOCKET, SO_TYPE, what);
    const int protocol = get_socket_option<int>(fd, SOL_SOCKET, SO_PROTOCOL, what);
    if (!((s.type == SOCK_STREAM && protocol == IPPROTO_TCP) ||
          (s.type == SOCK_DGRAM && protocol == IPPROTO_UDP)))
      throw CkptError(CkptError::kUnsupported,
                      what + " is an IP socket of protocol " + std::to_string(protocol) +
                          ", which ckpt cannot checkpoint yet (it can: TCP and UDP)");
    read_address(fd, false, &s.address, &s.port);
    const bool has_peer = read_address(fd, true, &s.peer_address, &s.peer_port);
    what += ", " + described(s);
    if (s.family == AF_INET6)
      s.v6only = get_socket_option<int>(fd, IPPROTO_IPV6, IPV6_V6ONLY, what);
    s.reuseaddr = get_socket_option<int>(fd, SOL_SOCKET, SO_REUSEADDR, what) != 0;
    s.reuseport = get_socket_option<int>(fd, SOL_SOCKET, SO_REUSEPORT, what) != 0;
    s.keepalive = get_socket_option<int>(fd, SOL_SOCKET, SO_KEEPALIVE, what) != 0;
    s.sndbuf = get_socket_option<int>(fd, SOL_SOCKET, SO_SNDBUF, what);
    s.rcvbuf = get_socket_option<int>(fd, SOL_SOCKET, SO_RCVBUF, what);
    if (s.type == SOCK_DGRAM) {
      s.state = has_peer ? "connected" : "unconnected";
      char byte = 0;
      if (::recv(fd, &byte, 1, MSG_PEEK | MSG_DONTWAIT) >= 0)
        throw CkptError(CkptError::kUnsupported,
                        what +
                            " has datagrams queued, which ckpt cannot send it again from "
                            "their senders: dump once they are read");
      out.push_back(s);
      continue;
    }
    s.nodelay = get_socket_option<int>(fd, SOL_TCP, TCP_NODELAY, what) != 0;
    const auto info = get_socket_option<tcp_info>(fd, SOL_TCP, TCP_INFO, what);
    if (info.tcpi_state == TCP_LISTEN) {
      s.state = "listening";
      // A listener's tcp_info counts its accept queue and reports its backlog.
      s.backlog = static_cast<int>(info.tcpi_sacked);
      if (info.tcpi_unacked != 0)
        throw CkptError(CkptError::kUnsupported,
                        what + " has " + std::to_string(info.tcpi_unacked) +
                            " connections waiting to be accepted, which ckpt cannot make "
                            "again: dump once they are accepted");
    } else if (info.tcpi_state == TCP_CLOSE) {
      s.state = "unconnected";
    } else if (info.tcpi_state == TCP_ESTABLISHED) {
      s.state = "established";
      if (!tcp_established_)
        throw CkptError(CkptError::kUnsupported,
                        what +
                            " is an established connection: dump with --tcp-established to "
                            "checkpoint it in repair mode (its peer must then not send to it "
                            "until it is restored, or the connection is reset)");
      set_socket_option<int>(fd, SOL_TCP, TCP_REPAIR, TCP_REPAIR_ON, what);
      repaired_.push_back(std::move(copy));
      connections.push_back({out.size(), what});
    } else {
      throw CkptError(CkptError::kUnsupported,
                      what + " is in TCP state " + std::to_string(info.tcpi_state) +
                          " (closing or connecting), which ckpt cannot make again (it can: "
                          "listening, established and unconnected sockets)");
    }
    out.push_back(s);
  }
  // A window the peer opens (a probe answered) lets the kernel send and free bytes between two
  // reads, even after the queues stood still; both ends must come from one read in which
  // nothing moved, or the restored stream would lose or repeat those bytes.
  const std::string first = connections.empty() ? "" : connections.front().what;
  constexpr int kReads = 5;
  std::vector<QueueBytes> queues;
  for (int attempt = 1;; ++attempt) {
    wait_until_still(repaired_, first);
    const auto before = queue_marks(repaired_);
    queues.clear();
    bool whole = true;
    for (std::size_t i = 0; i < connections.size(); ++i) {
      queues.push_back(
          read_connection(repaired_[i].get(), out[connections[i].index], connections[i].what));
      whole = whole && queues.back().whole;
    }
    if (whole && queue_marks(repaired_) == before) break;
    if (attempt == kReads)
      throw CkptError(
          CkptError::kSystem,
          "the TCP connections of the tree (" + first +
              ", ...) moved bytes while "
              "ckpt read them, " +
              std::to_string(kReads) +
              " times: a peer outside the tree is sending; stop it, or dump it with the "
              "tree");
  }
  for (std::size_t i = 0; i < connections.size(); ++i) {
    InetSocketImage& s = out[connections[i].index];
    s.recv_offset = data.size();
    s.recv_length = queues[i].recv.size();
    data.append(queues[i].recv);
    s.send_offset = data.size();
    s.send_length = queues[i].send.size();
    s.unsent_length = queues[i].unsent;
    data.append(queues[i].send);
  }
  return out;
}

void check_inet_sockets(const FilesImage& files, std::size_t data_size) {
  auto bad = [](const std::string& what) {
    throw CkptError(CkptError::kBadImage, "files.json: " + what);
  };
  const auto count = static_cast<int>(files.inet_sockets.size());
  for (const FileImage& f : files.files) {
    if ((f.kind == "inet") != (f.inet >= 0) || f.inet >= count)
      bad("file " + f.path + " names IP socket " + std::to_string(f.inet));
  }
  for (const InetSocketImage& s : files.inet_sockets) {
    sockaddr_storage a{};
    socklen_t len = 0;
    if ((s.family != AF_INET && s.family != AF_INET6) ||
        (s.type != SOCK_STREAM && s.type != SOCK_DGRAM) ||
        !to_sockaddr(s.family, s.address, s.port, &a, &len) ||
        (!s.peer_address.empty() && !to_sockaddr(s.family, s.peer_address, s.peer_port, &a, &len)))
      bad("an IP socket has a family, type or address ckpt cannot read");
    if (s.state != "listening" && s.state != "established" && s.state != "connected" &&
        s.state != "unconnected")
      bad(described(s) + " has an unknown state " + s.state);
    if (s.recv_offset > data_size || s.recv_length > data_size - s.recv_offset ||
        s.send_offset > data_size || s.send_length > data_size - s.send_offset ||
        s.unsent_length > s.send_length)
      bad("the queues of " + described(s) + " lie outside files-data.img");
  }
}

namespace {

void bind_to(int fd, const InetSocketImage& s, const std::string& what) {
  sockaddr_storage a{};
  socklen_t len = 0;
  to_sockaddr(s.family, s.address, s.port, &a, &len);
  if (::bind(fd, reinterpret_cast<sockaddr*>(&a), len) != 0)
    throw_errno("binding " + what + " again (is its port taken?)");
}

void connect_to_peer(int fd, const InetSocketImage& s, const std::string& what) {
  sockaddr_storage a{};
  socklen_t len = 0;
  to_sockaddr(s.family, s.peer_address, s.peer_port, &a, &len);
  if (::connect(fd, reinterpret_cast<sockaddr*>(&a), len) != 0)
    throw_errno("connecting " + what + " again");
}

// Sends bytes into the queue TCP_REPAIR_QUEUE selected (or onto the wire, out of repair), in
// parts: the receive queue takes each send as one linear buffer.
void send_all(int fd, std::span<const std::uint8_t> bytes, const std::string& what) {
  while (!bytes.empty()) {
    ssize_t n = ::send(fd, bytes.data(), std::min<std::size_t>(bytes.size(), 64 * 1024),
                       MSG_NOSIGNAL | MSG_DONTWAIT);
    if (n <= 0) throw_errno("queueing " + std::to_string(bytes.size()) + " bytes to " + what);
    bytes = bytes.subspan(static_cast<std::size_t>(n));
  }
}

// getsockopt reports twice what was set; *BUFFORCE passes the limits like the process may.
void set_buffers(int fd, const InetSocketImage& s) {
  for (auto [force, value] : {std::pair{SO_SNDBUFFORCE, s.sndbuf}, {SO_RCVBUFFORCE, s.rcvbuf}})
    if (value != 0) set_socket_option<int>(fd, SOL_SOCKET, force, value / 2, described(s));
}

void repair_connection(int fd, const InetSocketImage& s, std::span<const std::uint8_t> data,
                       const std::string& what) {
  set_socket_option<int>(fd, SOL_TCP, TCP_REPAIR, TCP_REPAIR_ON, what);
  // Room for both queues, whatever the kernel had grown the buffers to; the process's sizes
  // come back once the queues are in.
  constexpr int kSlack = 1 << 20;
  set_socket_option<int>(fd, SOL_SOCKET, SO_SNDBUFFORCE, static_cast<int>(s.send_length) + kSlack,
                         what);
  set_socket_option<int>(fd, SOL_SOCKET, SO_RCVBUFFORCE, static_cast<int>(s.recv_length) + kSlack,
                         what);
  bind_to(fd, s, what);
  set_socket_option<int>(fd, SOL_TCP, TCP_REPAIR_QUEUE, TCP_RECV_QUEUE, what);
  set_socket_option<int>(fd, SOL_TCP, TCP_QUEUE_SEQ, static_cast<int>(s.recv_seq - s.recv_length),
                         what);
  set_socket_option<int>(fd, SOL_TCP, TCP_REPAIR_QUEUE, TCP_SEND_QUEUE, what);
  set_socket_option<int>(fd, SOL_TCP, TCP_QUEUE_SEQ, static_cast<int>(s.send_seq - s.send_length),
                         what);
  connect_to_peer(fd, s, what);
  std::vector<tcp_repair_opt> opts = {{TCPOPT_MAXSEG, s.mss}};
  if (s.snd_wscale >= 0)
    opts.push_back({TCPOPT_WINDOW, static_cast<std::uint32_t>(s.snd_wscale) |
                                       static_cast<std::uint32_t>(s.rcv_wscale) << 16});
  if (s.sack) opts.push_back({TCPOPT_SACK_PERMITTED, 0});
  if (s.timestamps) opts.push_back({TCPOPT_TIMESTAMP, 0});
  if (::setsockopt(fd, SOL_TCP, TCP_REPAIR_OPTIONS, opts.data(),
                   static_cast<socklen_t>(opts.size() * sizeof opts[0])) != 0)
    throw_errno("giving " + what + " its TCP options again");
  if (s.timestamps)
    set_socket_option<int>(fd, SOL_TCP, TCP_TIMESTAMP, static_cast<int>(s.timestamp), what);
  set_socket_option<int>(fd, SOL_TCP, TCP_REPAIR_QUEUE, TCP_RECV_QUEUE, what);
  send_all(fd, data.subspan(s.recv_offset, s.recv_length), what);
  set_socket_option<int>(fd, SOL_TCP, TCP_REPAIR_QUEUE, TCP_SEND_QUEUE, what);
  send_all(fd, data.subspan(s.send_offset, s.send_length - s.unsent_length), what);
  set_socket_option<int>(fd, SOL_TCP, TCP_REPAIR_QUEUE, TCP_NO_QUEUE, what);
  const tcp_repair_window w{s.snd_wl1, s.snd_wnd, s.max_window, s.rcv_wnd, s.rcv_wup};
  if (::setsockopt(fd, SOL_TCP, TCP_REPAIR_WINDOW, &w, sizeof w) != 0)
    throw_errno("giving " + what + " its window again");
}

}  // namespace

std::vector<UniqueFd> make_inet_sockets(const std::vector<InetSocketImage>& sockets,
                                        std::span<const std::uint8_t> files_data) {
  std::vector<UniqueFd> out;
  for (const InetSocketImage& s : sockets) {
    const std::string what = described(s);
    const int protocol = s.type == SOCK_STREAM ? IPPROTO_TCP : IPPROTO_UDP;
    UniqueFd fd(::socket(s.family, s.type | SOCK_CLOEXEC, protocol));
    if (!fd) throw_errno("making " + what + " again");
    if (s.family == AF_INET6)
      set_socket_option<int>(fd.get(), IPPROTO_IPV6, IPV6_V6ONLY, s.v6only, what);
    set_socket_option<int>(fd.get(), SOL_SOCKET, SO_REUSEADDR, s.reuseaddr, what);
    set_socket_option<int>(fd.get(), SOL_SOCKET, SO_REUSEPORT, s.reuseport, what);
    set_socket_option<int>(fd.get(), SOL_SOCKET, SO_KEEPALIVE, s.keepalive, what);
    if (s.state != "established") set_buffers(fd.get(), s);
    if (s.type == SOCK_STREAM)
      set_socket_option<int>(fd.get(), SOL_TCP, TCP_NODELAY, s.nodelay, what);
    if (s.state == "established") {
      repair_connection(fd.get(), s, files_data, what);
    } else {
      if (s.port != 0) bind_to(fd.get(), s, what);
      if (s.state == "listening" && ::listen(fd.get(), s.backlog) != 0)
        throw_errno("making " + what + " listen again");
      if (s.state == "connected") connect_to_peer(fd.get(), s, what);
    }
    out.push_back(std::move(fd));
  }
  // Out of repair mode only once every connection exists, so none answers a packet of
  // another with a reset; then the bytes the kernel had not sent yet go out as usual.
  for (std::size_t i = 0; i < sockets.size(); ++i) {
    const InetSocketImage& s = sockets[i];
    if (s.state != "established") continue;
    set_socket_option<int>(out[i].get(), SOL_TCP, TCP_REPAIR, TCP_REPAIR_OFF_NO_WP, described(s));
    send_all(out[i].get(),
             files_data.subspan(s.send_offset + s.send_length - s.unsent_length, s.unsent_length),
             described(s));
    set_buffers(out[i].get(), s);
  }
  return out;
}

}  // namespace crossrig::engine
