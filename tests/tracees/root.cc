// A chroot'd task keeps its root directory: "/" is still the jail and its marker file is
// found by its absolute path.
#include <sys/stat.h>
#include <unistd.h>

#include <fstream>
#include <string>

#include "tests/tracees/tracee.h"

namespace crossrig::tracee {
namespace {

struct stat g_jail {};

void setup() {
  mkdir("jail", 0755);
  std::ofstream("jail/marker") << "inside\n";
  stat("jail", &g_jail);
  if (chroot("jail") != 0 || chdir("/") != 0) g_jail.st_ino = 0;
}

std::optional<std::string> check() {
  if (g_jail.st_ino == 0) return "chroot failed during setup";
  struct stat root {};
  stat("/", &root);
  std::string marker;
  std::getline(std::ifstream("/marker"), marker);
  if (root.st_ino != g_jail.st_ino || root.st_dev != g_jail.st_dev)
    return "root directory is not the jail any more";
  if (marker != "inside") return "/marker reads '" + marker + "', expected 'inside'";
  return std::nullopt;
}

}  // namespace
const Test kTest{setup, nullptr, check};
}  // namespace crossrig::tracee
