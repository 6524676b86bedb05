#include "plugctl/sim/sim_server.h"

#include <arpa/inet.h>
#include <ifaddrs.h>
#include <net/if.h>
#include <netinet/in.h>
#include <signal.h>
#include <spawn.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <iostream>
#include <nlohmann/json.hpp>
#include <optional>
#include <set>
#include <stdexcept>
#include <unordered_map>

#include "common/hex.h"
#include "common/host_port.h"
#include "common/unique_fd.h"
#include "plugctl/discovery_codec.h"
#include "plugctl/http_message.h"
#include "plugctl/sim/fixture_store.h"
#include "plugctl/sim/klap_server.h"
#include "plugctl/sim/sim_device.h"
#include "plugctl/sim/state_file.h"
#include "plugctl/xor_cipher.h"

extern char** environ;

namespace crossrig::plugsim {

using Clock = std::chrono::steady_clock;
using nlohmann::json;
using namespace std::chrono_literals;

namespace {

// Real requests are a few hundred bytes; anything near these limits is hostile.
constexpr std::size_t kMaxXorRequest = 64 * 1024;
constexpr std::size_t kMaxHttpHead = 8 * 1024;
constexpr std::size_t kMaxHttpBody = 64 * 1024;
constexpr std::size_t kMaxPendingOutput = 1 << 20;
constexpr std::size_t kReadChunk = 16 * 1024;
constexpr auto kRebindRetry = 100ms;
constexpr auto kMaxSleep = 500ms;

enum class Kind {
  kSignal,
  kXorListen,
  kKlapListen,
  kXorUdp,
  kXorBroadcast,
  kTdpUdp,
  kTdpBroadcast,
  kXorConn,
  kKlapConn
};

std::string errno_text() {
  return std::strerror(errno);
}

std::uint32_t fnv1a(std::string_view s) {
  std::uint32_t h = 2166136261u;
  for (char c : s)
    h = (h ^ static_cast<std::uint8_t>(c)) * 16777619u;
  return h;
}

// A MAC in TP-Link's 50:C7:BF range, stable for a device's address and port.
std::string derived_mac(const std::string& seed) {
  std::uint32_t h = fnv1a(seed);
  char buf[18];
  std::snprintf(buf, sizeof buf, "50:C7:BF:%02X:%02X:%02X", (h >> 16) & 0xff, (h >> 8) & 0xff,
                h & 0xff);
  return buf;
}

SocketAddress with_port(SocketAddress a, std::uint16_t port) {
  if (a.family() == AF_INET) {
    reinterpret_cast<sockaddr_in*>(a.get())->sin_port = htons(port);
  } else {
    reinterpret_cast<sockaddr_in6*>(a.get())->sin6_port = htons(port);
  }
  return a;
}

std::uint16_t bound_port(int fd) {
  SocketAddress a;
  a.length = sizeof a.storage;
  ::getsockname(fd, a.get(), &a.length);
  return a.family() == AF_INET ? ntohs(reinterpret_cast<sockaddr_in*>(a.get())->sin_port)
                               : ntohs(reinterpret_cast<sockaddr_in6*>(a.get())->sin6_port);
}

UniqueFd open_bound(const SocketAddress& addr, int type, std::string& error) {
  UniqueFd fd(::socket(addr.family(), type | SOCK_NONBLOCK | SOCK_CLOEXEC, 0));
  int one = 1;
  if (!fd || ::setsockopt(fd.get(), SOL_SOCKET, SO_REUSEADDR, &one, sizeof one) != 0 ||
      ::bind(fd.get(), addr.get(), addr.length) != 0 ||
      (type == SOCK_STREAM && ::listen(fd.get(), SOMAXCONN) != 0)) {
    error = (type == SOCK_STREAM ? "TCP " : "UDP ") + addr.to_string() + ": " + errno_text();
    return {};
  }
  return fd;
}

// Subnet broadcast addresses of this network namespace's interfaces.
std::set<std::uint32_t> broadcast_addresses() {
  std::set<std::uint32_t> out{INADDR_BROADCAST};
  ifaddrs* list = nullptr;
  if (::getifaddrs(&list) != 0) return out;
  for (ifaddrs* i = list; i; i = i->ifa_next) {
    if (i->ifa_broadaddr && i->ifa_broadaddr->sa_family == AF_INET &&
        (i->ifa_flags & IFF_BROADCAST)) {
      out.insert(ntohl(reinterpret_cast<sockaddr_in*>(i->ifa_broadaddr)->sin_addr.s_addr));
    }
  }
  ::freeifaddrs(list);
  return out;
}

std::string shorten(std::string_view s) {
  std::string out(s.substr(0, 160));
  for (char& c : out)
    c = (c < 0x20 || c == 0x7f) ? '.' : c;
  return s.size() > 160 ? out + "..." : out;
}

struct Datagram {
  std::string payload;
  SocketAddress from;
  std::optional<in_addr> destination;  // set on broadcast sockets (IP_PKTINFO)
};

#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wold-style-cast"
#pragma GCC diagnostic ignored "-Wcast-align"
std::optional<Datagram> receive(int fd) {
  std::uint8_t buf[65536];
  alignas(cmsghdr) char control[256];
  Datagram d;
  iovec iov{buf, sizeof buf};
  msghdr msg{};
  msg.msg_name = d.from.get();
  msg.msg_namelen = sizeof d.from.storage;
  msg.msg_iov = &iov;
  msg.msg_iovlen = 1;
  msg.msg_control = control;
  msg.msg_controllen = sizeof control;
  ssize_t n = ::recvmsg(fd, &msg, 0);
  if (n < 0) return std::nullopt;
  d.from.length = msg.msg_namelen;
  d.payload.assign(reinterpret_cast<const char*>(buf), static_cast<std::size_t>(n));
  for (cmsghdr* c = CMSG_FIRSTHDR(&msg); c; c = CMSG_NXTHDR(&msg, c)) {
    if (c->cmsg_level == IPPROTO_IP && c->cmsg_type == IP_PKTINFO) {
      in_pktinfo info;
      std::memcpy(&info, CMSG_DATA(c), sizeof info);
      d.destination = info.ipi_addr;
    }
  }
  return d;
}

// Answers from `source` although the socket is bound to the wildcard address.
void send_from(int fd, std::span<const std::uint8_t> bytes, const SocketAddress& to,
               const std::optional<in_addr>& source) {
  iovec iov{const_cast<std::uint8_t*>(bytes.data()), bytes.size()};
  msghdr msg{};
  msg.msg_name = const_cast<sockaddr*>(to.get());
  msg.msg_namelen = to.length;
  msg.msg_iov = &iov;
  msg.msg_iovlen = 1;
  alignas(cmsghdr) char control[CMSG_SPACE(sizeof(in_pktinfo))] = {};
  if (source) {
    msg.msg_control = control;
    msg.msg_controllen = sizeof control;
    cmsghdr* c = CMSG_FIRSTHDR(&msg);
    c->cmsg_level = IPPROTO_IP;
    c->cmsg_type = IP_PKTINFO;
    c->cmsg_len = CMSG_LEN(sizeof(in_pktinfo));
    in_pktinfo info{};
    info.ipi_spec_dst = *source;
    std::memcpy(CMSG_DATA(c), &info, sizeof info);
  }
  ::sendmsg(fd, &msg, MSG_DONTWAIT | MSG_NOSIGNAL);
}
#pragma GCC diagnostic pop

}  // namespace

struct Conn {
  UniqueFd fd;
  std::size_t device = 0;
  bool klap = false;
  std::string peer;
  std::string in, out;
  bool partial = false;  // part of a request has arrived
  bool want_write = false;
  bool close_after_write = false;
  Clock::time_point last_io, request_start;
  std::optional<plugctl::HttpParser<plugctl::HttpRequest>> http;
};

struct Dev {
  DeviceSpec spec;
  std::string name;
  std::unique_ptr<SimDevice> model;
  plugctl::Bytes auth_hash;
  std::unique_ptr<KlapServer> klap;
  SocketAddress addr;
  std::optional<in_addr> v4;  // the unicast IPv4 address broadcast answers come from
  std::uint16_t xor_port = 0, klap_port = 0, tdp_port = 0;
  std::vector<int> fds;  // every socket of this device, all in the epoll set
  std::optional<Clock::time_point> reboot_at, back_at;
  bool up = false;
};

struct Entry {
  Kind kind;
  std::size_t device;
};

struct SimServer::Impl {
  ServerOptions opt;
  std::vector<Dev> devs;
  UniqueFd epoll, signals;
  std::unordered_map<int, Entry> entries;
  std::unordered_map<int, UniqueFd> sockets;  // device sockets by fd
  std::unordered_map<int, std::unique_ptr<Conn>> conns;
  RelayStates states;
  bool stopping = false;

  void log(const std::string& line) const { std::cerr << "plugsim: " << line << '\n'; }
  void add(int fd, Kind kind, std::size_t device, std::uint32_t events = EPOLLIN);
  void open_device_sockets(Dev& d, bool first_time);
  void close_device_sockets(Dev& d);
  void accept_all(int fd, Kind kind, std::size_t device);
  void on_datagram(int fd, Kind kind, std::size_t device);
  void on_readable(Conn& c);
  void process_xor(Conn& c);
  void process_http(Conn& c, std::span<const std::uint8_t> data);
  void flush(Conn& c);
  void close_conn(int fd);
  std::optional<std::string> ask(Dev& d, std::string_view request, const char* via,
                                 const std::string& peer);
  void handle_events(Dev& d, const DeviceEvents& events);
  void run_on_change(const Dev& d, const RelayChange& change) const;
  void save_states();
  void on_signal();
  void tick(Clock::time_point now);
  Clock::time_point next_wake(Clock::time_point now) const;
};

SimServer::SimServer(std::vector<DeviceSpec> specs, ServerOptions options)
    : impl_(std::make_unique<Impl>()) {
  impl_->opt = std::move(options);
  if (!impl_->opt.state_file.empty()) impl_->states = load_state_file(impl_->opt.state_file);
  std::set<std::string> names;
  Now now = Now::current();
  for (auto& spec : specs) {
    Dev d;
    std::string label = spec.model + (spec.fixture.empty() ? "" : "@" + spec.fixture) + ":" +
                        format_host_port({spec.address, spec.port});
    try {
      d.model = std::make_unique<SimDevice>(load_fixture(spec.model, spec.fixture), now);
      auto resolved = resolve({spec.address, 0}, SOCK_STREAM);
      d.addr = resolved.front();
      if (spec.klap_port) {
        Credentials creds = spec.credentials_file.empty()
                                ? Credentials{}
                                : read_credentials_file(spec.credentials_file);
        d.auth_hash = plugctl::klap_auth_hash(spec.klap_version, creds.username, creds.password);
      }
    } catch (const std::exception& e) {
      throw std::runtime_error("device " + label + ": " + e.what());
    }
    if (!spec.alias.empty()) {
      DeviceEvents ignored;
      d.model->handle({{"system", {{"set_dev_alias", {{"alias", spec.alias}}}}}}, now, ignored);
    }
    d.name = spec.name.empty() ? label : spec.name;
    for (int n = 2; names.count(d.name); ++n)
      d.name = (spec.name.empty() ? label : spec.name) + "#" + std::to_string(n);
    names.insert(d.name);
    if (auto saved = impl_->states.find(d.name); saved != impl_->states.end()) {
      for (int i = 0; i < d.model->outlet_count() && i < static_cast<int>(saved->second.size());
           ++i) {
        d.model->restore_relay(i + 1, saved->second[static_cast<std::size_t>(i)], now);
      }
    }
    d.spec = std::move(spec);
    impl_->devs.push_back(std::move(d));
  }
}

SimServer::~SimServer() = default;

void SimServer::Impl::add(int fd, Kind kind, std::size_t device, std::uint32_t events) {
  epoll_event ev{};
  ev.events = events;
  ev.data.fd = fd;
  if (::epoll_ctl(epoll.get(), EPOLL_CTL_ADD, fd, &ev) != 0) {
    throw std::runtime_error("epoll_ctl failed: " + errno_text());
  }
  entries[fd] = {kind, device};
}

void SimServer::Impl::open_device_sockets(Dev& d, bool first_time) {
  std::size_t index = static_cast<std::size_t>(&d - devs.data());
  std::string error;
  auto keep = [&](UniqueFd fd, Kind kind) {
    int raw = fd.get();
    sockets[raw] = std::move(fd);
    d.fds.push_back(raw);
    add(raw, kind, index);
    return raw;
  };
  auto fail = [&](const std::string& what) {
    close_device_sockets(d);
    throw std::runtime_error("device " + d.name + ": cannot listen on " + what);
  };
  if (d.spec.serve_xor) {
    std::uint16_t wanted = first_time ? d.spec.port : d.xor_port;
    // With port 0 the TCP port is picked first, and UDP must get the same number.
    for (int attempt = 0;; ++attempt) {
      UniqueFd tcp = open_bound(with_port(d.addr, wanted), SOCK_STREAM, error);
      if (!tcp) fail(error);
      std::uint16_t port = bound_port(tcp.get());
      UniqueFd udp = open_bound(with_port(d.addr, port), SOCK_DGRAM, error);
      if (!udp) {
        if (wanted == 0 && attempt < 20) continue;
        fail(error);
      }
      d.xor_port = port;
      keep(std::move(tcp), Kind::kXorListen);
      keep(std::move(udp), Kind::kXorUdp);
      break;
    }
  }
  if (d.spec.klap_port) {
    UniqueFd tcp = open_bound(with_port(d.addr, first_time ? *d.spec.klap_port : d.klap_port),
                              SOCK_STREAM, error);
    if (!tcp) fail(error);
    d.klap_port = bound_port(tcp.get());
    keep(std::move(tcp), Kind::kKlapListen);
    d.klap = std::make_unique<KlapServer>(d.spec.klap_version, d.auth_hash, d.spec.session_timeout);
    // Discovery is an extra: a device whose TDP port is taken still serves KLAP.
    UniqueFd udp = open_bound(with_port(d.addr, first_time ? *d.spec.tdp_port : d.tdp_port),
                              SOCK_DGRAM, error);
    if (udp) {
      d.tdp_port = bound_port(udp.get());
      keep(std::move(udp), Kind::kTdpUdp);
    } else if (first_time) {
      log("device " + d.name + " will not answer KLAP discovery: " + error);
    }
  }
  // A socket bound to a unicast address never sees broadcasts: a wildcard socket per port
  // takes them, and answers from the device's own address.
  if (d.addr.family() == AF_INET) {
    in_addr a = reinterpret_cast<const sockaddr_in*>(d.addr.get())->sin_addr;
    std::uint32_t host = ntohl(a.s_addr);
    if (host != INADDR_ANY && (host >> 24) != 127) {
      d.v4 = a;
      sockaddr_in any{};
      any.sin_family = AF_INET;
      SocketAddress wildcard;
      std::memcpy(&wildcard.storage, &any, sizeof any);
      wildcard.length = sizeof any;
      std::vector<std::pair<std::uint16_t, Kind>> ports;
      if (d.spec.serve_xor) ports.emplace_back(d.xor_port, Kind::kXorBroadcast);
      if (d.spec.klap_port && d.tdp_port) ports.emplace_back(d.tdp_port, Kind::kTdpBroadcast);
      for (auto [port, kind] : ports) {
        UniqueFd udp = open_bound(with_port(wildcard, port), SOCK_DGRAM, error);
        int one = 1;
        if (!udp || ::setsockopt(udp.get(), IPPROTO_IP, IP_PKTINFO, &one, sizeof one) != 0) {
          if (first_time) log("device " + d.name + " will not answer broadcasts: " + error);
          continue;
        }
        keep(std::move(udp), kind);
      }
    }
  }
  if (d.spec.mac.empty() && first_time) {
    d.model->set_mac(derived_mac(d.addr.to_string() + "/" + std::to_string(d.xor_port) + "/" +
                                 std::to_string(d.klap_port)));
  } else if (first_time) {
    d.model->set_mac(d.spec.mac);
  }
  d.up = true;
}

void SimServer::Impl::close_device_sockets(Dev& d) {
  for (int fd : d.fds) {
    entries.erase(fd);
    sockets.erase(fd);
  }
  d.fds.clear();
  d.up = false;
}

void SimServer::bind() {
  Impl& s = *impl_;
  ::signal(SIGPIPE, SIG_IGN);
  rlimit files{};
  if (::getrlimit(RLIMIT_NOFILE, &files) == 0 && files.rlim_cur < files.rlim_max) {
    files.rlim_cur = files.rlim_max;
    ::setrlimit(RLIMIT_NOFILE, &files);
  }
  // accept() failing with EMFILE would leave the listener readable and spin the loop.
  constexpr rlim_t kSpareFds = 64;
  if (::getrlimit(RLIMIT_NOFILE, &files) == 0 && files.rlim_cur > kSpareFds &&
      files.rlim_cur - kSpareFds < s.opt.max_connections) {
    s.opt.max_connections = files.rlim_cur - kSpareFds;
  }
  sigset_t mask;
  sigemptyset(&mask);
  sigaddset(&mask, SIGTERM);
  sigaddset(&mask, SIGINT);
  sigaddset(&mask, SIGCHLD);
  ::sigprocmask(SIG_BLOCK, &mask, nullptr);
  s.epoll = UniqueFd(::epoll_create1(EPOLL_CLOEXEC));
  s.signals = UniqueFd(::signalfd(-1, &mask, SFD_NONBLOCK | SFD_CLOEXEC));
  if (!s.epoll || !s.signals)
    throw std::runtime_error("cannot create the event loop: " + errno_text());
  s.add(s.signals.get(), Kind::kSignal, 0);
  for (Dev& d : s.devs)
    s.open_device_sockets(d, true);
}

std::string SimServer::ready_lines() const {
  std::string out;
  for (const Dev& d : impl_->devs) {
    json line = {{"name", d.name},
                 {"model", d.model->model()},
                 {"address", d.spec.address},
                 {"xor_port", d.spec.serve_xor ? json(d.xor_port) : json(nullptr)},
                 {"klap_port", d.spec.klap_port ? json(d.klap_port) : json(nullptr)},
                 {"tdp_port", d.tdp_port ? json(d.tdp_port) : json(nullptr)},
                 {"klap_version",
                  d.spec.klap_port ? json(static_cast<int>(d.spec.klap_version)) : json(nullptr)},
                 {"outlets", d.model->outlet_count()},
                 {"mac", d.model->mac()}};
    out += line.dump() + "\n";
  }
  return out;
}

void SimServer::Impl::accept_all(int fd, Kind kind, std::size_t device) {
  for (;;) {
    SocketAddress peer;
    peer.length = sizeof peer.storage;
    UniqueFd conn_fd(::accept4(fd, peer.get(), &peer.length, SOCK_NONBLOCK | SOCK_CLOEXEC));
    if (!conn_fd) {
      // Out of descriptors: the pending connection waits in the backlog until one is freed.
      return;
    }
    if (conns.size() >= opt.max_connections) {
      if (opt.verbose)
        log("refusing " + peer.to_string() + ": " + std::to_string(conns.size()) +
            " connections open");
      continue;
    }
    auto c = std::make_unique<Conn>();
    c->device = device;
    c->klap = kind == Kind::kKlapListen;
    c->peer = peer.to_string();
    c->last_io = Clock::now();
    int raw = conn_fd.get();
    c->fd = std::move(conn_fd);
    add(raw, c->klap ? Kind::kKlapConn : Kind::kXorConn, device);
    conns[raw] = std::move(c);
  }
}

std::optional<std::string> SimServer::Impl::ask(Dev& d, std::string_view request, const char* via,
                                                const std::string& peer) {
  DeviceEvents events;
  auto reply = d.model->handle_text(request, Now::current(), events);
  if (opt.verbose) {
    log(d.name + " " + via + " " + peer + " " + shorten(request) + " -> " +
        (reply ? std::to_string(reply->size()) + " bytes"
               : std::string("dropped (not a JSON object)")));
  }
  handle_events(d, events);
  return reply;
}

void SimServer::Impl::handle_events(Dev& d, const DeviceEvents& events) {
  for (const RelayChange& change : events.changes) {
    if (opt.verbose)
      log(d.name + " outlet " + std::to_string(change.outlet) + " switched " +
          (change.on ? "on" : "off"));
    run_on_change(d, change);
  }
  if (!events.changes.empty() && !opt.state_file.empty()) {
    auto& saved = states[d.name];
    saved.clear();
    for (int i = 1; i <= d.model->outlet_count(); ++i)
      saved.push_back(d.model->relay(i));
    save_states();
  }
  if (events.reboot_after) {
    d.reboot_at = Clock::now() + *events.reboot_after;
    if (opt.verbose)
      log(d.name + " rebooting in " + std::to_string(events.reboot_after->count()) + " s");
  }
}

void SimServer::Impl::save_states() {
  try {
    save_state_file(opt.state_file, states);
  } catch (const std::exception& e) {
    log(e.what());
  }
}

void SimServer::Impl::run_on_change(const Dev& d, const RelayChange& change) const {
  if (opt.on_change.empty()) return;
  std::vector<std::string> env;
  for (char** e = environ; *e; ++e) {
    if (!std::string_view(*e).starts_with("PLUGSIM_")) env.emplace_back(*e);
  }
  env.push_back("PLUGSIM_DEVICE=" + d.name);
  env.push_back("PLUGSIM_OUTLET=" + std::to_string(change.outlet));
  env.push_back(std::string("PLUGSIM_STATE=") + (change.on ? "on" : "off"));
  std::vector<char*> envp;
  for (auto& e : env)
    envp.push_back(e.data());
  envp.push_back(nullptr);
  std::string sh = "sh", dash_c = "-c", command = opt.on_change;
  char* argv[] = {sh.data(), dash_c.data(), command.data(), nullptr};
  posix_spawnattr_t attr;
  posix_spawnattr_init(&attr);
  sigset_t none, defaults;
  sigemptyset(&none);
  sigemptyset(&defaults);
  sigaddset(&defaults, SIGPIPE);
  posix_spawnattr_setsigmask(&attr, &none);
  posix_spawnattr_setsigdefault(&attr, &defaults);
  posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF);
  pid_t pid = 0;
  int rc = ::posix_spawn(&pid, "/bin/sh", nullptr, &attr, argv, envp.data());
  posix_spawnattr_destroy(&attr);
  if (rc != 0) log("cannot run the --on-change command: " + std::string(std::strerror(rc)));
}

void SimServer::Impl::on_datagram(int fd, Kind kind, std::size_t device) {
  Dev& d = devs[device];
  auto dg = receive(fd);
  if (!dg) return;
  bool broadcast_socket = kind == Kind::kXorBroadcast || kind == Kind::kTdpBroadcast;
  if (broadcast_socket) {
    if (!dg->destination || !broadcast_addresses().count(ntohl(dg->destination->s_addr))) return;
  }
  std::optional<in_addr> source = broadcast_socket ? d.v4 : std::nullopt;
  if (kind == Kind::kXorUdp || kind == Kind::kXorBroadcast) {
    auto reply =
        ask(d, plugctl::xor_decrypt(as_bytes(dg->payload)), "xor-udp", dg->from.to_string());
    if (reply) send_from(fd, plugctl::xor_encrypt(*reply), dg->from, source);
    return;
  }
  if (!plugctl::is_klap_discovery_query(as_bytes(dg->payload))) {
    if (opt.verbose)
      log(d.name + " tdp " + dg->from.to_string() +
          " ignored a datagram that is not a discovery probe");
    return;
  }
  json result = d.model->discovery_result().value_or(json::object());
  json info = d.model->sysinfo(Now::current());
  std::string mac = d.model->mac();
  std::replace(mac.begin(), mac.end(), ':', '-');
  std::string device_id = info.value("deviceId", "");
  result["device_id"] = result.value("device_id", device_id.substr(0, 32));
  result["device_model"] = info["model"];
  result["device_type"] = result.value("device_type", std::string("IOT.SMARTPLUGSWITCH"));
  result["hw_ver"] = info.value("hw_ver", "1.0");
  result["ip"] = d.spec.address;
  result["mac"] = mac;
  result["mgt_encrypt_schm"] = {{"encrypt_type", "KLAP"},
                                {"http_port", d.klap_port},
                                {"is_support_https", false},
                                {"lv", static_cast<int>(d.spec.klap_version)}};
  if (opt.verbose) log(d.name + " tdp " + dg->from.to_string() + " discovery probe answered");
  send_from(fd, plugctl::encode_klap_discovery_reply(result), dg->from, source);
}

void SimServer::Impl::on_readable(Conn& c) {
  char buf[kReadChunk];
  ssize_t n = ::read(c.fd.get(), buf, sizeof buf);
  if (n < 0 && (errno == EAGAIN || errno == EINTR)) return;
  if (n <= 0) {
    close_conn(c.fd.get());
    return;
  }
  Clock::time_point now = Clock::now();
  if (!c.partial) c.request_start = now;
  c.last_io = now;
  int fd = c.fd.get();
  if (c.klap) {
    process_http(c, {reinterpret_cast<const std::uint8_t*>(buf), static_cast<std::size_t>(n)});
  } else {
    c.in.append(buf, static_cast<std::size_t>(n));
    process_xor(c);
  }
  if (conns.count(fd)) flush(c);
}

void SimServer::Impl::process_xor(Conn& c) {
  Dev& d = devs[c.device];
  while (c.in.size() >= 4) {
    std::uint8_t prefix[4];
    std::memcpy(prefix, c.in.data(), 4);
    std::uint32_t length = plugctl::xor_frame_length(prefix);
    if (length > kMaxXorRequest) {
      if (opt.verbose)
        log(d.name + " xor-tcp " + c.peer + " announced " + std::to_string(length) +
            " bytes: closing");
      close_conn(c.fd.get());
      return;
    }
    if (c.in.size() < 4 + std::size_t{length}) break;
    std::string plain = plugctl::xor_decrypt(as_bytes(std::string_view(c.in).substr(4, length)));
    c.in.erase(0, 4 + std::size_t{length});
    auto reply = ask(d, plain, "xor-tcp", c.peer);
    if (!reply) {
      close_conn(c.fd.get());
      return;
    }
    auto frame = plugctl::xor_frame(*reply);
    c.out.append(reinterpret_cast<const char*>(frame.data()), frame.size());
  }
  c.partial = !c.in.empty();
}

void SimServer::Impl::process_http(Conn& c, std::span<const std::uint8_t> data) {
  Dev& d = devs[c.device];
  while (!data.empty() && !c.close_after_write) {
    if (!c.http) c.http.emplace(kMaxHttpHead, kMaxHttpBody);
    std::size_t before = c.http->consumed();
    auto state = c.http->feed(data);
    data = data.subspan(c.http->consumed() - before);
    if (state == plugctl::HttpParser<plugctl::HttpRequest>::State::kNeedMore) {
      c.partial = true;
      return;
    }
    plugctl::HttpResponse response;
    if (state == plugctl::HttpParser<plugctl::HttpRequest>::State::kError) {
      if (opt.verbose) log(d.name + " klap " + c.peer + " bad request: " + c.http->error());
      response.status = 400;
      response.reason = "Bad Request";
      response.body = c.http->error();
      response.headers.set("Connection", "close");
      c.close_after_write = true;
    } else {
      const plugctl::HttpRequest& request = c.http->message();
      response = d.klap->handle(request, Clock::now(), [&](std::string_view plain) {
        return ask(d, plain, "klap", c.peer);
      });
      if (opt.verbose && request.target.find("/app/request") == std::string::npos) {
        log(d.name + " klap " + c.peer + " " + request.method + " " + request.target + " -> " +
            std::to_string(response.status));
      }
      auto connection = request.headers.get("Connection");
      if (connection && (*connection == "close" || *connection == "Close"))
        c.close_after_write = true;
    }
    c.out += plugctl::serialize(response);
    c.http.reset();
    c.partial = false;
  }
}

void SimServer::Impl::flush(Conn& c) {
  while (!c.out.empty()) {
    ssize_t n = ::send(c.fd.get(), c.out.data(), c.out.size(), MSG_NOSIGNAL | MSG_DONTWAIT);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && errno == EAGAIN) break;
    if (n <= 0) {
      close_conn(c.fd.get());
      return;
    }
    c.out.erase(0, static_cast<std::size_t>(n));
    c.last_io = Clock::now();
  }
  if (c.out.size() > kMaxPendingOutput) {
    if (opt.verbose) log(c.peer + " does not read its answers: closing");
    close_conn(c.fd.get());
    return;
  }
  if (c.out.empty() && c.close_after_write) {
    close_conn(c.fd.get());
    return;
  }
  bool want = !c.out.empty();
  if (want != c.want_write) {
    epoll_event ev{};
    ev.events = EPOLLIN | (want ? EPOLLOUT : 0u);
    ev.data.fd = c.fd.get();
    ::epoll_ctl(epoll.get(), EPOLL_CTL_MOD, c.fd.get(), &ev);
    c.want_write = want;
  }
}

void SimServer::Impl::close_conn(int fd) {
  entries.erase(fd);
  conns.erase(fd);
}

void SimServer::Impl::on_signal() {
  signalfd_siginfo info;
  while (::read(signals.get(), &info, sizeof info) == static_cast<ssize_t>(sizeof info)) {
    if (info.ssi_signo == SIGCHLD) {
      while (::waitpid(-1, nullptr, WNOHANG) > 0) {
      }
    } else {
      if (opt.verbose)
        log(std::string("stopping on ") + ::strsignal(static_cast<int>(info.ssi_signo)));
      stopping = true;
    }
  }
}

Clock::time_point SimServer::Impl::next_wake(Clock::time_point now) const {
  Clock::time_point wake = now + kMaxSleep;
  for (const Dev& d : devs) {
    if (auto due = d.model->next_deadline()) wake = std::min(wake, *due);
    if (d.reboot_at) wake = std::min(wake, *d.reboot_at);
    if (d.back_at) wake = std::min(wake, *d.back_at);
  }
  return std::max(wake, now);
}

void SimServer::Impl::tick(Clock::time_point now) {
  for (Dev& d : devs) {
    if (auto due = d.model->next_deadline(); due && *due <= now) {
      DeviceEvents events;
      d.model->advance(Now::current(), events);
      handle_events(d, events);
    }
    if (d.reboot_at && *d.reboot_at <= now) {
      d.reboot_at.reset();
      std::vector<int> doomed;
      for (const auto& [fd, c] : conns) {
        if (c->device == static_cast<std::size_t>(&d - devs.data())) doomed.push_back(fd);
      }
      for (int fd : doomed)
        close_conn(fd);
      close_device_sockets(d);
      d.back_at = now + d.spec.reboot_time;
      if (opt.verbose) log(d.name + " is down for a reboot");
    }
    if (d.back_at && *d.back_at <= now) {
      try {
        open_device_sockets(d, false);
        d.back_at.reset();
        if (opt.verbose) log(d.name + " is back from its reboot");
      } catch (const std::exception& e) {
        d.back_at = now + kRebindRetry;
        log(std::string(e.what()) + "; retrying");
      }
    }
  }
  std::vector<int> expired;
  for (const auto& [fd, c] : conns) {
    bool slow = c->partial && now - c->request_start > opt.request_timeout;
    bool idle = !c->partial && c->out.empty() && now - c->last_io > opt.idle_timeout;
    if (slow || idle) expired.push_back(fd);
    if (slow && opt.verbose) log(c->peer + " sent no whole request in time: closing");
  }
  for (int fd : expired)
    close_conn(fd);
}

int SimServer::run() {
  Impl& s = *impl_;
  std::vector<epoll_event> ready(256);
  while (!s.stopping) {
    Clock::time_point now = Clock::now();
    auto wait = std::chrono::ceil<std::chrono::milliseconds>(s.next_wake(now) - now);
    int n = ::epoll_wait(s.epoll.get(), ready.data(), static_cast<int>(ready.size()),
                         static_cast<int>(wait.count()));
    if (n < 0 && errno != EINTR) {
      s.log("epoll_wait failed: " + errno_text());
      return 1;
    }
    for (int i = 0; i < n; ++i) {
      int fd = ready[static_cast<std::size_t>(i)].data.fd;
      auto entry = s.entries.find(fd);
      if (entry == s.entries.end()) continue;  // closed earlier in this batch
      auto [kind, device] = entry->second;
      switch (kind) {
        case Kind::kSignal:
          s.on_signal();
          break;
        case Kind::kXorListen:
        case Kind::kKlapListen:
          s.accept_all(fd, kind, device);
          break;
        case Kind::kXorUdp:
        case Kind::kXorBroadcast:
        case Kind::kTdpUdp:
        case Kind::kTdpBroadcast:
          s.on_datagram(fd, kind, device);
          break;
        case Kind::kXorConn:
        case Kind::kKlapConn: {
          Conn& c = *s.conns.at(fd);
          std::uint32_t events = ready[static_cast<std::size_t>(i)].events;
          if (events & EPOLLOUT) s.flush(c);
          if (s.conns.count(fd) && (events & (EPOLLIN | EPOLLHUP | EPOLLERR))) s.on_readable(c);
          break;
        }
      }
    }
    s.tick(Clock::now());
  }
  return 0;
}

}  // namespace crossrig::plugsim
