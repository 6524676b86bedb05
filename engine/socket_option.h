#pragma once
// getsockopt/setsockopt that throw kSystem naming the socket, for the socket tables.

#include <sys/socket.h>

#include <string>

#include "engine/ckpt_error.h"

namespace crossrig::engine {

/// The value of option at level of socket fd; what names the socket in the error.
template <typename T>
T get_socket_option(int fd, int level, int option, const std::string& what) {
  T value{};
  socklen_t len = sizeof value;
  if (::getsockopt(fd, level, option, &value, &len) != 0)
    throw_errno("reading socket option " + std::to_string(option) + " of " + what);
  return value;
}

/// Sets option at level of socket fd to value.
template <typename T>
void set_socket_option(int fd, int level, int option, const T& value, const std::string& what) {
  if (::setsockopt(fd, level, option, &value, sizeof value) != 0)
    throw_errno("setting socket option " + std::to_string(option) + " of " + what);
}

}  // namespace crossrig::engine
