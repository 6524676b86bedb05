// File locks held again after restore, as another process sees them: a flock() lock, two
// POSIX (fcntl) ranges of the process, and an OFD lock of an open file description.
#include <fcntl.h>
#include <sys/file.h>
#include <sys/wait.h>
#include <unistd.h>

#include <string>

#include "tests/tracees/tracee.h"

namespace crossrig::tracee {
namespace {

int g_flock = -1, g_posix = -1, g_ofd = -1;

void range_lock(int fd, int cmd, short type, off_t start, off_t len) {
  struct flock fl {};
  fl.l_type = type;
  fl.l_whence = SEEK_SET;
  fl.l_start = start;
  fl.l_len = len;
  fcntl(fd, cmd, &fl);
}

// The lock another process would run into at [start, start+1), or F_UNLCK.
struct flock conflict(const char* path, int cmd, short want, off_t start) {
  struct flock fl {};
  fl.l_type = want;
  fl.l_whence = SEEK_SET;
  fl.l_start = start;
  fl.l_len = 1;
  int fd = open(path, O_RDWR);
  fcntl(fd, cmd, &fl);
  close(fd);
  return fl;
}

void setup() {
  g_flock = open("ckpt-flock.dat", O_RDWR | O_CREAT | O_TRUNC, 0600);  // in the run's cwd
  flock(g_flock, LOCK_EX);
  g_posix = open("ckpt-posix.dat", O_RDWR | O_CREAT | O_TRUNC, 0600);
  range_lock(g_posix, F_SETLK, F_WRLCK, 5, 10);
  range_lock(g_posix, F_SETLK, F_RDLCK, 100, 0);
  g_ofd = open("ckpt-ofd.dat", O_RDWR | O_CREAT | O_TRUNC, 0600);
  range_lock(g_ofd, F_OFD_SETLK, F_WRLCK, 0, 0);
}

// Runs in a child: each failed expectation sets a bit of the exit code.
int probe(pid_t owner) {
  int bad = 0;
  int fd = open("ckpt-flock.dat", O_RDWR);
  if (flock(fd, LOCK_EX | LOCK_NB) == 0) bad |= 1;
  struct flock w = conflict("ckpt-posix.dat", F_GETLK, F_WRLCK, 7);
  if (w.l_type != F_WRLCK || w.l_pid != owner || w.l_start != 5 || w.l_len != 10) bad |= 2;
  if (conflict("ckpt-posix.dat", F_GETLK, F_WRLCK, 50).l_type != F_UNLCK) bad |= 4;
  if (conflict("ckpt-posix.dat", F_GETLK, F_WRLCK, 5000).l_type != F_RDLCK) bad |= 8;
  if (conflict("ckpt-ofd.dat", F_OFD_GETLK, F_RDLCK, 3).l_type != F_WRLCK) bad |= 16;
  return bad;
}

std::optional<std::string> check() {
  const pid_t owner = getpid();
  pid_t child = fork();
  if (child == 0) _exit(probe(owner));
  int status = 0;
  if (waitpid(child, &status, 0) != child || !WIFEXITED(status)) return "the probe is gone";
  if (int bad = WEXITSTATUS(status); bad != 0)
    return "locks another process should run into are missing (bits " + std::to_string(bad) +
           ": 1 flock, 2-8 POSIX ranges, 16 OFD)";
  return std::nullopt;
}

}  // namespace
const Test kTest{setup, nullptr, check};
}  // namespace crossrig::tracee
