#include "engine/seccomp.h"

#include <gtest/gtest.h>

#include "engine/ckpt_error.h"

namespace crossrig::engine {
namespace {

SeccompFilter prog(std::uint8_t tag, std::uint64_t flags = 0) {
  return {flags, {0x06, 0, 0, 0, tag, 0, 0x05, 0}};  // one "ret" instruction, tagged
}

TEST(Seccomp, ChainsSharingAncestorsShareEntries) {
  std::vector<SeccompFilterImage> table;
  int main_last = add_seccomp_chain(table, {prog(1), prog(2)});
  int other_last = add_seccomp_chain(table, {prog(1), prog(3)});
  int same_as_main = add_seccomp_chain(table, {prog(1), prog(2)});
  EXPECT_EQ(add_seccomp_chain(table, {}), -1);
  ASSERT_EQ(table.size(), 3u);
  EXPECT_EQ(main_last, same_as_main);
  EXPECT_EQ(table[static_cast<std::size_t>(other_last)].prev, table[1].prev);
  auto back = seccomp_chain(table, other_last);
  ASSERT_EQ(back.size(), 2u);
  EXPECT_EQ(back[0].insns, prog(1).insns);
  EXPECT_EQ(back[1].insns, prog(3).insns);
}

TEST(Seccomp, SameProgramOnADifferentAncestorIsAnotherEntry) {
  std::vector<SeccompFilterImage> table;
  add_seccomp_chain(table, {prog(1), prog(2)});
  add_seccomp_chain(table, {prog(2)});
  add_seccomp_chain(table, {prog(1, 2), prog(2)});  // flags differ (LOG)
  EXPECT_EQ(table.size(), 5u);
}

TEST(Seccomp, PlanInstallsTheCommonPrefixOnceThenEachThreadsOwn) {
  std::vector<SeccompFilterImage> table;
  int a = add_seccomp_chain(table, {prog(1), prog(2)});
  int b = add_seccomp_chain(table, {prog(1), prog(3)});
  SeccompPlan plan = plan_seccomp(table, {a, b, a});
  ASSERT_EQ(plan.shared.size(), 1u);
  EXPECT_EQ(plan.shared[0].insns, prog(1).insns);
  ASSERT_EQ(plan.own.size(), 3u);
  ASSERT_EQ(plan.own[1].size(), 1u);
  EXPECT_EQ(plan.own[1][0].insns, prog(3).insns);
  EXPECT_EQ(plan.own[2][0].insns, prog(2).insns);

  SeccompPlan all_same = plan_seccomp(table, {a, a});
  EXPECT_EQ(all_same.shared.size(), 2u);
  EXPECT_TRUE(all_same.own[0].empty() && all_same.own[1].empty());

  SeccompPlan one_without = plan_seccomp(table, {a, -1});
  EXPECT_TRUE(one_without.shared.empty());
  EXPECT_EQ(one_without.own[0].size(), 2u);
  EXPECT_TRUE(one_without.own[1].empty());
}

TEST(Seccomp, MalformedTablesAreBadImages) {
  auto kind = [](std::vector<SeccompFilterImage> table, int last) {
    try {
      plan_seccomp(table, {last});
    } catch (const CkptError& e) {
      return e.kind();
    }
    return CkptError::kUsage;  // not thrown by the code under test: means "accepted"
  };
  SeccompFilterImage ok{-1, 0, "0600000001000500"};
  EXPECT_EQ(kind({ok}, 1), CkptError::kBadImage);                                    // no entry
  EXPECT_EQ(kind({ok, {1, 0, ok.insns}}, 1), CkptError::kBadImage);                  // loop
  EXPECT_EQ(kind({{-1, 0, "06000000"}}, 0), CkptError::kBadImage);                   // half insn
  EXPECT_EQ(kind({{-1, 0, "zz00000001000500"}}, 0), CkptError::kBadImage);           // not hex
  EXPECT_EQ(kind({{-1, 0, std::string(16 * 4097, '0')}}, 0), CkptError::kBadImage);  // too long
  EXPECT_EQ(plan_seccomp({ok}, {0}).shared.size(), 1u);
}

}  // namespace
}  // namespace crossrig::engine
