#include "rig/console/raw_terminal.h"

#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <stdexcept>
#include <string>

namespace crossrig::rig::console {

RawTerminal::RawTerminal(int fd) : fd_(fd) {
  if (!::isatty(fd)) return;
  if (::tcgetattr(fd, &saved_) != 0) {
    throw std::runtime_error(std::string("cannot read the terminal settings: ") +
                             std::strerror(errno));
  }
  termios raw = saved_;
  ::cfmakeraw(&raw);
  if (::tcsetattr(fd, TCSAFLUSH, &raw) != 0) {
    throw std::runtime_error(std::string("cannot put the terminal in raw mode: ") +
                             std::strerror(errno));
  }
  active_ = true;
}

RawTerminal::~RawTerminal() {
  if (active_) ::tcsetattr(fd_, TCSAFLUSH, &saved_);
}

}  // namespace crossrig::rig::console
