// A socket in flight (SCM_RIGHTS) whose own queue holds a descriptor in flight, which the dump
// refuses, naming both sockets; check() proves the refused dump took nothing from either
// queue.
#include <sys/socket.h>
#include <unistd.h>

#include <cstring>
#include <string>

#include "tests/tracees/send_fds.h"
#include "tests/tracees/tracee.h"

namespace crossrig::tracee {
namespace {

int g_outer[2] = {-1, -1};

// The next message's bytes and its descriptor (-1 if none).
std::string receive(int fd, int* passed) {
  char buf[16];
  alignas(cmsghdr) char control[CMSG_SPACE(sizeof(int))] = {};
  iovec iov{buf, sizeof buf};
  msghdr msg{};
  msg.msg_iov = &iov;
  msg.msg_iovlen = 1;
  msg.msg_control = control;
  msg.msg_controllen = sizeof control;
  *passed = -1;
  ssize_t n = recvmsg(fd, &msg, MSG_DONTWAIT);
  if (n < 0) return "<nothing>";
  if (cmsghdr* c = CMSG_FIRSTHDR(&msg); c != nullptr && c->cmsg_type == SCM_RIGHTS)
    std::memcpy(passed, CMSG_DATA(c), sizeof *passed);
  return std::string(buf, static_cast<std::size_t>(n));
}

void setup() {
  int inner[2], pipe_ends[2];
  socketpair(AF_UNIX, SOCK_STREAM, 0, g_outer);
  socketpair(AF_UNIX, SOCK_DGRAM, 0, inner);
  (void)!pipe(pipe_ends);
  send_fds(inner[1], "inner", {pipe_ends[0]});
  send_fds(g_outer[0], "outer", {inner[0]});
  close(inner[0]);
  close(inner[1]);
  close(pipe_ends[0]);
  close(pipe_ends[1]);
}

std::optional<std::string> check() {
  int inner = -1, pipe_r = -1;
  if (receive(g_outer[1], &inner) != "outer" || inner < 0)
    return "the socket in flight left its queue";
  const bool kept = receive(inner, &pipe_r) == "inner" && pipe_r >= 0;
  close(inner);
  close(pipe_r);
  if (!kept) return "the descriptor in flight inside the socket in flight left its queue";
  return std::nullopt;
}

}  // namespace
const Test kTest{setup, nullptr, check};
}  // namespace crossrig::tracee
