// Memory shared through files no name reaches, or only a /dev/shm one: a sealed memfd held by
// an fd and mapped shared by the process and its child, a memfd mapped privately with a page
// of its own, a file unlinked while mapped shared, and a POSIX shm object (shm_open). After
// restore each shared one must still be one memory for both processes (and for the fd), not
// two copies.
#include <fcntl.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <climits>
#include <cstring>
#include <functional>
#include <string>

#include "tests/tracees/tracee.h"

namespace crossrig::tracee {
namespace {

constexpr std::size_t kMemfdSize = 64 * 1024;
constexpr int kSeals = F_SEAL_GROW | F_SEAL_SHRINK;
// Offsets in each shared region: the parent writes at kFromParent after restore, the child
// answers at kFromChild; kReady is the child's "set up" flag.
constexpr std::size_t kFromParent = 100, kFromChild = 200, kReady = 300;

int g_memfd = -1;
char* g_memfd_map = nullptr;
char* g_private = nullptr;
char* g_unlinked = nullptr;
char* g_posix = nullptr;
std::size_t g_page = 0;
pid_t g_child = -1;
std::string g_shm_name;

char pattern(std::size_t i) {
  return static_cast<char>('a' + i % 23);
}

char* map_shared(int fd, std::size_t len) {
  return static_cast<char*>(mmap(nullptr, len, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0));
}

// Runs in the child after SIGTERM: each shared region must show the parent's write; the
// answer goes into all of them.
int child_checks() {
  int bad = 0, bit = 1;
  for (char* r : {g_memfd_map, g_unlinked, g_posix}) {
    if (r[kFromParent] != 'P') bad |= bit;
    r[kFromChild] = 'C';
    bit <<= 1;
  }
  return bad;
}

void setup() {
  g_page = static_cast<std::size_t>(sysconf(_SC_PAGESIZE));
  g_memfd = memfd_create("ckpt-shared", MFD_ALLOW_SEALING);
  std::string bytes(kMemfdSize, '\0');
  for (std::size_t i = 0; i < bytes.size(); ++i)
    bytes[i] = pattern(i);
  (void)!pwrite(g_memfd, bytes.data(), bytes.size(), 0);
  fcntl(g_memfd, F_ADD_SEALS, kSeals);
  g_memfd_map = map_shared(g_memfd, kMemfdSize);

  int priv = memfd_create("ckpt-private", 0);
  (void)!pwrite(priv, std::string(2 * g_page, 'p').data(), 2 * g_page, 0);
  g_private =
      static_cast<char*>(mmap(nullptr, 2 * g_page, PROT_READ | PROT_WRITE, MAP_PRIVATE, priv, 0));
  close(priv);
  g_private[0] = 'X';

  int un = open("ckpt-unlinked.dat", O_RDWR | O_CREAT | O_TRUNC, 0640);  // in the run's cwd
  (void)!ftruncate(un, static_cast<off_t>(g_page));
  g_unlinked = map_shared(un, g_page);
  unlink("ckpt-unlinked.dat");
  close(un);
  std::strcpy(g_unlinked, "before");

  // Named after the run's directory, not removed by check(): a --leave-running dump is
  // restored after the original passed its check, and the name must still be there. The next
  // run in that directory starts afresh.
  char cwd[PATH_MAX] = {};
  (void)!getcwd(cwd, sizeof cwd);
  g_shm_name = "/ckpt-tracee-" + std::to_string(std::hash<std::string>()(cwd));
  shm_unlink(g_shm_name.c_str());
  int shm = shm_open(g_shm_name.c_str(), O_RDWR | O_CREAT | O_EXCL, 0600);
  (void)!ftruncate(shm, static_cast<off_t>(g_page));
  g_posix = map_shared(shm, g_page);
  close(shm);

  g_child = fork();
  if (g_child == 0) {
    sigset_t mask;
    sigprocmask(SIG_SETMASK, nullptr, &mask);
    sigdelset(&mask, SIGTERM);
    g_memfd_map[kReady] = 1;
    while (!stop_requested())
      sigsuspend(&mask);
    _exit(child_checks());
  }
  while (g_memfd_map[kReady] == 0)
    usleep(1000);
}

std::optional<std::string> check_memory() {
  char link[PATH_MAX] = {};
  std::string fd_path = "/proc/self/fd/" + std::to_string(g_memfd);
  if (readlink(fd_path.c_str(), link, sizeof link - 1) < 0 ||
      std::string(link) != "/memfd:ckpt-shared (deleted)")
    return "the memfd's fd points at " + std::string(link);
  if (int seals = fcntl(g_memfd, F_GET_SEALS); seals != kSeals)
    return "the memfd's seals are " + std::to_string(seals) + ", not " + std::to_string(kSeals);
  struct stat st {};
  if (fstat(g_memfd, &st) != 0 || st.st_size != static_cast<off_t>(kMemfdSize))
    return "the memfd's size is " + std::to_string(st.st_size);
  for (std::size_t i : {std::size_t{0}, kMemfdSize / 2, kMemfdSize - 1}) {
    if (g_memfd_map[i] != pattern(i)) return "the memfd's content changed at " + std::to_string(i);
  }
  if (g_private[0] != 'X' || g_private[g_page] != 'p')
    return std::string("the private mapping of a memfd lost its own page or the file's");
  if (std::strcmp(g_unlinked, "before") != 0)
    return "the unlinked file's mapping holds \"" + std::string(g_unlinked) + "\"";
  for (char* r : {g_memfd_map, g_unlinked, g_posix})
    r[kFromParent] = 'P';
  kill(g_child, SIGTERM);
  int status = 0;
  if (waitpid(g_child, &status, 0) != g_child) return std::string("the child is gone");
  g_child = -1;
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
    return "the child did not see the parent's writes (status " + std::to_string(status) +
           "; bits: 1 memfd, 2 unlinked file, 4 POSIX shm)";
  const char* names[] = {"memfd", "unlinked file", "POSIX shm"};
  int n = 0;
  for (char* r : {g_memfd_map, g_unlinked, g_posix}) {
    if (r[kFromChild] != 'C')
      return std::string("the child's write to the ") + names[n] + " did not reach the parent";
    ++n;
  }
  char via_fd = 0;
  if (pread(g_memfd, &via_fd, 1, kFromChild) != 1 || via_fd != 'C')
    return std::string("the memfd's fd and its mapping are no longer one file");
  return std::nullopt;
}

std::optional<std::string> check() {
  auto why = check_memory();
  if (g_child > 0) {
    kill(g_child, SIGKILL);
    waitpid(g_child, nullptr, 0);
  }
  return why;
}

}  // namespace
const Test kTest{setup, nullptr, check};
}  // namespace crossrig::tracee
