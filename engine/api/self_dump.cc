// libckpt's side of ckpt service: one request on a fresh connection, one reply. The process
// waits for the reply in a plain blocking read; the service dumps it meanwhile, so the image
// holds the process inside that read (or about to start it), and a restored copy finds the
// reply the image recorded on that fd instead (engine/caller_fd.h).
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <filesystem>

#include "common/unique_fd.h"
#include "engine/api/libckpt.h"
#include "engine/service/service_protocol.h"

namespace crossrig::ckpt {
namespace {

using nlohmann::json;

UniqueFd connect_to(const std::string& address) {
  sockaddr_un sa{};
  sa.sun_family = AF_UNIX;
  if (address.empty() || address.size() >= sizeof sa.sun_path)
    throw Error(Error::kUsage, "'" + address + "' is not a unix socket path");
  address.copy(sa.sun_path, address.size());
  UniqueFd fd(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
  if (!fd) engine::throw_errno("socket for ckpt service");
  int rc;
  while ((rc = ::connect(fd.get(), reinterpret_cast<const sockaddr*>(&sa), sizeof sa)) != 0 &&
         errno == EINTR) {
  }
  if (rc != 0)
    engine::throw_errno("connecting to ckpt service at " + address + " (is it running?)");
  return fd;
}

// Reads exactly buf.size() bytes; false when the connection ends first.
bool read_all(int fd, std::uint8_t* buf, std::size_t n) {
  std::size_t done = 0;
  while (done < n) {
    const ssize_t got = ::read(fd, buf + done, n - done);
    if (got < 0 && errno == EINTR) continue;
    if (got <= 0) return false;
    done += static_cast<std::size_t>(got);
  }
  return true;
}

json call(int fd, const json& request) {
  const auto out = engine::service::frame(request);
  std::size_t done = 0;
  while (done < out.size()) {
    const ssize_t n = ::send(fd, out.data() + done, out.size() - done, MSG_NOSIGNAL);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) engine::throw_errno("sending the request to ckpt service");
    done += static_cast<std::size_t>(n);
  }
  std::array<std::uint8_t, 4> header{};
  if (!read_all(fd, header.data(), header.size()))
    throw Error(Error::kSystem, "ckpt service closed the connection without a reply");
  std::vector<std::uint8_t> body(engine::service::frame_length(header));
  if (!read_all(fd, body.data(), body.size()))
    throw Error(Error::kSystem, "ckpt service's reply was cut short");
  json reply = json::parse(body.begin(), body.end(), nullptr, false);
  if (!reply.is_object() || !reply.contains("ok"))
    throw Error(Error::kSystem, "ckpt service's reply is not one of its replies");
  if (reply["ok"] != true) {
    const int code = reply.value("code", static_cast<int>(Error::kSystem));
    const auto kind = code >= Error::kUsage && code <= Error::kDenied
                          ? static_cast<Error::Kind>(code)
                          : Error::kSystem;
    throw Error(kind, reply.value("error", std::string("ckpt service refused the request")));
  }
  return reply;
}

}  // namespace

SelfDump dump_self(const std::string& service_address, const Options& opts) {
  if (opts.images_dir.empty()) throw Error(Error::kUsage, "dump_self needs an image directory");
  const UniqueFd fd = connect_to(service_address);
  engine::service::Request r;
  r.op = "dump";
  r.pid = ::getpid();
  r.images_dir = std::filesystem::absolute(opts.images_dir).lexically_normal().string();
  r.leave_running = opts.leave_running;
  r.shell_job = opts.shell_job;
  r.tcp_established = opts.tcp_established;
  r.self_fd = fd.get();
  const json reply = call(fd.get(), engine::service::to_json(r));
  const std::string status = reply.value("status", "");
  if (status == "restored") return SelfDump::kRestored;
  if (status == "dumped") return SelfDump::kDumped;
  throw Error(Error::kSystem, "ckpt service answered '" + status + "' to a dump");
}

}  // namespace crossrig::ckpt
