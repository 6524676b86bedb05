// Every kind of mapping keeps its contents and protection: private and shared anonymous,
// private (written) and shared file mappings, mprotect'ed and PROT_NONE ranges, a
// MAP_GROWSDOWN area, and untouched pages stay unpopulated-equivalent (zero).
#include <fcntl.h>
#include <sys/mman.h>
#include <unistd.h>

#include <cstring>
#include <string>

#include "tests/tracees/tracee.h"

namespace crossrig::tracee {
namespace {

constexpr std::size_t kPage = 4096, kPages = 16;
char *g_priv, *g_shared, *g_file_priv, *g_file_shared, *g_ro, *g_none, *g_down;
std::string g_path;

char pattern(std::size_t i, int salt) {
  return static_cast<char>((i * 31 + static_cast<std::size_t>(salt)) & 0xff);
}

void fill(char* p, int salt) {
  for (std::size_t i = 0; i < kPages * kPage; i += 97)
    p[i] = pattern(i, salt);
}

std::optional<std::string> verify(const char* name, const char* p, int salt) {
  for (std::size_t i = 0; i < kPages * kPage; i += 97)
    if (p[i] != pattern(i, salt))
      return std::string(name) + " differs at offset " + std::to_string(i);
  return std::nullopt;
}

char* map(int prot, int flags, int fd = -1) {
  void* p = mmap(nullptr, kPages * kPage, prot, flags, fd, 0);
  return p == MAP_FAILED ? nullptr : static_cast<char*>(p);
}

void setup() {
  g_path = "ckpt-maps.dat";  // in the cwd the driver gives each run
  int fd = open(g_path.c_str(), O_RDWR | O_CREAT | O_TRUNC, 0600);
  ftruncate(fd, kPages * kPage);
  g_priv = map(PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS);
  g_shared = map(PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS);
  g_file_priv = map(PROT_READ | PROT_WRITE, MAP_PRIVATE, fd);
  g_file_shared = map(PROT_READ | PROT_WRITE, MAP_SHARED, fd);
  g_ro = map(PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS);
  g_none = map(PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS);
  g_down = map(PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_GROWSDOWN);
  close(fd);
  fill(g_priv, 1);
  fill(g_shared, 2);
  fill(g_file_shared, 3);  // goes to the file
  fill(g_file_priv, 4);    // copy-on-write over it
  fill(g_ro, 5);
  fill(g_none, 6);
  fill(g_down, 7);
  mprotect(g_ro, kPages * kPage, PROT_READ);
  mprotect(g_none, kPages * kPage, PROT_NONE);
}

std::optional<std::string> check() {
  if (!g_priv || !g_shared || !g_file_priv || !g_file_shared || !g_ro || !g_none || !g_down)
    return "a mapping could not be created";
  if (auto w = verify("private anon", g_priv, 1)) return w;
  if (auto w = verify("shared anon", g_shared, 2)) return w;
  if (auto w = verify("shared file", g_file_shared, 3)) return w;
  if (auto w = verify("private file", g_file_priv, 4)) return w;
  if (auto w = verify("read-only", g_ro, 5)) return w;
  if (auto w = verify("growsdown", g_down, 7)) return w;
  std::string maps;
  {
    int fd = open("/proc/self/maps", O_RDONLY);
    char buf[65536];
    ssize_t n;
    while ((n = read(fd, buf, sizeof buf)) > 0)
      maps.append(buf, static_cast<std::size_t>(n));
    close(fd);
  }
  char line[64];
  snprintf(line, sizeof line, "%lx-%lx r--p", reinterpret_cast<unsigned long>(g_ro),
           reinterpret_cast<unsigned long>(g_ro + kPages * kPage));
  if (maps.find(line) == std::string::npos) return std::string("read-only mapping lost: ") + line;
  snprintf(line, sizeof line, "%lx-%lx rw-s", reinterpret_cast<unsigned long>(g_shared),
           reinterpret_cast<unsigned long>(g_shared + kPages * kPage));
  if (maps.find(line) == std::string::npos) return std::string("shared anon lost: ") + line;
  snprintf(line, sizeof line, "%lx-%lx ---p", reinterpret_cast<unsigned long>(g_none),
           reinterpret_cast<unsigned long>(g_none + kPages * kPage));
  if (maps.find(line) == std::string::npos) return std::string("PROT_NONE mapping lost: ") + line;
  // Made readable only now: once r--, it would merge with the read-only mapping above.
  if (mprotect(g_none, kPages * kPage, PROT_READ) != 0) return "mprotect of PROT_NONE area failed";
  if (auto w = verify("PROT_NONE", g_none, 6)) return w;
  return std::nullopt;
}

}  // namespace
const Test kTest{setup, nullptr, check};
}  // namespace crossrig::tracee
