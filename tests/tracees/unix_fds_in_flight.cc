// A descriptor sent over a socketpair (SCM_RIGHTS) and not received yet, which the dump cannot
// checkpoint: it must refuse, naming the socket, rather than restore the queue without it.
#include <sys/socket.h>
#include <unistd.h>

#include <cstring>

#include "tests/tracees/tracee.h"

namespace crossrig::tracee {
namespace {

int g_pair[2] = {-1, -1};

void setup() {
  socketpair(AF_UNIX, SOCK_STREAM, 0, g_pair);
  int passed = dup(1);
  char byte = 'x';
  iovec iov{&byte, 1};
  alignas(cmsghdr) char control[CMSG_SPACE(sizeof(int))] = {};
  msghdr msg{};
  msg.msg_iov = &iov;
  msg.msg_iovlen = 1;
  msg.msg_control = control;
  msg.msg_controllen = sizeof control;
  cmsghdr* c = CMSG_FIRSTHDR(&msg);
  c->cmsg_level = SOL_SOCKET;
  c->cmsg_type = SCM_RIGHTS;
  c->cmsg_len = CMSG_LEN(sizeof(int));
  std::memcpy(CMSG_DATA(c), &passed, sizeof passed);
  sendmsg(g_pair[0], &msg, 0);
  close(passed);
}

std::optional<std::string> check() {
  char byte = 0;
  alignas(cmsghdr) char control[CMSG_SPACE(sizeof(int))] = {};
  iovec iov{&byte, 1};
  msghdr msg{};
  msg.msg_iov = &iov;
  msg.msg_iovlen = 1;
  msg.msg_control = control;
  msg.msg_controllen = sizeof control;
  if (recvmsg(g_pair[1], &msg, MSG_DONTWAIT) != 1 || CMSG_FIRSTHDR(&msg) == nullptr)
    return "the descriptor in flight is lost";
  return std::nullopt;
}

}  // namespace
const Test kTest{setup, nullptr, check};
}  // namespace crossrig::tracee
