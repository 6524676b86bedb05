#include "rig/console/console_client.h"

#include <sys/socket.h>
#include <sys/un.h>

#include <cerrno>
#include <cstring>

namespace crossrig::rig::console {

std::optional<UniqueFd> connect_mux(const std::filesystem::path& socket, const Hello& hello) {
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  if (socket.native().size() >= sizeof addr.sun_path) {
    throw NetError(NetError::kOther, "socket path " + socket.string() + " is too long");
  }
  std::memcpy(addr.sun_path, socket.c_str(), socket.native().size());
  UniqueFd fd(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
  if (!fd) throw NetError(NetError::kOther, std::string("socket: ") + std::strerror(errno));
  if (::connect(fd.get(), reinterpret_cast<const sockaddr*>(&addr), sizeof addr) != 0) {
    if (errno == ENOENT || errno == ECONNREFUSED) return std::nullopt;
    throw NetError(NetError::kUnreachable,
                   "cannot connect to " + socket.string() + ": " + std::strerror(errno));
  }
  set_nonblocking(fd.get());
  std::string line = format_hello(hello);
  write_all(fd.get(),
            std::span(reinterpret_cast<const std::uint8_t*>(line.data()), line.size()),
            Deadline(std::chrono::seconds(5)));
  return fd;
}

ConsoleConnection open_console(const ConsoleTarget& target, const Hello& hello,
                               const Deadline& deadline) {
  ConsoleConnection c;
  if (auto fd = connect_mux(target.socket, hello)) {
    c.fd = std::move(*fd);
    c.via_mux = true;
    c.description = "multiplexer " + target.socket.string();
    return c;
  }
  if (!target.address) {
    throw NetError(NetError::kUnreachable,
                   "no console multiplexer for " + target.board + " at " +
                       target.socket.string() +
                       "; start `rig console serve` for it or give --address HOST:PORT");
  }
  c.fd = connect_tcp(*target.address, deadline);
  c.description = format_host_port(*target.address);
  return c;
}

}  // namespace crossrig::rig::console
