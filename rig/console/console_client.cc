#include "rig/console/console_client.h"

#include <sys/socket.h>
#include <sys/un.h>

#include <cerrno>
#include <cstring>

#include "rig/console/console_paths.h"

namespace crossrig::rig::console {

std::optional<UniqueFd> connect_mux(const std::filesystem::path& socket, const Hello& hello) {
  sockaddr_un addr = unix_socket_address(socket);
  UniqueFd fd(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
  if (!fd) throw NetError(NetError::kOther, std::string("socket: ") + std::strerror(errno));
  if (::connect(fd.get(), reinterpret_cast<const sockaddr*>(&addr), sizeof addr) != 0) {
    if (errno == ENOENT || errno == ECONNREFUSED) return std::nullopt;
    throw NetError(NetError::kUnreachable,
                   "cannot connect to " + socket.string() + ": " + std::strerror(errno));
  }
  set_nonblocking(fd.get());
  std::string line = format_hello(hello);
  Deadline deadline(std::chrono::seconds(5));
  write_all(fd.get(), std::span(reinterpret_cast<const std::uint8_t*>(line.data()), line.size()),
            deadline);
  // Read byte by byte so no console output after the answer is taken from the caller.
  std::string answer;
  std::uint8_t byte = 0;
  while (answer.size() < 512 && (answer.empty() || answer.back() != '\n')) {
    if (read_some(fd.get(), std::span(&byte, 1), deadline) == 0) break;
    answer.push_back(static_cast<char>(byte));
  }
  if (answer != kHelloAck) {
    throw NetError(NetError::kOther,
                   "the multiplexer at " + socket.string() + " refused this client: " + answer);
  }
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
                   "no console multiplexer for " + target.board + " at " + target.socket.string() +
                       "; start `rig console serve` for it or give --address HOST:PORT");
  }
  c.fd = connect_tcp(*target.address, deadline);
  c.description = format_host_port(*target.address);
  return c;
}

}  // namespace crossrig::rig::console
