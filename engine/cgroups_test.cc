#include "engine/cgroups.h"

#include <gtest/gtest.h>

#include "engine/ckpt_error.h"

namespace crossrig::engine {
namespace {

// A hybrid host as Debian's systemd sets one up: v1 controllers, a named systemd hierarchy and
// cgroup v2 (no controllers of its own) at /sys/fs/cgroup/unified.
constexpr const char* kHybridCgroup =
    "9:name=systemd:/user.slice\n"
    "8:pids:/user.slice/job\n"
    "4:memory:/process_api/ec01\n"
    "1:cpu,cpuacct:/\n"
    "0::/user.slice\n";

constexpr const char* kHybridMountinfo =
    "31 23 0:28 / /sys/fs/cgroup rw,relatime - tmpfs tmpfs rw,mode=755\n"
    "32 31 0:29 / /sys/fs/cgroup/cpu,cpuacct rw,relatime - cgroup cgroup rw,cpu,cpuacct\n"
    "35 31 0:32 / /sys/fs/cgroup/memory rw,relatime shared:9 - cgroup cgroup rw,memory\n"
    "39 31 0:36 / /sys/fs/cgroup/pids rw,relatime - cgroup cgroup rw,pids\n"
    "40 31 0:37 / /sys/fs/cgroup/systemd rw,relatime - cgroup cgroup rw,xattr,name=systemd\n"
    "41 31 0:38 / /sys/fs/cgroup/unified rw,relatime - cgroup2 cgroup2 rw\n"
    "50 23 0:39 / /tmp rw - tmpfs tmpfs rw\n";

TEST(ParseProcCgroup, HybridLines) {
  const std::vector<Cgroup> want = {{"name=systemd", "/user.slice"},
                                    {"pids", "/user.slice/job"},
                                    {"memory", "/process_api/ec01"},
                                    {"cpu,cpuacct", "/"},
                                    {"", "/user.slice"}};
  EXPECT_EQ(parse_proc_cgroup(kHybridCgroup), want);
}

TEST(ParseProcCgroup, PathsMayHoldColons) {
  EXPECT_EQ(parse_proc_cgroup("0::/a:b\n"), (std::vector<Cgroup>{{"", "/a:b"}}));
}

TEST(ParseProcCgroup, RefusesMalformedLines) {
  EXPECT_THROW(parse_proc_cgroup("0:/\n"), std::runtime_error);
  EXPECT_THROW(parse_proc_cgroup("x::/\n"), std::runtime_error);
  EXPECT_THROW(parse_proc_cgroup("0::relative\n"), std::runtime_error);
}

TEST(ParseCgroupMounts, CgroupAndCgroup2Only) {
  auto mounts = parse_cgroup_mounts(kHybridMountinfo);
  ASSERT_EQ(mounts.size(), 5u);
  EXPECT_FALSE(mounts[0].v2);
  EXPECT_EQ(mounts[0].mountpoint, "/sys/fs/cgroup/cpu,cpuacct");
  EXPECT_EQ(mounts[0].options, (std::vector<std::string>{"rw", "cpu", "cpuacct"}));
  EXPECT_TRUE(mounts[4].v2);
  EXPECT_EQ(mounts[4].root, "/");
}

TEST(ParseCgroupMounts, DecodesEscapedPaths) {
  auto mounts =
      parse_cgroup_mounts("60 1 0:40 /a\\040b /mnt/my\\040cg rw - cgroup2 cgroup2 rw,nsdelegate\n");
  ASSERT_EQ(mounts.size(), 1u);
  EXPECT_EQ(mounts[0].root, "/a b");
  EXPECT_EQ(mounts[0].mountpoint, "/mnt/my cg");
}

TEST(CgroupDir, FindsEachHierarchysMount) {
  auto mounts = parse_cgroup_mounts(kHybridMountinfo);
  EXPECT_EQ(cgroup_dir(mounts, {"pids", "/user.slice/job"}), "/sys/fs/cgroup/pids/user.slice/job");
  EXPECT_EQ(cgroup_dir(mounts, {"cpu,cpuacct", "/"}), "/sys/fs/cgroup/cpu,cpuacct");
  EXPECT_EQ(cgroup_dir(mounts, {"name=systemd", "/x"}), "/sys/fs/cgroup/systemd/x");
  EXPECT_EQ(cgroup_dir(mounts, {"", "/x/y"}), "/sys/fs/cgroup/unified/x/y");
  EXPECT_EQ(cgroup_dir(mounts, {"blkio", "/x"}), std::nullopt);
}

TEST(CgroupDir, ThroughAMountOfASubtree) {
  // A container sees only its own part of the hierarchy.
  auto mounts = parse_cgroup_mounts("70 1 0:41 /ct /sys/fs/cgroup rw - cgroup2 cgroup2 rw\n");
  EXPECT_EQ(cgroup_dir(mounts, {"", "/ct"}), "/sys/fs/cgroup");
  EXPECT_EQ(cgroup_dir(mounts, {"", "/ct/job"}), "/sys/fs/cgroup/job");
  EXPECT_EQ(cgroup_dir(mounts, {"", "/ctx"}), std::nullopt);
  EXPECT_EQ(cgroup_dir(mounts, {"", "/"}), std::nullopt);
}

TEST(CgroupPropertyNames, PerHierarchy) {
  auto v2 = cgroup_property_names("");
  EXPECT_EQ(v2.front(), "cgroup.subtree_control");
  EXPECT_NE(std::find(v2.begin(), v2.end(), "pids.max"), v2.end());
  EXPECT_NE(std::find(v2.begin(), v2.end(), "memory.max"), v2.end());
  EXPECT_EQ(cgroup_property_names("pids"), (std::vector<std::string>{"pids.max"}));
  auto cpu = cgroup_property_names("cpu,cpuacct");
  EXPECT_EQ(cpu, (std::vector<std::string>{"cpu.shares", "cpu.cfs_period_us", "cpu.cfs_quota_us"}));
  EXPECT_TRUE(cgroup_property_names("name=systemd").empty());
}

TEST(CgroupPropertyWrite, SubtreeControlAsEnables) {
  EXPECT_EQ(cgroup_property_write("cgroup.subtree_control", "cpu pids\n"), "+cpu +pids");
  EXPECT_EQ(cgroup_property_write("pids.max", "5"), "5");
}

TEST(CgroupBelow, StrictlyAndOnComponents) {
  EXPECT_TRUE(cgroup_below("/a", "/"));
  EXPECT_TRUE(cgroup_below("/a/b", "/a"));
  EXPECT_FALSE(cgroup_below("/a", "/a"));
  EXPECT_FALSE(cgroup_below("/ab", "/a"));
  EXPECT_FALSE(cgroup_below("/", "/"));
}

TEST(CgroupsToRecord, BelowCkptsOwnWithTheCgroupsBetween) {
  const std::vector<Cgroup> ckpt = {{"pids", "/"}, {"", "/user.slice"}, {"memory", "/m"}};
  const std::vector<CgroupProcessImage> procs = {
      {10, {{"pids", "/t/a"}, {"", "/user.slice/job"}, {"memory", "/m"}}},
      {11, {{"pids", "/t"}, {"", "/other"}, {"memory", "/m"}}},
  };
  const std::vector<Cgroup> want = {{"", "/user.slice/job"}, {"pids", "/t"}, {"pids", "/t/a"}};
  EXPECT_EQ(cgroups_to_record(ckpt, procs), want);
}

TEST(CgroupMoves, OnlyWhereTheInheritedCgroupDiffers) {
  const std::vector<Cgroup> parent = {{"pids", "/t"}, {"", "/"}};
  EXPECT_EQ(cgroup_moves({{"pids", "/t"}, {"", "/j"}}, parent), (std::vector<Cgroup>{{"", "/j"}}));
  EXPECT_TRUE(cgroup_moves(parent, parent).empty());
}

TEST(CgroupsNeeded, AncestorsFirstAndOnce) {
  const std::vector<Cgroup> want = {{"pids", "/a"}, {"pids", "/a/b"}, {"pids", "/a/c"}};
  EXPECT_EQ(cgroups_needed({{"pids", "/a/c"}, {"pids", "/a/b"}, {"pids", "/a"}}), want);
  EXPECT_TRUE(cgroups_needed({{"", "/"}}).empty());
}

TEST(ParseCgroupMode, CriusNames) {
  EXPECT_EQ(parse_cgroup_mode("soft"), CgroupMode::kSoft);
  EXPECT_EQ(parse_cgroup_mode("ignore"), CgroupMode::kIgnore);
  EXPECT_EQ(parse_cgroup_mode("strict"), CgroupMode::kStrict);
  try {
    parse_cgroup_mode("hard");
    FAIL() << "an unknown mode was taken";
  } catch (const CkptError& e) {
    EXPECT_EQ(e.kind(), CkptError::kUsage);
    EXPECT_NE(std::string(e.what()).find("soft"), std::string::npos);
  }
}

bool creates(CgroupMode mode, bool exists, bool recorded) {
  return cgroup_action(mode, exists, recorded, "cg").create;
}
bool sets(CgroupMode mode, bool exists, bool recorded) {
  return cgroup_action(mode, exists, recorded, "cg").set_properties;
}

TEST(CgroupAction, SoftSetsPropertiesOnlyOnWhatItCreates) {
  EXPECT_TRUE(creates(CgroupMode::kSoft, false, true));
  EXPECT_TRUE(sets(CgroupMode::kSoft, false, true));
  EXPECT_FALSE(creates(CgroupMode::kSoft, true, true));
  EXPECT_FALSE(sets(CgroupMode::kSoft, true, true));
  EXPECT_FALSE(sets(CgroupMode::kSoft, false, false));
}

TEST(CgroupAction, OtherModes) {
  EXPECT_TRUE(sets(CgroupMode::kFull, true, true));
  EXPECT_TRUE(sets(CgroupMode::kProps, true, true));
  EXPECT_FALSE(sets(CgroupMode::kNone, true, true));
  EXPECT_THROW(cgroup_action(CgroupMode::kNone, false, true, "cg"), CkptError);
  EXPECT_THROW(cgroup_action(CgroupMode::kProps, false, false, "cg"), CkptError);
  EXPECT_TRUE(creates(CgroupMode::kStrict, false, true));
  // Strict insists only on the recorded cgroups: those above are the host's.
  EXPECT_FALSE(creates(CgroupMode::kStrict, true, false));
  try {
    cgroup_action(CgroupMode::kStrict, true, true, "cgroup /t of cgroup v1 hierarchy pids");
    FAIL() << "strict joined an existing recorded cgroup";
  } catch (const CkptError& e) {
    EXPECT_NE(std::string(e.what()).find("cgroup /t of cgroup v1 hierarchy pids exists already"),
              std::string::npos);
  }
}

}  // namespace
}  // namespace crossrig::engine
