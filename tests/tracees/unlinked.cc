// A file removed while open: its content, mode and two descriptions of it with their own
// offsets survive, still one nameless inode (a write through one is read through the other).
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <string>

#include "tests/tracees/tracee.h"

namespace crossrig::tracee {
namespace {

constexpr std::size_t kSize = 300 * 1024;
int g_rw = -1, g_ro = -1;

std::string content() {
  std::string s(kSize, '\0');
  for (std::size_t i = 0; i < kSize; ++i)
    s[i] = static_cast<char>(i * 13 % 256);
  return s;
}

void setup() {
  g_rw = open("ckpt-unlinked.dat", O_RDWR | O_CREAT | O_TRUNC, 0640);  // in the run's cwd
  fchmod(g_rw, 0640);                                                  // whatever the umask
  std::string s = content();
  (void)!write(g_rw, s.data(), s.size());
  lseek(g_rw, 10, SEEK_SET);
  g_ro = open("ckpt-unlinked.dat", O_RDONLY);
  lseek(g_ro, 20, SEEK_SET);
  unlink("ckpt-unlinked.dat");
}

std::optional<std::string> check() {
  struct stat st {};
  if (fstat(g_rw, &st) != 0) return "the unlinked file's fd is gone";
  if (auto w = expect_eq("link count", static_cast<long>(st.st_nlink), 0L)) return w;
  if (auto w = expect_eq("mode", static_cast<long>(st.st_mode & 07777), 0640L)) return w;
  if (auto w = expect_eq("read-write offset", static_cast<long>(lseek(g_rw, 0, SEEK_CUR)), 10L))
    return w;
  if (auto w = expect_eq("read-only offset", static_cast<long>(lseek(g_ro, 0, SEEK_CUR)), 20L))
    return w;
  std::string got(kSize, '\0');
  if (pread(g_ro, got.data(), kSize, 0) != static_cast<ssize_t>(kSize) || got != content())
    return "the unlinked file's content differs";
  if (pwrite(g_rw, "new", 3, 0) != 3) return "cannot write the unlinked file";
  char back[3] = {};
  if (pread(g_ro, back, 3, 0) != 3 || std::string(back, 3) != "new")
    return "the two descriptions no longer share the file";
  return std::nullopt;
}

}  // namespace
const Test kTest{setup, nullptr, check};
}  // namespace crossrig::tracee
