#include "rig/lab/control_client.h"

#include <signal.h>
#include <sys/socket.h>
#include <sys/un.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <stdexcept>

#include "common/net_io.h"
#include "rig/console/console_paths.h"

namespace crossrig::rig::lab {

std::string ask_supervisor(const std::string& socket_path, const std::string& request,
                           std::chrono::milliseconds timeout) {
  crossrig::Deadline deadline(timeout);
  crossrig::UniqueFd fd(socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
  sockaddr_un addr = console::unix_socket_address(socket_path);
  if (!fd || connect(fd.get(), reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
    throw std::runtime_error("the lab's supervisor does not answer at " + socket_path + ": " +
                             std::strerror(errno));
  }
  crossrig::set_nonblocking(fd.get());
  std::string line = request + "\n";
  crossrig::write_all(fd.get(), {reinterpret_cast<const std::uint8_t*>(line.data()), line.size()},
                      deadline);
  std::string reply;
  while (reply.find('\n') == std::string::npos) {
    std::uint8_t buf[4096];
    std::size_t n = crossrig::read_some(fd.get(), buf, deadline);
    if (n == 0) break;
    reply.append(reinterpret_cast<const char*>(buf), n);
  }
  if (reply.empty()) throw std::runtime_error("the lab's supervisor closed without answering");
  return reply.substr(0, reply.find('\n'));
}

bool process_alive(int pid) {
  if (pid <= 0 || kill(pid, 0) != 0) return false;
  std::ifstream stat("/proc/" + std::to_string(pid) + "/stat");
  std::string text;
  std::getline(stat, text);
  auto close = text.rfind(')');
  return close != std::string::npos && close + 2 < text.size() && text[close + 2] != 'Z';
}

}  // namespace crossrig::rig::lab
