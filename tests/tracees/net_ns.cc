// A process started in a network namespace of its own, as `unshare --net` starts one, lo
// brought up, holding what exists only in that namespace: a TCP listener on 127.0.0.1 with
// an established connection carrying a request not yet read (dumped with --tcp-established)
// and a listener on an abstract unix name. A child in the same namespace connects to both
// after restore. The tree must come back in a new namespace of its own with lo up.
#include <net/if.h>
#include <netinet/in.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstddef>
#include <cstring>
#include <string>

#include "tests/tracees/tracee.h"

namespace crossrig::tracee {
namespace {

// Abstract names are per network namespace: the same name in every run is no clash.
constexpr char kAbstract[] = "crossrig-tracee-net-ns";

int g_listener = -1, g_client = -1, g_server = -1, g_unix = -1, g_port = 0;
pid_t g_child = -1;

ino_t net_of(pid_t pid) {
  struct stat st {};
  std::string path = "/proc/" + std::to_string(pid) + "/ns/net";
  return stat(path.c_str(), &st) == 0 ? st.st_ino : 0;
}

sockaddr_in loopback(int port) {
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  a.sin_port = htons(static_cast<std::uint16_t>(port));
  return a;
}

socklen_t abstract_address(sockaddr_un* a) {
  *a = {};
  a->sun_family = AF_UNIX;
  std::memcpy(a->sun_path + 1, kAbstract, sizeof kAbstract - 1);
  return static_cast<socklen_t>(offsetof(sockaddr_un, sun_path) + sizeof kAbstract);
}

short lo_flags(int fd) {
  ifreq req{};
  std::strcpy(req.ifr_name, "lo");
  return ioctl(fd, SIOCGIFFLAGS, &req) == 0 ? req.ifr_flags : 0;
}

bool lo_is_up() {
  int fd = socket(AF_INET, SOCK_DGRAM, 0);
  bool up = lo_flags(fd) & IFF_UP;
  close(fd);
  return up;
}

void bring_lo_up() {
  int fd = socket(AF_INET, SOCK_DGRAM, 0);
  ifreq req{};
  std::strcpy(req.ifr_name, "lo");
  req.ifr_flags = static_cast<short>(lo_flags(fd) | IFF_UP);
  ioctl(fd, SIOCSIFFLAGS, &req);
  close(fd);
}

int connect_tcp() {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a = loopback(g_port);
  return connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0 ? fd : -1;
}

int connect_unix() {
  int fd = socket(AF_UNIX, SOCK_STREAM, 0);
  sockaddr_un a;
  socklen_t len = abstract_address(&a);
  return connect(fd, reinterpret_cast<sockaddr*>(&a), len) == 0 ? fd : -1;
}

// No TIME_WAIT: the restored copy of the connection uses the same ports.
void close_with_reset(int fd) {
  linger l{1, 0};
  setsockopt(fd, SOL_SOCKET, SO_LINGER, &l, sizeof l);
  close(fd);
}

void setup() {
  unshare(CLONE_NEWNET);
  bring_lo_up();
  g_listener = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in any = loopback(0);
  bind(g_listener, reinterpret_cast<sockaddr*>(&any), sizeof any);
  listen(g_listener, 4);
  socklen_t len = sizeof any;
  getsockname(g_listener, reinterpret_cast<sockaddr*>(&any), &len);
  g_port = ntohs(any.sin_port);
  g_client = connect_tcp();
  g_server = accept(g_listener, nullptr, nullptr);
  (void)!write(g_client, "request", 7);

  g_unix = socket(AF_UNIX, SOCK_STREAM, 0);
  sockaddr_un u;
  socklen_t ulen = abstract_address(&u);
  bind(g_unix, reinterpret_cast<sockaddr*>(&u), ulen);
  listen(g_unix, 4);

  g_child = fork();
  if (g_child == 0) {
    sigset_t mask;
    sigprocmask(SIG_SETMASK, nullptr, &mask);
    sigdelset(&mask, SIGTERM);
    while (!stop_requested())
      sigsuspend(&mask);
    int tcp = connect_tcp();
    int unix_fd = connect_unix();
    if (tcp >= 0) close_with_reset(tcp);
    _exit((tcp < 0 ? 1 : 0) | (unix_fd < 0 ? 2 : 0));
  }
}

bool readable(int fd) {
  pollfd p{fd, POLLIN, 0};
  return poll(&p, 1, 10000) == 1;
}

std::optional<std::string> check_namespace() {
  if (net_of(getpid()) == net_of(getppid()))
    return std::string("the network namespace is its parent's, not its own");
  if (net_of(g_child) != net_of(getpid()))
    return std::string("the child left the network namespace");
  if (!lo_is_up()) return std::string("lo is down");
  char buf[16] = {};
  if (!readable(g_server) || read(g_server, buf, sizeof buf) != 7 || std::string(buf) != "request")
    return "the server read \"" + std::string(buf) + "\" instead of the queued request";
  if (write(g_server, "response", 8) != 8 || !readable(g_client) ||
      read(g_client, buf, sizeof buf) != 8 || std::string(buf, 8) != "response")
    return std::string("the response did not come back over the connection");
  return std::nullopt;
}

std::optional<std::string> check_child() {
  kill(g_child, SIGTERM);
  int status = 0;
  if (waitpid(g_child, &status, 0) != g_child) return std::string("the child is gone");
  g_child = -1;
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
    return "the child could not connect (status " + std::to_string(status) +
           "; bits: 1 the TCP listener, 2 the abstract name)";
  if (!readable(g_listener) || !readable(g_unix))
    return std::string("a listener saw no connection from the child");
  close_with_reset(accept(g_listener, nullptr, nullptr));
  close(accept(g_unix, nullptr, nullptr));
  return std::nullopt;
}

std::optional<std::string> check() {
  auto why = check_namespace();
  if (!why) why = check_child();
  if (g_child > 0) {
    kill(g_child, SIGKILL);
    waitpid(g_child, nullptr, 0);
  }
  close_with_reset(g_client);
  close_with_reset(g_server);
  return why;
}

}  // namespace
const Test kTest{setup, nullptr, check};
}  // namespace crossrig::tracee
