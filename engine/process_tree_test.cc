#include "engine/process_tree.h"

#include <gtest/gtest.h>

#include <vector>

#include "engine/ckpt_error.h"

namespace crossrig::engine {
namespace {

// A shell-started root (in the shell's session 10 and job group 90) and what it forked.
TreeMember root() {
  return {100, 1, 90, 10, false};
}

std::string refusal(const std::vector<TreeMember>& members) {
  try {
    check_groups(members);
  } catch (const CkptError& e) {
    EXPECT_EQ(e.kind(), CkptError::kUnsupported);
    return e.what();
  }
  return "";
}

TEST(Grouping, FollowsLeadershipThenParent) {
  const TreeMember r = root();
  EXPECT_EQ(grouping_of(r, nullptr), Grouping::kInherit);
  EXPECT_EQ(grouping_of({100, 1, 100, 10, false}, nullptr), Grouping::kNewGroup);
  EXPECT_EQ(grouping_of({100, 1, 100, 100, false}, nullptr), Grouping::kNewSession);
  EXPECT_EQ(grouping_of({101, 100, 90, 10, false}, &r), Grouping::kInherit);
  EXPECT_EQ(grouping_of({101, 100, 101, 10, false}, &r), Grouping::kNewGroup);
  EXPECT_EQ(grouping_of({102, 100, 101, 10, false}, &r), Grouping::kJoinGroup);
}

TEST(CreationOrder, DepthFirstWithZombiesBeforeLiveChildren) {
  const std::vector<TreeMember> m = {root(),
                                     {101, 100, 90, 10, false},
                                     {102, 100, 90, 10, true},
                                     {103, 101, 90, 10, false},
                                     {104, 100, 90, 10, false}};
  EXPECT_EQ(creation_order(m), (std::vector<std::size_t>{0, 2, 1, 3, 4}));
}

TEST(CheckGroups, AcceptsPipelinesSessionsAndZombieLeaders) {
  // A pipeline (101 leads, 102 joins), a daemon-like session under 103 with a grandchild,
  // and a group whose leader 105 exited but is not reaped yet.
  EXPECT_EQ(refusal({root(),
                     {101, 100, 101, 10, false},
                     {102, 100, 101, 10, false},
                     {103, 100, 103, 103, false},
                     {104, 103, 103, 103, false},
                     {105, 100, 105, 10, true},
                     {106, 100, 105, 10, false}}),
            "");
}

TEST(CheckGroups, RefusesASessionWhoseLeaderIsGone) {
  // Double-forked daemon: 102's session leader exited and 102 was re-parented to the root.
  std::string why = refusal({root(), {102, 100, 101, 101, false}});
  EXPECT_NE(why.find("process 102 is in session 101"), std::string::npos) << why;
}

TEST(CheckGroups, RefusesAGroupWhoseLeaderIsOutsideOrLater) {
  std::string gone = refusal({root(), {102, 100, 101, 10, false}});
  EXPECT_NE(gone.find("process 102 is in process group 101"), std::string::npos) << gone;
  // 103 joins 104's group, but 104 is made after it.
  std::string later = refusal({root(), {103, 100, 104, 10, false}, {104, 100, 104, 10, false}});
  EXPECT_NE(later.find("process 103 is in process group 104"), std::string::npos) << later;
  // A leader of that number in another session is not the group's leader.
  std::string other = refusal({root(),
                               {104, 100, 104, 104, false},
                               {105, 104, 104, 104, false},
                               {106, 100, 104, 10, false}});
  EXPECT_NE(other.find("process 106 is in process group 104"), std::string::npos) << other;
}

}  // namespace
}  // namespace crossrig::engine
