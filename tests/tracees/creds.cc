// uids, gids, supplementary groups, capabilities, no_new_privs and personality survive.
#include <grp.h>
#include <sys/personality.h>
#include <sys/prctl.h>
#include <unistd.h>

#include <fstream>
#include <string>

#include "tests/tracees/tracee.h"

namespace crossrig::tracee {
namespace {

std::string status_line(const std::string& key) {
  std::ifstream f("/proc/self/status");
  std::string line;
  while (std::getline(f, line))
    if (line.rfind(key + ":", 0) == 0) return line;
  return {};
}

std::string g_caps;

void setup() {
  personality(ADDR_NO_RANDOMIZE);
  prctl(PR_CAPBSET_DROP, 27 /* CAP_MKNOD */);
  gid_t groups[] = {4242, 4343};
  setgroups(2, groups);
  setresgid(2001, 2002, 0);
  // The effective uid stays 0 so the tracee can write its pid- and outfile into the driver's
  // root-owned directory.
  setresuid(1001, 0, 1002);
  prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0);
  g_caps = status_line("CapEff") + status_line("CapPrm") + status_line("CapBnd");
}

std::optional<std::string> check() {
  uid_t r, e, s;
  getresuid(&r, &e, &s);
  if (r != 1001 || e != 0 || s != 1002)
    return "uids are " + std::to_string(r) + "/" + std::to_string(e);
  gid_t gr, ge, gs;
  getresgid(&gr, &ge, &gs);
  if (gr != 2001 || ge != 2002 || gs != 0)
    return "gids are " + std::to_string(gr) + "/" + std::to_string(ge);
  gid_t groups[8];
  int n = getgroups(8, groups);
  if (n != 2 || groups[0] != 4242 || groups[1] != 4343) return "groups lost";
  std::string caps = status_line("CapEff") + status_line("CapPrm") + status_line("CapBnd");
  if (caps != g_caps) return "capabilities changed: " + caps + " vs " + g_caps;
  if (prctl(PR_GET_NO_NEW_PRIVS, 0, 0, 0, 0) != 1) return "no_new_privs lost";
  if (personality(0xffffffff) != ADDR_NO_RANDOMIZE) return "personality lost";
  return std::nullopt;
}

}  // namespace
const Test kTest{setup, nullptr, check};
}  // namespace crossrig::tracee
