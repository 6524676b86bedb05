#include "rig/tftp/tftp_server.h"

#include <fcntl.h>
#include <netinet/in.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>

#include <array>
#include <atomic>
#include <cerrno>
#include <cstring>
#include <mutex>
#include <optional>
#include <stdexcept>
#include <unordered_map>

#include "rig/tftp/tftp_path.h"
#include "rig/tftp/tftp_source.h"
#include "rig/tftp/tftp_transfer.h"

namespace crossrig::rig::tftp {
namespace {

using crossrig::SocketAddress;
using crossrig::UniqueFd;

constexpr std::size_t kBatch = 64;    // DATA blocks per sendmmsg
constexpr int kSendBuffer = 8 << 20;  // a whole 64 x 64 KiB window fits
constexpr std::size_t kReceiveBuffer = kMaxPacket + 1;
constexpr std::uint64_t kReadAhead = 256 << 10;

[[noreturn]] void throw_errno(const std::string& what) {
  throw std::runtime_error(what + ": " + std::strerror(errno));
}

void set_option(int fd, int level, int name, int value) {
  setsockopt(fd, level, name, &value, sizeof value);
}

// Root may raise the buffer above the sysctl ceiling; others get what the ceiling allows.
void grow_buffer(int fd, int force_name, int name, int bytes) {
  if (setsockopt(fd, SOL_SOCKET, force_name, &bytes, sizeof bytes) != 0) {
    set_option(fd, SOL_SOCKET, name, bytes);
  }
}

bool would_block(int err) {
  return err == EAGAIN || err == EWOULDBLOCK || err == EINTR;
}

struct Listener {
  UniqueFd fd;
  SocketAddress address;
};

// One datagram that arrived on a listening socket.
struct Arrival {
  std::span<const std::uint8_t> bytes;
  SocketAddress from;
  SocketAddress to;  // local address it was sent to, port 0
};

struct Transfer {
  UniqueFd fd;
  Source source;
  std::optional<ReadTransfer> machine;
  TransferRecord record;
  Clock::time_point started;
  std::vector<std::uint8_t> control;  // control packet not yet sent
  std::uint64_t next = 0, end = 0;    // DATA blocks not yet sent
  bool polling_out = false;
  bool finished = false;
  std::vector<std::uint8_t> cache;  // file bytes [cache_offset, cache_offset + cache.size())
  std::uint64_t cache_offset = 0;

  // The file's bytes [offset, offset + length), read ahead so that small windows cost no
  // read syscall of their own; nullptr when the file shrank or cannot be read.
  const std::uint8_t* bytes_at(std::uint64_t offset, std::size_t length) {
    static const std::uint8_t kNothing = 0;
    if (length == 0) return &kNothing;  // the empty last block
    if (offset >= cache_offset && offset + length <= cache_offset + cache.size()) {
      return cache.data() + (offset - cache_offset);
    }
    auto want = std::max<std::uint64_t>(length, kReadAhead);
    want = std::min<std::uint64_t>(want, source.size() - offset);
    cache.resize(static_cast<std::size_t>(want));
    cache_offset = offset;
    if (!source.read(offset, cache)) {
      cache.clear();
      return nullptr;
    }
    return cache.data();
  }
};

// The local address a datagram was sent to, from its IP_PKTINFO / IPV6_PKTINFO.
SocketAddress destination_of(msghdr& msg, const SocketAddress& fallback) {
  SocketAddress to = fallback;
  for (cmsghdr* c = CMSG_FIRSTHDR(&msg); c != nullptr; c = CMSG_NXTHDR(&msg, c)) {
    if (c->cmsg_level == IPPROTO_IP && c->cmsg_type == IP_PKTINFO) {
      in_pktinfo info{};
      std::memcpy(&info, CMSG_DATA(c), sizeof info);
      sockaddr_in in{};
      in.sin_family = AF_INET;
      in.sin_addr = info.ipi_spec_dst;
      std::memcpy(&to.storage, &in, sizeof in);
      to.length = sizeof in;
    } else if (c->cmsg_level == IPPROTO_IPV6 && c->cmsg_type == IPV6_PKTINFO) {
      in6_pktinfo info{};
      std::memcpy(&info, CMSG_DATA(c), sizeof info);
      sockaddr_in6 in6{};
      in6.sin6_family = AF_INET6;
      in6.sin6_addr = info.ipi6_addr;
      if (IN6_IS_ADDR_LINKLOCAL(&info.ipi6_addr)) in6.sin6_scope_id = info.ipi6_ifindex;
      std::memcpy(&to.storage, &in6, sizeof in6);
      to.length = sizeof in6;
    }
  }
  if (to.family() == AF_INET) {
    reinterpret_cast<sockaddr_in*>(to.get())->sin_port = 0;
  } else {
    reinterpret_cast<sockaddr_in6*>(to.get())->sin6_port = 0;
  }
  return to;
}

// A socket on a new ephemeral port of the address the client wrote to, talking only to it.
UniqueFd open_reply_socket(const Arrival& a) {
  UniqueFd fd(socket(a.to.family(), SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0));
  if (!fd) throw_errno("socket for a transfer to " + a.from.to_string());
  if (bind(fd.get(), a.to.get(), a.to.length) != 0) {
    throw_errno("bind a transfer socket to " + a.to.to_string());
  }
  if (connect(fd.get(), a.from.get(), a.from.length) != 0) {
    throw_errno("connect a transfer socket to " + a.from.to_string());
  }
  return fd;
}

// What every worker shares: configuration, the root, the listening sockets, the log.
struct Shared {
  ServerConfig config;
  UniqueFd root;
  std::vector<Listener> listeners;
  std::atomic<bool> stopping{false};
  std::mutex log_mutex;

  void log(const TransferRecord& record) {
    if (!config.on_transfer) return;
    std::lock_guard lock(log_mutex);
    config.on_transfer(record);
  }
};

// One thread's event loop: its own epoll, its transfers and their timers. Every worker
// watches the listening sockets (EPOLLEXCLUSIVE, so a request wakes one idle worker) and
// hands each new transfer to the worker with the fewest, so transfers spread over the cores
// and a slow client only ever shares a loop with some of the others.
struct Worker {
  Shared& shared;
  std::vector<std::unique_ptr<Worker>>& all;
  UniqueFd epoll;
  UniqueFd wake;
  std::unordered_map<int, std::unique_ptr<Transfer>> transfers;
  std::atomic<std::size_t> load{0};  // transfers owned or on their way here
  std::mutex inbox_mutex;
  std::vector<std::unique_ptr<Transfer>> inbox;  // handed over by other workers
  std::vector<std::uint8_t> receive_buffer = std::vector<std::uint8_t>(kReceiveBuffer);

  Worker(Shared& s, std::vector<std::unique_ptr<Worker>>& workers) : shared(s), all(workers) {
    epoll.reset(epoll_create1(EPOLL_CLOEXEC));
    if (!epoll) throw_errno("epoll_create1");
    wake.reset(eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC));
    if (!wake) throw_errno("eventfd");
    watch(wake.get(), EPOLLIN);
    for (const auto& l : shared.listeners)
      watch(l.fd.get(), EPOLLIN | EPOLLEXCLUSIVE);
  }

  void watch(int fd, std::uint32_t events) {
    epoll_event ev{};
    ev.events = events;
    ev.data.fd = fd;
    if (epoll_ctl(epoll.get(), EPOLL_CTL_ADD, fd, &ev) != 0) throw_errno("epoll_ctl");
  }

  void wake_up() {
    std::uint64_t one = 1;
    if (write(wake.get(), &one, sizeof one) < 0) one = 0;  // already pending: enough
  }

  void run() {
    std::array<epoll_event, 64> events{};
    while (!shared.stopping.load()) {
      int n = epoll_wait(epoll.get(), events.data(), static_cast<int>(events.size()),
                         milliseconds_to_next_timer());
      if (n < 0 && errno != EINTR) throw_errno("epoll_wait");
      for (int i = 0; i < n; ++i)
        dispatch(events[static_cast<std::size_t>(i)]);
      fire_timers();
      reap();
    }
    adopt_inbox();
    for (auto& [fd, t] : transfers)
      finish(*t, "server stopped");
    transfers.clear();
  }

  void dispatch(const epoll_event& ev) {
    int fd = ev.data.fd;
    if (fd == wake.get()) {
      std::uint64_t count = 0;
      if (read(fd, &count, sizeof count) < 0) count = 0;
      return adopt_inbox();
    }
    for (auto& l : shared.listeners) {
      if (l.fd.get() == fd) return receive_requests(l);
    }
    auto it = transfers.find(fd);
    if (it == transfers.end() || it->second->finished) return;
    Transfer& t = *it->second;
    if (ev.events & (EPOLLIN | EPOLLERR)) receive_packet(t);
    if (!t.finished && (ev.events & EPOLLOUT)) flush(t);
  }

  int milliseconds_to_next_timer() const {
    if (transfers.empty()) return -1;
    auto earliest = Clock::time_point::max();
    for (const auto& [fd, t] : transfers) {
      if (!t->finished) earliest = std::min(earliest, t->machine->deadline());
    }
    if (earliest == Clock::time_point::max()) return 0;
    auto left = std::chrono::ceil<std::chrono::milliseconds>(earliest - Clock::now()).count();
    return static_cast<int>(std::clamp<long long>(left, 0, 60'000));
  }

  void fire_timers() {
    auto now = Clock::now();
    for (auto& [fd, t] : transfers) {
      if (!t->finished && t->machine->deadline() <= now) {
        apply(*t, t->machine->on_timeout(now));
      }
    }
  }

  void reap() {
    load.fetch_sub(std::erase_if(transfers, [](const auto& e) { return e.second->finished; }));
  }

  void receive_requests(Listener& l) {
    // A few per wakeup: the other workers take the rest, and a flood of requests cannot
    // starve running transfers.
    for (int i = 0; i < 8; ++i) {
      sockaddr_storage from{};
      iovec iov{receive_buffer.data(), receive_buffer.size()};
      alignas(cmsghdr) std::array<char, 256> control{};
      msghdr msg{};
      msg.msg_name = &from;
      msg.msg_namelen = sizeof from;
      msg.msg_iov = &iov;
      msg.msg_iovlen = 1;
      msg.msg_control = control.data();
      msg.msg_controllen = control.size();
      ssize_t n = recvmsg(l.fd.get(), &msg, MSG_TRUNC);
      if (n < 0) return;
      Arrival a;
      a.bytes = std::span<const std::uint8_t>(receive_buffer.data(),
                                              std::min(receive_buffer.size(), std::size_t(n)));
      std::memcpy(&a.from.storage, &from, sizeof from);
      a.from.length = msg.msg_namelen;
      SocketAddress wildcard;
      wildcard.storage.ss_family = l.address.storage.ss_family;
      wildcard.length = l.address.length;
      a.to = destination_of(msg, l.address.family() == AF_INET6 ? wildcard : l.address);
      if (auto transfer = accept_request(a)) hand_over(std::move(transfer));
    }
  }

  // To the worker with the fewest transfers, this one when it ties.
  void hand_over(std::unique_ptr<Transfer> transfer) {
    Worker* target = this;
    for (auto& w : all) {
      if (w->load.load() < target->load.load()) target = w.get();
    }
    target->load.fetch_add(1);
    if (target == this) return adopt(std::move(transfer));
    {
      std::lock_guard lock(target->inbox_mutex);
      target->inbox.push_back(std::move(transfer));
    }
    target->wake_up();
  }

  void adopt_inbox() {
    std::vector<std::unique_ptr<Transfer>> arrived;
    {
      std::lock_guard lock(inbox_mutex);
      arrived.swap(inbox);
    }
    for (auto& t : arrived)
      adopt(std::move(t));
  }

  void adopt(std::unique_ptr<Transfer> transfer) {
    watch(transfer->fd.get(), EPOLLIN);
    Transfer& t = *transfer;
    transfers.emplace(t.fd.get(), std::move(transfer));
    auto now = Clock::now();
    t.started = now;
    apply(t, t.machine->start(now));
  }

  void refuse(const Arrival& a, TransferRecord record, ErrorCode code, const std::string& why) {
    record.error = why;
    try {
      UniqueFd fd = open_reply_socket(a);
      auto packet = encode(Error{code, why});
      if (send(fd.get(), packet.data(), packet.size(), 0) < 0) record.error += " (not sent)";
    } catch (const std::runtime_error& e) {
      record.error += std::string(" (not sent: ") + e.what() + ")";
    }
    shared.log(record);
  }

  // A transfer ready to start, or nullptr when the request was refused (and logged).
  std::unique_ptr<Transfer> accept_request(const Arrival& a) {
    const ServerConfig& config = shared.config;
    TransferRecord record;
    record.client = a.from.to_string();
    auto decoded = decode(a.bytes);
    if (const auto* bad = std::get_if<DecodeError>(&decoded)) {
      refuse(a, record, ErrorCode::kIllegalOperation, "malformed request: " + bad->reason);
      return nullptr;
    }
    const auto* request = std::get_if<Request>(&std::get<Packet>(decoded));
    if (request == nullptr) {
      refuse(a, record, ErrorCode::kIllegalOperation, "expected a read request on the server port");
      return nullptr;
    }
    record.file = request->filename;
    if (request->opcode == Opcode::kWrq) {
      refuse(a, record, ErrorCode::kAccessViolation,
             "this server is read-only: write requests are refused");
      return nullptr;
    }
    if (request->mode == "mail") {
      refuse(a, record, ErrorCode::kIllegalOperation, "mail mode is not supported");
      return nullptr;
    }
    auto client = ClientAddress::from_sockaddr(a.from.get());
    Remapped mapped = config.map.apply(client, request->filename);
    if (mapped.refused) {
      refuse(a, record, ErrorCode::kAccessViolation,
             "access denied by map rule on line " + std::to_string(mapped.rule_line));
      return nullptr;
    }
    auto confined = confine(mapped.name);
    if (const auto* no = std::get_if<PathRefused>(&confined)) {
      refuse(a, record, ErrorCode::kAccessViolation, "access denied: " + no->reason);
      return nullptr;
    }
    record.path = std::get<std::string>(confined);
    auto opened = Source::open(shared.root.get(), record.path, request->mode == "netascii");
    if (const auto* error = std::get_if<SourceError>(&opened)) {
      refuse(a, record, error->code, error->message);
      return nullptr;
    }
    auto transfer = std::make_unique<Transfer>();
    transfer->source = std::move(std::get<Source>(opened));
    auto negotiated = negotiate(request->options, transfer->source.size(), config.limits);
    if (const auto* why = std::get_if<std::string>(&negotiated)) {
      refuse(a, record, ErrorCode::kOptionRefused, *why);
      return nullptr;
    }
    try {
      transfer->fd = open_reply_socket(a);
    } catch (const std::runtime_error& e) {
      record.error = e.what();
      shared.log(record);
      return nullptr;
    }
    grow_buffer(transfer->fd.get(), SO_SNDBUFFORCE, SO_SNDBUF, kSendBuffer);
    TransferConfig tc{transfer->source.size(), std::get<Negotiated>(negotiated), config.max_retries,
                      std::chrono::milliseconds(8000)};
    record.options = tc.params.oack;
    transfer->record = std::move(record);
    transfer->machine.emplace(std::move(tc), Clock::now());
    return transfer;
  }

  // One datagram per wakeup: epoll is level-triggered, and clients send one ACK per window, so
  // a second recv would almost always be a wasted EAGAIN.
  void receive_packet(Transfer& t) {
    ssize_t n = recv(t.fd.get(), receive_buffer.data(), receive_buffer.size(), MSG_TRUNC);
    if (n < 0) {
      if (would_block(errno)) return;
      // On loopback a vanished client shows as ECONNREFUSED: no need to wait for timeouts.
      return finish(t, errno == ECONNREFUSED ? "client's port closed"
                                             : std::string("receive: ") + std::strerror(errno));
    }
    if (static_cast<std::size_t>(n) > kMaxPacket) return;
    auto bytes = std::span<const std::uint8_t>(receive_buffer.data(), std::size_t(n));
    apply(t, t.machine->on_packet(bytes, Clock::now()));
  }

  void apply(Transfer& t, Send s) {
    if (!s.control.empty()) t.control = std::move(s.control);
    if (s.count > 0) {
      t.next = s.first_block;
      t.end = s.first_block + s.count;
    }
    switch (t.machine->status()) {
      case Status::kDone:
        return finish(t, "");
      case Status::kFailed:
        return finish(t, t.machine->failure());
      case Status::kRunning:
        return flush(t);
    }
  }

  // Sends what is pending until done or the socket buffer is full (then waits for EPOLLOUT).
  void flush(Transfer& t) {
    if (!t.control.empty()) {
      if (send(t.fd.get(), t.control.data(), t.control.size(), 0) < 0) {
        if (would_block(errno)) return poll_out(t, true);
        return finish(t, std::string("send: ") + std::strerror(errno));
      }
      t.control.clear();
    }
    const ReadTransfer& m = *t.machine;
    std::array<std::array<std::uint8_t, 4>, kBatch> headers{};
    std::array<std::array<iovec, 2>, kBatch> iov{};
    std::array<mmsghdr, kBatch> msgs{};
    while (t.next < t.end) {
      std::size_t count = static_cast<std::size_t>(std::min<std::uint64_t>(t.end - t.next, kBatch));
      std::uint64_t offset = m.block_offset(t.next);
      std::uint64_t last = t.next + count - 1;
      std::size_t bytes =
          static_cast<std::size_t>(m.block_offset(last) - offset) + m.block_length(last);
      const std::uint8_t* data = t.bytes_at(offset, bytes);
      if (data == nullptr) {
        return finish(t, "the file shrank or became unreadable during the transfer");
      }
      for (std::size_t i = 0; i < count; ++i) {
        std::uint64_t block = t.next + i;
        encode_data_header(ReadTransfer::wire_number(block), headers[i]);
        iov[i][0] = {headers[i].data(), 4};
        iov[i][1] = {const_cast<std::uint8_t*>(data + (m.block_offset(block) - offset)),
                     m.block_length(block)};
        msgs[i] = {};
        msgs[i].msg_hdr.msg_iov = iov[i].data();
        msgs[i].msg_hdr.msg_iovlen = 2;
      }
      int sent = sendmmsg(t.fd.get(), msgs.data(), static_cast<unsigned>(count), 0);
      if (sent < 0) {
        if (would_block(errno)) return poll_out(t, true);
        if (errno == ECONNREFUSED) return finish(t, "client's port closed");
        return finish(t, std::string("send: ") + std::strerror(errno));
      }
      t.next += static_cast<std::uint64_t>(sent);
      if (static_cast<std::size_t>(sent) < count) return poll_out(t, true);
    }
    poll_out(t, false);
  }

  void poll_out(Transfer& t, bool on) {
    if (t.polling_out == on) return;
    epoll_event ev{};
    ev.events = EPOLLIN | (on ? EPOLLOUT : 0u);
    ev.data.fd = t.fd.get();
    epoll_ctl(epoll.get(), EPOLL_CTL_MOD, t.fd.get(), &ev);
    t.polling_out = on;
  }

  void finish(Transfer& t, const std::string& error) {
    if (t.finished) return;
    t.finished = true;
    t.record.ok = error.empty();
    t.record.error = error;
    t.record.bytes = t.machine->acked_bytes();
    t.record.retransmits = t.machine->retransmits();
    t.record.seconds = std::chrono::duration<double>(Clock::now() - t.started).count();
    if (!t.record.ok && t.machine->status() != Status::kFailed) {
      auto packet = encode(Error{ErrorCode::kNotDefined, error});
      send(t.fd.get(), packet.data(), packet.size(), 0);
    }
    shared.log(t.record);
  }
};

}  // namespace

struct Server::Impl {
  Shared shared;
  std::vector<std::unique_ptr<Worker>> workers;

  explicit Impl(ServerConfig c) {
    shared.config = std::move(c);
    const ServerConfig& config = shared.config;
    shared.root.reset(::open(config.root.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC));
    if (!shared.root) throw_errno("cannot open the root directory " + config.root.string());
    if (config.listen.empty()) throw std::runtime_error("no address to listen on");
    for (const auto& hp : config.listen) {
      for (const auto& address : crossrig::resolve(hp, SOCK_DGRAM))
        listen_on(address);
    }
    unsigned threads = config.threads;
    if (threads == 0) threads = std::clamp(std::thread::hardware_concurrency(), 1u, 8u);
    for (unsigned i = 0; i < threads; ++i)
      workers.push_back(std::make_unique<Worker>(shared, workers));
  }

  void listen_on(const SocketAddress& address) {
    Listener l;
    l.fd.reset(socket(address.family(), SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0));
    if (!l.fd) throw_errno("socket for " + address.to_string());
    if (address.family() == AF_INET6) {
      set_option(l.fd.get(), IPPROTO_IPV6, IPV6_RECVPKTINFO, 1);
    } else {
      set_option(l.fd.get(), IPPROTO_IP, IP_PKTINFO, 1);
    }
    grow_buffer(l.fd.get(), SO_RCVBUFFORCE, SO_RCVBUF, 1 << 20);
    if (bind(l.fd.get(), address.get(), address.length) != 0) {
      throw_errno("cannot listen on " + address.to_string() +
                  " (is another TFTP server using the port?)");
    }
    l.address.length = sizeof l.address.storage;
    getsockname(l.fd.get(), l.address.get(), &l.address.length);
    shared.listeners.push_back(std::move(l));
  }

  // Worker 0 runs on the calling thread, the others on threads of their own; the first
  // failure stops them all and is rethrown once every thread has ended.
  void run() {
    std::mutex failure_mutex;
    std::exception_ptr failure;
    auto run_worker = [&](Worker& w) {
      try {
        w.run();
      } catch (...) {
        std::lock_guard lock(failure_mutex);
        if (!failure) failure = std::current_exception();
        stop();
      }
    };
    std::vector<std::thread> threads;
    for (std::size_t i = 1; i < workers.size(); ++i)
      threads.emplace_back(run_worker, std::ref(*workers[i]));
    run_worker(*workers[0]);
    for (auto& t : threads)
      t.join();
    if (failure) std::rethrow_exception(failure);
  }

  void stop() {
    shared.stopping.store(true);
    for (auto& w : workers)
      w->wake_up();
  }
};

Server::Server(ServerConfig config) : impl_(std::make_unique<Impl>(std::move(config))) {}

Server::~Server() {
  stop();
}

std::vector<SocketAddress> Server::local_addresses() const {
  std::vector<SocketAddress> out;
  for (const auto& l : impl_->shared.listeners)
    out.push_back(l.address);
  return out;
}

void Server::run() {
  impl_->run();
}

void Server::start() {
  thread_ = std::thread([this] {
    try {
      impl_->run();
    } catch (...) {
      failure_ = std::current_exception();
    }
  });
}

void Server::stop() {
  impl_->stop();
  if (thread_.joinable() && thread_.get_id() != std::this_thread::get_id()) thread_.join();
  if (auto failure = std::exchange(failure_, nullptr)) std::rethrow_exception(failure);
}

}  // namespace crossrig::rig::tftp
