// Regular files stay open with their offsets and flags; /dev/null stays open.
#include <fcntl.h>
#include <unistd.h>

#include <string>

#include "tests/tracees/tracee.h"

namespace crossrig::tracee {
namespace {

std::string g_path;
int g_fd = -1, g_append = -1, g_null = -1;

void setup() {
  g_path = "ckpt-offsets.dat";  // in the cwd the driver gives each run
  g_fd = open(g_path.c_str(), O_RDWR | O_CREAT | O_TRUNC, 0600);
  std::string data(5000, 'x');
  write(g_fd, data.data(), data.size());
  lseek(g_fd, 1234, SEEK_SET);
  g_append = open(g_path.c_str(), O_WRONLY | O_APPEND);
  g_null = open("/dev/null", O_RDONLY);
}

std::optional<std::string> check() {
  if (auto w = expect_eq("offset", static_cast<long>(lseek(g_fd, 0, SEEK_CUR)), 1234L)) return w;
  if (!(fcntl(g_append, F_GETFL) & O_APPEND)) return "O_APPEND lost";
  if ((fcntl(g_fd, F_GETFL) & O_ACCMODE) != O_RDWR) return "O_RDWR lost";
  char c = 0;
  if (read(g_null, &c, 1) != 0) return "/dev/null fd lost";
  return std::nullopt;
}

}  // namespace
const Test kTest{setup, nullptr, check};
}  // namespace crossrig::tracee
