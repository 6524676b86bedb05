// Pipes and a FIFO with bytes in flight: a pipe within the process (enlarged, its reader
// non-blocking), a pipe from the process to its child, and a named FIFO. Every byte queued at
// the dump must be read back after restore, in order, and the pipes must still carry new data.
#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <string>

#include "tests/tracees/tracee.h"

namespace crossrig::tracee {
namespace {

constexpr int kBigPipe = 256 * 1024;
constexpr std::size_t kInFlight = 100 * 1024, kToChild = 3000, kInFifo = 500;
int g_self[2] = {-1, -1}, g_child_pipe = -1, g_fifo_r = -1, g_fifo_w = -1;
pid_t g_child = -1;

std::string pattern(std::size_t n, int seed) {
  std::string s(n, '\0');
  for (std::size_t i = 0; i < n; ++i)
    s[i] = static_cast<char>((i * 7 + static_cast<std::size_t>(seed)) % 251);
  return s;
}

// Reads exactly n bytes (fd may be non-blocking: all of them must already be queued).
std::string read_n(int fd, std::size_t n) {
  std::string s(n, '\0');
  std::size_t got = 0;
  while (got < n) {
    ssize_t r = read(fd, s.data() + got, n - got);
    if (r <= 0) break;
    got += static_cast<std::size_t>(r);
  }
  s.resize(got);
  return s;
}

void write_all(int fd, const std::string& s) {
  for (std::size_t done = 0; done < s.size();) {
    ssize_t w = write(fd, s.data() + done, s.size() - done);
    if (w <= 0) _exit(3);
    done += static_cast<std::size_t>(w);
  }
}

// The child waits for SIGTERM, then must find the parent's bytes and then end of file.
[[noreturn]] void child(int in) {
  sigset_t wait_mask;
  sigprocmask(SIG_SETMASK, nullptr, &wait_mask);
  sigdelset(&wait_mask, SIGTERM);
  while (!stop_requested())
    sigsuspend(&wait_mask);
  bool ok = read_n(in, kToChild) == pattern(kToChild, 2);
  char c;
  ok = ok && read(in, &c, 1) == 0;
  _exit(ok ? 0 : 1);
}

void setup() {
  pipe2(g_self, O_NONBLOCK);
  fcntl(g_self[1], F_SETFL, 0);  // only the read end stays non-blocking
  fcntl(g_self[0], F_SETPIPE_SZ, kBigPipe);
  write_all(g_self[1], pattern(kInFlight, 1));

  int to_child[2];
  pipe(to_child);
  g_child = fork();
  if (g_child == 0) {
    close(to_child[1]);
    child(to_child[0]);
  }
  close(to_child[0]);
  g_child_pipe = to_child[1];
  write_all(g_child_pipe, pattern(kToChild, 2));

  unlink("ckpt-fifo");  // in the cwd the driver gives each run
  mkfifo("ckpt-fifo", 0600);
  g_fifo_r = open("ckpt-fifo", O_RDONLY | O_NONBLOCK);
  g_fifo_w = open("ckpt-fifo", O_WRONLY);
  write_all(g_fifo_w, pattern(kInFifo, 3));
}

// The child first, so that it is reaped whatever fails after.
std::optional<std::string> check_child() {
  close(g_child_pipe);
  kill(g_child, SIGTERM);
  int status = 0;
  if (waitpid(g_child, &status, 0) != g_child) return "child is gone";
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
    return "child did not get the bytes in flight to it and then end of file (status " +
           std::to_string(status) + ")";
  return std::nullopt;
}

std::optional<std::string> check() {
  if (auto w = check_child()) return w;
  if (!(fcntl(g_self[0], F_GETFL) & O_NONBLOCK)) return "the read end lost O_NONBLOCK";
  if (fcntl(g_self[1], F_GETFL) & O_NONBLOCK) return "the write end gained O_NONBLOCK";
  if (auto w = expect_eq("pipe capacity", fcntl(g_self[0], F_GETPIPE_SZ), kBigPipe)) return w;
  if (read_n(g_self[0], kInFlight) != pattern(kInFlight, 1))
    return "the bytes in flight in the process's own pipe differ";
  char c;
  if (read(g_self[0], &c, 1) != -1 || errno != EAGAIN) return "the emptied pipe is not empty";
  write_all(g_self[1], "more");
  if (read_n(g_self[0], 4) != "more") return "the pipe does not carry new data";
  if (read_n(g_fifo_r, kInFifo) != pattern(kInFifo, 3)) return "the bytes in the FIFO differ";
  write_all(g_fifo_w, "fifo");
  if (read_n(g_fifo_r, 4) != "fifo") return "the FIFO does not carry new data";
  return std::nullopt;
}

}  // namespace
const Test kTest{setup, nullptr, check};
}  // namespace crossrig::tracee
