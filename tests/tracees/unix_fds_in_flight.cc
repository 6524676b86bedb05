// Descriptors sent over unix sockets (SCM_RIGHTS) and not received yet come back queued in
// their messages. A stream socketpair carries: a file the process also holds (one description,
// sharing the offset), then a file only in flight, a pipe with bytes in it and an eventfd in
// one message, then one end of a socketpair with bytes queued to it, then plain bytes. A
// datagram socketpair and a seqpacket one carry a message with a descriptor between plain
// ones. Names live in the run's directory, and check() only reads the file, so it can run
// again on the restored copy.
#include <fcntl.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include <climits>
#include <cstdint>
#include <cstring>
#include <string>
#include <utility>
#include <vector>

#include "tests/tracees/send_fds.h"
#include "tests/tracees/tracee.h"

namespace crossrig::tracee {
namespace {

int g_stream[2] = {-1, -1}, g_dgram[2] = {-1, -1}, g_seqpacket[2] = {-1, -1};
int g_file = -1, g_pipe_w = -1, g_pair = -1;
std::string g_dir;

void setup() {
  char cwd[PATH_MAX];
  g_dir = getcwd(cwd, sizeof cwd);
  socketpair(AF_UNIX, SOCK_STREAM, 0, g_stream);
  socketpair(AF_UNIX, SOCK_DGRAM, 0, g_dgram);
  socketpair(AF_UNIX, SOCK_SEQPACKET, 0, g_seqpacket);

  g_file = open("shared.dat", O_RDWR | O_CREAT | O_TRUNC, 0600);
  (void)!write(g_file, "shared file", 11);
  lseek(g_file, 3, SEEK_SET);
  send_fds(g_stream[0], "shared", {g_file});

  int only = open("only-in-flight.dat", O_WRONLY | O_CREAT | O_TRUNC | O_APPEND, 0600);
  (void)!write(only, "0123456789", 10);
  lseek(only, 4, SEEK_SET);
  int pipe_ends[2];
  (void)!pipe(pipe_ends);
  (void)!write(pipe_ends[1], "in the pipe", 11);
  g_pipe_w = pipe_ends[1];
  int counter = eventfd(5, EFD_NONBLOCK);
  send_fds(g_stream[0], "several", {only, pipe_ends[0], counter});
  close(only);
  close(pipe_ends[0]);
  close(counter);

  int pair[2];
  socketpair(AF_UNIX, SOCK_STREAM, 0, pair);
  (void)!write(pair[0], "to the traveller", 16);
  g_pair = pair[0];
  send_fds(g_stream[0], "socket", {pair[1]});
  close(pair[1]);
  send_fds(g_stream[0], "plain", {});

  for (int* ends : {g_dgram, g_seqpacket}) {
    int file = open("record.dat", O_RDONLY | O_CREAT, 0600);
    send_fds(ends[0], "before", {});
    send_fds(ends[0], "record", {file});
    send_fds(ends[0], "after", {});
    close(file);
  }
}

struct Message {
  std::string bytes = "<nothing>";
  std::vector<int> fds;
};

// The next message; its descriptors are the caller's to close.
Message receive(int fd, std::size_t size) {
  Message m;
  std::string buf(size, '\0');
  iovec iov{buf.data(), buf.size()};
  alignas(cmsghdr) char control[CMSG_SPACE(sizeof(int) * 8)] = {};
  msghdr msg{};
  msg.msg_iov = &iov;
  msg.msg_iovlen = 1;
  msg.msg_control = control;
  msg.msg_controllen = sizeof control;
  ssize_t n = recvmsg(fd, &msg, MSG_DONTWAIT | MSG_CMSG_CLOEXEC);
  if (n < 0) return m;
  m.bytes = buf.substr(0, static_cast<std::size_t>(n));
  for (cmsghdr* c = CMSG_FIRSTHDR(&msg); c != nullptr; c = CMSG_NXTHDR(&msg, c)) {
    if (c->cmsg_type != SCM_RIGHTS) continue;
    for (std::size_t i = 0; i < (c->cmsg_len - CMSG_LEN(0)) / sizeof(int); ++i) {
      int passed = -1;
      std::memcpy(&passed, CMSG_DATA(c) + i * sizeof(int), sizeof passed);
      m.fds.push_back(passed);
    }
  }
  return m;
}

// The message must hold bytes and want descriptors; then they are checked one by one.
std::optional<std::string> expect(const Message& m, const std::string& bytes, std::size_t want) {
  if (m.bytes != bytes) return "a message is \"" + m.bytes + "\", expected \"" + bytes + "\"";
  if (m.fds.size() != want)
    return "message \"" + bytes + "\" came with " + std::to_string(m.fds.size()) +
           " descriptors, expected " + std::to_string(want);
  return std::nullopt;
}

std::string path_of(int fd) {
  char link[PATH_MAX] = {};
  return readlink(("/proc/self/fd/" + std::to_string(fd)).c_str(), link, sizeof link - 1) > 0
             ? link
             : "<none>";
}

std::string read_some(int fd) {
  char buf[64];
  ssize_t n = read(fd, buf, sizeof buf);
  return n < 0 ? "<nothing>" : std::string(buf, static_cast<std::size_t>(n));
}

std::optional<std::string> check_shared(const Message& m) {
  if (auto r = expect(m, "shared", 1)) return r;
  if (path_of(m.fds[0]) != g_dir + "/shared.dat") return "the shared file is " + path_of(m.fds[0]);
  if (auto r = expect_eq("the shared file's offset", lseek(m.fds[0], 0, SEEK_CUR), off_t{3}))
    return r;
  lseek(m.fds[0], 7, SEEK_SET);
  if (lseek(g_file, 0, SEEK_CUR) != 7)
    return "the file in flight no longer shares its description with the process's fd";
  lseek(g_file, 3, SEEK_SET);
  return std::nullopt;
}

std::optional<std::string> check_several(const Message& m) {
  if (auto r = expect(m, "several", 3)) return r;
  const int only = m.fds[0], pipe_r = m.fds[1], counter = m.fds[2];
  if (path_of(only) != g_dir + "/only-in-flight.dat")
    return "the file only in flight is " + path_of(only);
  if (auto r = expect_eq("its offset", lseek(only, 0, SEEK_CUR), off_t{4})) return r;
  if (auto r = expect_eq("its flags", fcntl(only, F_GETFL) & (O_ACCMODE | O_APPEND),
                         O_WRONLY | O_APPEND))
    return r;
  if (read_some(pipe_r) != "in the pipe") return "the pipe in flight lost its bytes";
  (void)!write(g_pipe_w, "more", 4);
  if (read_some(pipe_r) != "more") return "the pipe in flight is not the process's pipe";
  std::uint64_t count = 0;
  if (read(counter, &count, sizeof count) != sizeof count || count != 5)
    return "the eventfd in flight lost its count of 5";
  return std::nullopt;
}

std::optional<std::string> check_socket(const Message& m) {
  if (auto r = expect(m, "socket", 1)) return r;
  if (read_some(m.fds[0]) != "to the traveller") return "the socket in flight lost its queue";
  (void)!write(m.fds[0], "back", 4);
  if (read_some(g_pair) != "back") return "the socket in flight is no longer the pair's end";
  return std::nullopt;
}

std::optional<std::string> check_records(int fd, const char* type) {
  if (auto r = expect(receive(fd, 64), "before", 0)) return std::string(type) + ": " + *r;
  Message m = receive(fd, 64);
  std::optional<std::string> r = expect(m, "record", 1);
  if (!r && path_of(m.fds[0]) != g_dir + "/record.dat")
    r = "the file in flight is " + path_of(m.fds[0]);
  for (int passed : m.fds)
    close(passed);
  if (!r) r = expect(receive(fd, 64), "after", 0);
  if (r) return std::string(type) + ": " + *r;
  return std::nullopt;
}

std::optional<std::string> check() {
  // Each message read to its exact length, as a receiver that knows its protocol would.
  using Check = std::optional<std::string> (*)(const Message&);
  const std::pair<std::string, Check> messages[] = {
      {"shared", check_shared}, {"several", check_several}, {"socket", check_socket}};
  std::optional<std::string> r;
  for (const auto& [bytes, check_one] : messages) {
    Message m = receive(g_stream[1], bytes.size());
    if (!r) r = check_one(m);
    for (int passed : m.fds)
      close(passed);
  }
  if (!r) r = expect(receive(g_stream[1], 64), "plain", 0);
  if (!r) r = check_records(g_dgram[1], "datagram");
  if (!r) r = check_records(g_seqpacket[1], "seqpacket");
  return r;
}

}  // namespace
const Test kTest{setup, nullptr, check};
}  // namespace crossrig::tracee
