#include "engine/service/ckpt_service.h"

#include <poll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <array>
#include <filesystem>
#include <thread>

#include "common/net_io.h"
#include "engine/check.h"
#include "engine/dump.h"
#include "engine/restore.h"

namespace crossrig::engine::service {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;
using Clock = std::chrono::steady_clock;

sockaddr_un address_of(const std::string& path) {
  sockaddr_un sa{};
  sa.sun_family = AF_UNIX;
  if (path.empty() || path.size() >= sizeof sa.sun_path) {
    throw CkptError(CkptError::kUsage, "--address '" + path +
                                           "' is not a usable socket path (1 to " +
                                           std::to_string(sizeof sa.sun_path - 1) + " bytes)");
  }
  path.copy(sa.sun_path, path.size());
  return sa;
}

bool someone_answers(const sockaddr_un& sa) {
  UniqueFd probe(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
  return probe && ::connect(probe.get(), reinterpret_cast<const sockaddr*>(&sa), sizeof sa) == 0;
}

std::string absolute(const std::string& dir) {
  return dir.empty() ? dir : fs::absolute(dir).lexically_normal().string();
}

}  // namespace

Service::Service(ServiceOptions options) : options_(std::move(options)) {
  const sockaddr_un sa = address_of(options_.address);
  struct stat st {};
  if (::lstat(options_.address.c_str(), &st) == 0) {
    if (!S_ISSOCK(st.st_mode)) {
      throw CkptError(CkptError::kUsage,
                      options_.address + " exists and is not a socket: give another --address");
    }
    if (someone_answers(sa)) {
      throw CkptError(CkptError::kUsage, "another ckpt service answers on " + options_.address +
                                             ": stop it first, or give another --address");
    }
    ::unlink(options_.address.c_str());
  }
  listener_ = UniqueFd(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0));
  if (!listener_) throw_errno("socket for ckpt service");
  if (::bind(listener_.get(), reinterpret_cast<const sockaddr*>(&sa), sizeof sa) != 0)
    throw_errno("binding ckpt service to " + options_.address);
  if (::chmod(options_.address.c_str(), 0666) != 0 || ::listen(listener_.get(), 64) != 0)
    throw_errno("listening on " + options_.address);
  engine_thread_ = std::thread([this] { engine_loop(); });
}

Service::~Service() {
  {
    std::lock_guard lock(queue_mutex_);
    stopping_ = true;
  }
  queued_.notify_all();
  engine_thread_.join();
  ::unlink(options_.address.c_str());
}

void Service::engine_loop() {
  for (;;) {
    std::packaged_task<json()> op;
    {
      std::unique_lock lock(queue_mutex_);
      queued_.wait(lock, [this] { return stopping_ || !queue_.empty(); });
      if (queue_.empty()) return;
      op = std::move(queue_.front());
      queue_.pop_front();
    }
    op();
  }
}

json Service::on_engine(std::function<json()> op) {
  std::packaged_task<json()> task(std::move(op));
  auto result = task.get_future();
  {
    std::lock_guard lock(queue_mutex_);
    queue_.push_back(std::move(task));
  }
  queued_.notify_one();
  return result.get();
}

void Service::log(const std::string& line) {
  if (!options_.log) return;
  std::lock_guard lock(log_mutex_);
  *options_.log << "ckpt service: " << line << std::endl;
}

void Service::run(const std::atomic<bool>& stop) {
  log("serving on " + options_.address);
  while (!stop) {
    pollfd p{listener_.get(), POLLIN, 0};
    if (::poll(&p, 1, 200) <= 0) continue;
    UniqueFd conn(::accept4(listener_.get(), nullptr, nullptr, SOCK_CLOEXEC | SOCK_NONBLOCK));
    if (!conn) continue;
    {
      std::lock_guard lock(active_mutex_);
      if (active_ >= options_.max_connections) {
        const auto busy = frame(
            error_reply(CkptError::kSystem, "ckpt service is serving " + std::to_string(active_) +
                                                " connections already: try again"));
        ::send(conn.get(), busy.data(), busy.size(), MSG_NOSIGNAL | MSG_DONTWAIT);
        continue;
      }
      ++active_;
    }
    std::thread([this, c = std::move(conn)]() mutable {
      serve(std::move(c));
      std::lock_guard lock(active_mutex_);
      --active_;
      idle_.notify_all();
    }).detach();
  }
  std::unique_lock lock(active_mutex_);
  idle_.wait(lock, [this] { return active_ == 0; });
  log("stopped");
}

void Service::serve(UniqueFd conn) {
  Peer peer;
  try {
    peer = peer_of(conn.get());
  } catch (const std::exception& e) {
    log(std::string("a connection without credentials: ") + e.what());
    return;
  }
  json reply;
  try {
    const Deadline deadline(options_.request_timeout);
    std::array<std::uint8_t, 4> header{};
    read_exact(conn.get(), header, deadline);
    std::vector<std::uint8_t> body(frame_length(header));
    read_exact(conn.get(), body, deadline);
    const Request request = parse_request(body);
    reply = handle(peer, request);
  } catch (const NetError& e) {
    // Half a request: it gets a word if it still listens, and the others were served meanwhile.
    log(peer.describe() + ": " + e.what());
    reply = error_reply(CkptError::kUsage, std::string("incomplete request: ") + e.what());
  } catch (const CkptError& e) {
    log(peer.describe() + ": " + e.what());
    reply = error_reply(e.kind(), e.what());
  } catch (const std::exception& e) {
    log(peer.describe() + ": internal error: " + e.what());
    reply = error_reply(CkptError::kSystem, std::string("internal error: ") + e.what());
  }
  try {
    write_all(conn.get(), frame(reply), Deadline(options_.request_timeout));
  } catch (const NetError& e) {
    log(peer.describe() + ": the reply was not taken: " + e.what());
  }
}

json Service::handle(const Peer& peer, const Request& request) {
  if (request.op == "check") {
    return on_engine([] {
      const auto findings = check_kernel();
      return json{{"ok", true},
                  {"status", "checked"},
                  {"usable", all_required_ok(findings)},
                  {"findings", findings_to_json(findings)}};
    });
  }
  if (request.op == "restore") return restore(peer, request);
  return dump(peer, request);
}

json Service::dump(const Peer& peer, const Request& request) {
  DumpOptions o;
  // A process asking for itself is the one the kernel vouches for, whatever PID namespace it
  // sees itself in.
  o.pid = request.self_fd ? peer.pid : request.pid;
  o.dir = absolute(request.images_dir);
  o.prev_dir = absolute(request.prev_images_dir);
  o.leave_running = request.leave_running;
  o.shell_job = request.shell_job;
  o.tcp_established = request.tcp_established;
  o.pre_dump = request.op == "pre-dump";
  o.action_scripts = options_.action_scripts;
  // Before the tree is touched, and again for each process once it is held and can no longer
  // exec a setuid program.
  check_may_trace(peer, o.pid);
  check_may_write_image(peer, o.dir);
  if (!o.prev_dir.empty()) check_may_read_image(peer, o.prev_dir);
  o.authorize = [&peer](pid_t pid) { check_may_trace(peer, pid); };
  if (request.self_fd) {
    o.caller_fd = request.self_fd;
    const auto bytes = frame(restored_reply());
    o.caller_reply.assign(bytes.begin(), bytes.end());
  }
  const auto started = Clock::now();
  on_engine([&o] {
    engine::dump(o);
    return json();
  });
  give_image(peer, o.dir);
  const double seconds = std::chrono::duration<double>(Clock::now() - started).count();
  log(peer.describe() + ": " + request.op + " of " + std::to_string(o.pid) +
      (request.self_fd ? " (itself)" : "") + " into " + o.dir + " in " +
      std::to_string(seconds).substr(0, 5) + " s");
  return {{"ok", true}, {"status", o.pre_dump ? "pre-dumped" : "dumped"}, {"images_dir", o.dir}};
}

json Service::restore(const Peer& peer, const Request& request) {
  // An image is files its caller could have written: restored with root's power it would open,
  // map and run as whatever it names. Only root may have the service restore.
  if (!peer.root()) {
    throw CkptError(CkptError::kDenied,
                    "ckpt service refuses " + peer.describe() +
                        ": only root may restore through the service (an image is files its "
                        "caller could have written, and a restore runs what it names)");
  }
  RestoreOptions o;
  o.dir = absolute(request.images_dir);
  o.detach = true;
  o.action_scripts = options_.action_scripts;
  RestoreResult r;
  on_engine([&] {
    r = engine::restore(o);
    return json();
  });
  // The restored root is the service's child: reaped when it ends, so that it leaves no
  // zombie behind.
  std::thread([pid = r.pid] {
    int status = 0;
    while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
    }
  }).detach();
  log(peer.describe() + ": restored " + o.dir + " as process " + std::to_string(r.pid));
  return {{"ok", true}, {"status", "restored"}, {"pid", r.pid}};
}

}  // namespace crossrig::engine::service
