#include "engine/task_info.h"

#include <gtest/gtest.h>

#include "engine/ckpt_error.h"

namespace crossrig::engine {
namespace {

std::map<std::string, std::string> status() {
  return {{"Uid", "1001\t0\t1002\t0"},
          {"Gid", "2001\t2002\t0\t2002"},
          {"Groups", "4242 4343 "},
          {"CapInh", "0000000000000000"},
          {"CapPrm", "000001ffffffdfff"},
          {"CapEff", "000001ffffffdfff"},
          {"CapBnd", "000001fffffff7ff"},
          {"NoNewPrivs", "1"},
          {"Seccomp", "2"}};
}

TEST(ThreadStatus, CredentialsOfOneThread) {
  CredsImage c = creds_from_status(status());
  EXPECT_EQ(c.uids, (std::vector<std::uint32_t>{1001, 0, 1002, 0}));
  EXPECT_EQ(c.gids[1], 2002u);
  EXPECT_EQ(c.groups, (std::vector<std::uint32_t>{4242, 4343}));
  EXPECT_EQ(c.cap_eff, 0x1ffffffdfffULL);
  EXPECT_EQ(c.cap_bnd, 0x1fffffff7ffULL);
  EXPECT_TRUE(c.no_new_privs);
}

TEST(ThreadStatus, SeccompModes) {
  auto s = status();
  EXPECT_EQ(seccomp_mode(s), 2);
  s["Seccomp"] = "1";
  EXPECT_EQ(seccomp_mode(s), 1);
  s["Seccomp"] = "0";
  EXPECT_EQ(seccomp_mode(s), 0);
  s["Seccomp"] = "3";
  EXPECT_THROW(seccomp_mode(s), CkptError);
  s.erase("Seccomp");
  EXPECT_THROW(seccomp_mode(s), CkptError);
}

}  // namespace
}  // namespace crossrig::engine
