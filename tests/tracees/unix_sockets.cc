// Unix sockets of every kind across checkpoint/restore, each with bytes queued: stream,
// seqpacket and datagram socketpairs; a listener with an accepted connection and one still
// waiting in its queue; a datagram server with datagrams queued from a named sender, an unnamed
// one and one closed since, and a client connected to it; a stream whose writer closed after
// writing; a half-shut stream; a socket whose file was removed; one end held by a child that
// echoes; options (SO_SNDBUF, SO_PASSCRED, SO_RCVTIMEO, SO_PEEK_OFF). Names live in the tracee's
// own directory or, abstract, carry its pid, so concurrent runs do not meet.
#include <fcntl.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cctype>
#include <climits>
#include <cstddef>
#include <cstring>
#include <string>

#include "tests/tracees/tracee.h"

namespace crossrig::tracee {
namespace {

int g_stream[2], g_seqpacket[2], g_dgram[2], g_closed_peer = -1, g_half[2], g_echo = -1;
int g_listener = -1, g_accepted = -1, g_client = -1, g_pending_client = -1;
int g_server = -1, g_named_sender = -1, g_dgram_client = -1, g_gone = -1;
pid_t g_echo_child = -1;
std::string g_dir;

sockaddr_un address(const std::string& name, socklen_t* len) {
  sockaddr_un a{};
  a.sun_family = AF_UNIX;
  std::memcpy(a.sun_path, name.data(), name.size());
  *len = static_cast<socklen_t>(offsetof(sockaddr_un, sun_path) + name.size() +
                                (name[0] == '\0' ? 0 : 1));
  return a;
}

std::string path(const char* file) {
  return g_dir + "/" + file;
}
std::string abstract(const char* what) {
  return std::string(1, '\0') + "crossrig-unix_sockets-" + std::to_string(getpid()) + "-" + what;
}

int bound(int type, const std::string& name) {
  int fd = socket(AF_UNIX, type, 0);
  unlink(name.c_str());
  socklen_t len = 0;
  sockaddr_un a = address(name, &len);
  bind(fd, reinterpret_cast<sockaddr*>(&a), len);
  return fd;
}

int connected(int type, const std::string& to, const std::string& own = "") {
  int fd = own.empty() ? socket(AF_UNIX, type, 0) : bound(type, own);
  socklen_t len = 0;
  sockaddr_un a = address(to, &len);
  connect(fd, reinterpret_cast<sockaddr*>(&a), len);
  return fd;
}

void put(int fd, const std::string& bytes) {
  (void)!send(fd, bytes.data(), bytes.size(), 0);
}

void echo_forever(int fd) {
  char buf[256];
  for (ssize_t n; (n = read(fd, buf, sizeof buf)) > 0;) {
    for (ssize_t i = 0; i < n; ++i)
      buf[i] = static_cast<char>(std::toupper(buf[i]));
    (void)!write(fd, buf, static_cast<std::size_t>(n));
  }
  _exit(0);
}

void setup() {
  char cwd[PATH_MAX];
  g_dir = getcwd(cwd, sizeof cwd);

  socketpair(AF_UNIX, SOCK_STREAM, 0, g_stream);
  put(g_stream[0], "hello ");
  put(g_stream[0], "stream");
  put(g_stream[1], "back");
  const int sndbuf = 50000, passcred = 1, peek_off = 2;
  setsockopt(g_stream[0], SOL_SOCKET, SO_SNDBUF, &sndbuf, sizeof sndbuf);
  setsockopt(g_stream[1], SOL_SOCKET, SO_PEEK_OFF, &peek_off, sizeof peek_off);

  socketpair(AF_UNIX, SOCK_SEQPACKET, 0, g_seqpacket);
  for (const char* record : {"one", "", "three"})
    put(g_seqpacket[0], record);

  socketpair(AF_UNIX, SOCK_DGRAM, 0, g_dgram);
  put(g_dgram[1], "first");
  put(g_dgram[1], "second");
  // A whole number of jiffies at any HZ, which the kernel keeps it in.
  const timeval timeout{7, 500000};
  setsockopt(g_dgram[0], SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof timeout);

  int writer[2];
  socketpair(AF_UNIX, SOCK_STREAM, 0, writer);
  put(writer[1], "last words");
  close(writer[1]);
  g_closed_peer = writer[0];

  socketpair(AF_UNIX, SOCK_STREAM, 0, g_half);
  put(g_half[0], "before shutdown");
  shutdown(g_half[0], SHUT_WR);

  g_listener = bound(SOCK_STREAM, path("listener.sock"));
  listen(g_listener, 5);
  g_client = connected(SOCK_STREAM, path("listener.sock"));
  g_accepted = accept(g_listener, nullptr, nullptr);
  put(g_client, "ping");
  put(g_accepted, "pong");
  g_pending_client = connected(SOCK_STREAM, path("listener.sock"), abstract("pending"));

  g_server = bound(SOCK_DGRAM, abstract("server"));
  setsockopt(g_server, SOL_SOCKET, SO_PASSCRED, &passcred, sizeof passcred);
  g_named_sender = bound(SOCK_DGRAM, path("sender.sock"));
  socklen_t len = 0;
  sockaddr_un server = address(abstract("server"), &len);
  sendto(g_named_sender, "from named", 10, 0, reinterpret_cast<sockaddr*>(&server), len);
  int anonymous = socket(AF_UNIX, SOCK_DGRAM, 0);
  sendto(anonymous, "from nobody", 11, 0, reinterpret_cast<sockaddr*>(&server), len);
  close(anonymous);
  int closed_sender = bound(SOCK_DGRAM, abstract("closed-sender"));
  sendto(closed_sender, "from the past", 13, 0, reinterpret_cast<sockaddr*>(&server), len);
  close(closed_sender);
  g_dgram_client = connected(SOCK_DGRAM, abstract("server"));

  g_gone = bound(SOCK_DGRAM, path("gone.sock"));
  unlink(path("gone.sock").c_str());

  int echo[2];
  socketpair(AF_UNIX, SOCK_STREAM, 0, echo);
  g_echo_child = fork();
  if (g_echo_child == 0) {
    close(echo[0]);
    echo_forever(echo[1]);
  }
  close(echo[1]);
  g_echo = echo[0];
}

std::string take(int fd, int flags = 0) {
  char buf[256];
  ssize_t n = recv(fd, buf, sizeof buf, flags | MSG_DONTWAIT);
  return n < 0 ? "<nothing>" : std::string(buf, static_cast<std::size_t>(n));
}

std::string sender_of_next(int fd, std::string* bytes) {
  char buf[256];
  sockaddr_un from{};
  socklen_t len = sizeof from;
  ssize_t n = recvfrom(fd, buf, sizeof buf, MSG_DONTWAIT, reinterpret_cast<sockaddr*>(&from), &len);
  *bytes = n < 0 ? "<nothing>" : std::string(buf, static_cast<std::size_t>(n));
  if (len <= offsetof(sockaddr_un, sun_path)) return "";
  std::string name(from.sun_path, len - offsetof(sockaddr_un, sun_path));
  if (name[0] != '\0') name.resize(std::strlen(name.c_str()));
  return name;
}

std::string own_name(int fd, bool peer) {
  sockaddr_un a{};
  socklen_t len = sizeof a;
  if ((peer ? getpeername(fd, reinterpret_cast<sockaddr*>(&a), &len)
            : getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len)) != 0)
    return "<error>";
  std::string name(a.sun_path, len - offsetof(sockaddr_un, sun_path));
  if (!name.empty() && name[0] != '\0') name.resize(std::strlen(name.c_str()));
  return name;
}

std::optional<std::string> same(const char* what, const std::string& got, const std::string& want) {
  if (got == want) return std::nullopt;
  return std::string(what) + " is \"" + got + "\", expected \"" + want + "\"";
}

std::optional<std::string> check_pairs() {
  int value = 0;
  socklen_t len = sizeof value;
  getsockopt(g_stream[0], SOL_SOCKET, SO_SNDBUF, &value, &len);
  if (auto r = expect_eq("the stream's SO_SNDBUF", value, 100000)) return r;
  // SO_PEEK_OFF 2: a peek starts two bytes in, and moves on by what it returned.
  if (auto r = same("a peek at the stream", take(g_stream[1], MSG_PEEK), "llo stream")) return r;
  const int off = 0;
  setsockopt(g_stream[1], SOL_SOCKET, SO_PEEK_OFF, &off, sizeof off);
  if (auto r = same("the stream's queue", take(g_stream[1]), "hello stream")) return r;
  if (auto r = same("the stream's other queue", take(g_stream[0]), "back")) return r;
  put(g_stream[0], "after");
  if (auto r = same("the stream after restore", take(g_stream[1]), "after")) return r;
  for (const char* record : {"one", "", "three"}) {
    if (auto r = same("a seqpacket record", take(g_seqpacket[1]), record)) return r;
  }
  if (auto r = same("the seqpacket's end", take(g_seqpacket[1]), "<nothing>")) return r;
  if (auto r = same("the first datagram", take(g_dgram[0]), "first")) return r;
  if (auto r = same("the second datagram", take(g_dgram[0]), "second")) return r;
  timeval timeout{};
  len = sizeof timeout;
  getsockopt(g_dgram[0], SOL_SOCKET, SO_RCVTIMEO, &timeout, &len);
  if (auto r = expect_eq("SO_RCVTIMEO", timeout.tv_sec * 1000000 + timeout.tv_usec, 7500000L))
    return r;
  if (auto r = same("the closed writer's bytes", take(g_closed_peer), "last words")) return r;
  if (auto r = same("the closed writer's end", take(g_closed_peer), "")) return r;
  if (send(g_closed_peer, "x", 1, MSG_NOSIGNAL) >= 0 || errno != EPIPE)
    return "writing to a socket whose peer closed did not fail with EPIPE";
  if (auto r = same("the half-shut stream", take(g_half[1]), "before shutdown")) return r;
  if (auto r = same("the half-shut stream's end", take(g_half[1]), "")) return r;
  put(g_half[1], "still open");
  if (auto r = same("the half-shut stream's way back", take(g_half[0]), "still open")) return r;
  if (send(g_half[0], "x", 1, MSG_NOSIGNAL) >= 0) return "the shut stream can send again";
  return std::nullopt;
}

std::optional<std::string> check_listener() {
  if (auto r = same("the accepted connection's name", own_name(g_accepted, false),
                    path("listener.sock")))
    return r;
  if (auto r = same("the accepted connection's queue", take(g_accepted), "ping")) return r;
  if (auto r = same("the client's queue", take(g_client), "pong")) return r;
  // Never wait for a connection the restore lost.
  fcntl(g_listener, F_SETFL, O_NONBLOCK);
  int pending = accept(g_listener, nullptr, nullptr);
  if (pending < 0) return "no connection was waiting in the listener's queue";
  if (auto r = same("the pending connection's peer", own_name(pending, true), abstract("pending")))
    return r;
  put(g_pending_client, "late");
  if (auto r = same("the pending connection", take(pending), "late")) return r;
  close(pending);
  int fresh = connected(SOCK_STREAM, path("listener.sock"));
  int again = accept(g_listener, nullptr, nullptr);
  const bool listens = fresh >= 0 && again >= 0;
  close(fresh);
  close(again);
  if (!listens) return "the listener no longer accepts connections at its path";
  return std::nullopt;
}

std::optional<std::string> check_datagrams() {
  std::string bytes;
  if (auto r = same("the first queued datagram's sender", sender_of_next(g_server, &bytes),
                    path("sender.sock")))
    return r;
  if (auto r = same("the first queued datagram", bytes, "from named")) return r;
  if (auto r = same("the second queued datagram's sender", sender_of_next(g_server, &bytes), ""))
    return r;
  if (auto r = same("the second queued datagram", bytes, "from nobody")) return r;
  if (auto r = same("the third queued datagram's sender", sender_of_next(g_server, &bytes),
                    abstract("closed-sender")))
    return r;
  if (auto r = same("the third queued datagram", bytes, "from the past")) return r;
  int passcred = 0;
  socklen_t len = sizeof passcred;
  getsockopt(g_server, SOL_SOCKET, SO_PASSCRED, &passcred, &len);
  if (auto r = expect_eq("the server's SO_PASSCRED", passcred, 1)) return r;
  put(g_dgram_client, "connected");
  if (auto r = same("the connected client's datagram", take(g_server), "connected")) return r;
  if (auto r = same("the removed socket's name", own_name(g_gone, false), path("gone.sock")))
    return r;
  struct stat st {};
  if (stat(path("gone.sock").c_str(), &st) == 0) return "the removed socket's file is back";
  return std::nullopt;
}

std::optional<std::string> check_echo() {
  put(g_echo, "echo me");
  char buf[64];
  timeval timeout{10, 0};
  setsockopt(g_echo, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof timeout);
  ssize_t n = recv(g_echo, buf, sizeof buf, 0);
  kill(g_echo_child, SIGKILL);
  waitpid(g_echo_child, nullptr, 0);
  return same("the child's echo",
              n < 0 ? "<nothing>" : std::string(buf, static_cast<std::size_t>(n)), "ECHO ME");
}

std::optional<std::string> check() {
  auto r = check_pairs();
  if (!r) r = check_listener();
  if (!r) r = check_datagrams();
  // Last, as it ends the child whichever way the others went.
  auto echo = check_echo();
  return r ? r : echo;
}

}  // namespace
const Test kTest{setup, nullptr, check};
}  // namespace crossrig::tracee
