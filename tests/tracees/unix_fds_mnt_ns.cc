// A socket bound in a tmpfs only the tree's own mount namespace has, and a file of that tmpfs
// at an offset, sent over a socketpair (SCM_RIGHTS) and closed, so that only the message holds
// them: the socket must come back bound with its socket file, which the dump finds through the
// root of the process holding the queue (ckpt's own root does not see that tmpfs), the file
// with its path and offset.
#include <fcntl.h>
#include <sched.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <climits>
#include <cstring>
#include <string>

#include "tests/tracees/namespace_init.h"
#include "tests/tracees/send_fds.h"

namespace crossrig::tracee {
namespace {

int g_pair[2] = {-1, -1};
int g_release = -1;  // closed once set up: the launcher may leave then
std::string g_path, g_file;

void setup() {
  char cwd[PATH_MAX];
  const std::string dir = std::string(getcwd(cwd, sizeof cwd)) + "/mnt";
  g_release = become_namespace_init(CLONE_NEWNS);
  mount(nullptr, "/", nullptr, MS_REC | MS_PRIVATE, nullptr);
  mkdir(dir.c_str(), 0755);
  mount("tmpfs", dir.c_str(), "tmpfs", 0, nullptr);
  g_path = dir + "/in-flight.sock";
  g_file = dir + "/in-flight.dat";
  int file = open(g_file.c_str(), O_RDWR | O_CREAT, 0600);
  (void)!write(file, "tmpfs file", 10);
  lseek(file, 3, SEEK_SET);
  int bound = socket(AF_UNIX, SOCK_DGRAM, 0);
  sockaddr_un a{};
  a.sun_family = AF_UNIX;
  std::strncpy(a.sun_path, g_path.c_str(), sizeof a.sun_path - 1);
  bind(bound, reinterpret_cast<sockaddr*>(&a), sizeof a);
  socketpair(AF_UNIX, SOCK_STREAM, 0, g_pair);
  send_fds(g_pair[0], "x", {bound, file});
  close(bound);
  close(file);
}

void wait() {
  close(g_release);
  wait_for_term();
}

std::optional<std::string> check() {
  char byte = 0;
  int received[2] = {-1, -1};
  alignas(cmsghdr) char control[CMSG_SPACE(sizeof received)] = {};
  iovec iov{&byte, 1};
  msghdr msg{};
  msg.msg_iov = &iov;
  msg.msg_iovlen = 1;
  msg.msg_control = control;
  msg.msg_controllen = sizeof control;
  if (recvmsg(g_pair[1], &msg, MSG_DONTWAIT) != 1 || CMSG_FIRSTHDR(&msg) == nullptr ||
      CMSG_FIRSTHDR(&msg)->cmsg_len != CMSG_LEN(sizeof received))
    return "the descriptors in flight are lost";
  std::memcpy(received, CMSG_DATA(CMSG_FIRSTHDR(&msg)), sizeof received);
  sockaddr_un a{};
  socklen_t len = sizeof a;
  getsockname(received[0], reinterpret_cast<sockaddr*>(&a), &len);
  char link[PATH_MAX] = {};
  (void)!readlink(("/proc/self/fd/" + std::to_string(received[1])).c_str(), link, sizeof link - 1);
  const off_t offset = lseek(received[1], 0, SEEK_CUR);
  close(received[0]);
  close(received[1]);
  if (g_file != link) return "the file in flight is \"" + std::string(link) + "\"";
  if (auto r = expect_eq("the file in flight's offset", offset, off_t{3})) return r;
  if (g_path != a.sun_path)
    return "the socket in flight is bound to \"" + std::string(a.sun_path) + "\"";
  struct stat st {};
  if (stat(g_path.c_str(), &st) != 0 || !S_ISSOCK(st.st_mode))
    return "the socket file of the socket in flight is gone";
  return std::nullopt;
}

}  // namespace
const Test kTest{setup, wait, check};
}  // namespace crossrig::tracee
