#include "engine/proc_parse.h"

#include <gtest/gtest.h>
#include <sys/resource.h>

#include <fstream>
#include <sstream>

namespace crossrig::engine {
namespace {

std::string read_testdata(const std::string& name) {
  std::ifstream f(std::string(CROSSRIG_SOURCE_DIR) + "/engine/testdata/" + name);
  std::stringstream ss;
  ss << f.rdbuf();
  return ss.str();
}

TEST(ParseMaps, FileAnonAndSpecialLines) {
  auto v = parse_maps(
      "55d0c0a00000-55d0c0a02000 r-xp 00002000 fe:00 1234   /usr/bin/cat\n"
      "7f0000000000-7f0000021000 rw-s 00000000 00:01 99 /dev/zero (deleted)\n"
      "7ffd1000-7ffd3000 rw-p 00000000 00:00 0                          [stack]\n"
      "7ffd5000-7ffd6000 ---p 00000000 00:00 0\n");
  ASSERT_EQ(v.size(), 4u);
  EXPECT_EQ(v[0].start, 0x55d0c0a00000u);
  EXPECT_EQ(v[0].end, 0x55d0c0a02000u);
  EXPECT_TRUE(v[0].read && v[0].exec && !v[0].write && !v[0].shared);
  EXPECT_EQ(v[0].offset, 0x2000u);
  EXPECT_EQ(v[0].dev_major, 0xfeu);
  EXPECT_EQ(v[0].inode, 1234u);
  EXPECT_EQ(v[0].path, "/usr/bin/cat");
  EXPECT_TRUE(v[1].shared);
  EXPECT_EQ(v[1].path, "/dev/zero (deleted)");
  EXPECT_EQ(v[2].path, "[stack]");
  EXPECT_TRUE(v[3].path.empty());
  EXPECT_FALSE(v[3].read || v[3].write || v[3].exec);
}

TEST(ParseMaps, RejectsGarbageNamingTheLine) {
  try {
    parse_maps("hello world\n");
    FAIL();
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find("hello world"), std::string::npos);
  }
}

TEST(ParseSmaps, RecordedKernel618HasFlagsAndSplitVvar) {
  auto v = parse_smaps(read_testdata("smaps_cat.txt"));
  ASSERT_GT(v.size(), 10u);
  int vvar = 0, vvar_vclock = 0;
  for (const auto& e : v) {
    EXPECT_FALSE(e.vm_flags.empty()) << e.path;
    if (e.path == "[vvar]") ++vvar;
    if (e.path == "[vvar_vclock]") ++vvar_vclock;
    if (e.path == "[stack]") {
      EXPECT_TRUE(e.has_flag("gd"));
    }
  }
  EXPECT_EQ(vvar, 1);
  EXPECT_EQ(vvar_vclock, 1);
}

// The kernel's own text against what getrlimit says of this process, each limit changed first
// so that a row read as another one's shows.
TEST(ParseLimits, EveryRowIsTheLimitOfItsIndex) {
  for (int r = 0; r < RLIM_NLIMITS; ++r) {
    rlimit l{};
    ASSERT_EQ(getrlimit(r, &l), 0);
    if (l.rlim_max != RLIM_INFINITY && l.rlim_cur > 0) {
      l.rlim_cur = l.rlim_cur - static_cast<rlim_t>(r % 3);
      setrlimit(r, &l);
    }
  }
  std::ifstream f("/proc/self/limits");
  std::stringstream text;
  text << f.rdbuf();
  const std::vector<RlimitImage> got = parse_limits(text.str());
  ASSERT_EQ(got.size(), static_cast<std::size_t>(RLIM_NLIMITS));
  for (int r = 0; r < RLIM_NLIMITS; ++r) {
    rlimit l{};
    ASSERT_EQ(getrlimit(r, &l), 0);
    EXPECT_EQ(got[r].resource, r);
    EXPECT_EQ(got[r].cur, l.rlim_cur) << "resource " << r;
    EXPECT_EQ(got[r].max, l.rlim_max) << "resource " << r;
  }
}

TEST(ParseLimits, RejectsGarbage) {
  EXPECT_THROW(parse_limits("Max cpu time unlimited unlimited seconds\n"), std::runtime_error);
  EXPECT_THROW(parse_limits("Limit                     Soft Limit           Hard Limit\n"
                            "Max cpu time              lots                 unlimited\n"),
               std::runtime_error);
}

TEST(ParseStatus, KeysAndTrimmedValues) {
  auto m = parse_status("Name:\tcat\nUmask:\t0022\nSigBlk:\t0000000000010000\nUid:\t0\t0\t0\t0\n");
  EXPECT_EQ(m.at("Name"), "cat");
  EXPECT_EQ(m.at("Umask"), "0022");
  EXPECT_EQ(m.at("SigBlk"), "0000000000010000");
  EXPECT_EQ(m.at("Uid"), "0\t0\t0\t0");
}

TEST(ProcStat, CommWithSpacesAndParens) {
  ProcStat s("42 (a) b (c)) S 1 42 42 0 -1 4194304\n");
  EXPECT_EQ(s.number(1), 42);
  EXPECT_EQ(s.field(2), "a) b (c)");
  EXPECT_EQ(s.field(3), "S");
  EXPECT_EQ(s.number(4), 1);
  EXPECT_EQ(s.number(7), 0);
  EXPECT_THROW(s.field(60), std::out_of_range);
}

}  // namespace
}  // namespace crossrig::engine

namespace crossrig::engine {
namespace {

// Recorded from Linux 6.18's /proc/self/fdinfo for flock(), lockf() and F_OFD_SETLK.
TEST(ParseFdLocks, FlockPosixAndOfdLinesWithTheirRanges) {
  auto flock = parse_fd_locks(
      "pos:\t0\nflags:\t02100001\nmnt_id:\t27\nino:\t10953128\n"
      "lock:\t1: FLOCK  ADVISORY  WRITE 25455 fe:00:10953128 0 EOF\n");
  ASSERT_EQ(flock.size(), 1u);
  EXPECT_EQ(flock[0].kind, "flock");
  EXPECT_TRUE(flock[0].write);
  EXPECT_EQ(flock[0].len, 0);
  auto posix = parse_fd_locks(
      "pos:\t100\nlock:\t1: POSIX  ADVISORY  WRITE 25455 fe:00:10953129 5 14\n"
      "lock:\t2: POSIX  ADVISORY  READ 25455 fe:00:10953129 100 EOF\n");
  ASSERT_EQ(posix.size(), 2u);
  EXPECT_EQ(posix[0].kind, "posix");
  EXPECT_EQ(posix[0].start, 5);
  EXPECT_EQ(posix[0].len, 10);
  EXPECT_FALSE(posix[1].write);
  EXPECT_EQ(posix[1].start, 100);
  EXPECT_EQ(posix[1].len, 0);
  auto ofd = parse_fd_locks("lock:\t1: OFDLCK ADVISORY  READ -1 fe:00:10953130 0 EOF\n");
  ASSERT_EQ(ofd.size(), 1u);
  EXPECT_EQ(ofd[0].kind, "ofd");
  EXPECT_TRUE(parse_fd_locks("pos:\t0\nflags:\t02\n").empty());
}

TEST(ParseFdLocks, OtherKindsAreNamedAndGarbageRefused) {
  auto lease = parse_fd_locks("lock:\t1: LEASE  ACTIVE    READ 77 fe:00:12 0 EOF\n");
  ASSERT_EQ(lease.size(), 1u);
  EXPECT_EQ(lease[0].kind, "lease");
  EXPECT_THROW(parse_fd_locks("lock:\t1: POSIX  ADVISORY  WRITE 1 fe:00:1 x EOF\n"),
               std::runtime_error);
  EXPECT_THROW(parse_fd_locks("lock:\t1: POSIX  ADVISORY  SOMETIMES 1 fe:00:1 0 EOF\n"),
               std::runtime_error);
  EXPECT_THROW(parse_fd_locks("lock:\n"), std::runtime_error);
}

TEST(ParseMountinfo, FieldsTagsAndEscapedPaths) {
  auto mounts = parse_mountinfo(
      "24 1 254:1 / / rw,relatime shared:1 - ext4 /dev/vda1 rw,errors=remount-ro\n"
      "98 24 0:52 /sub /mnt/a\\040b ro,nosuid,nodev master:7 unbindable - tmpfs none "
      "rw,size=4096k,mode=750\n"
      "99 98 0:5 / /proc rw - proc proc rw\n");
  ASSERT_EQ(mounts.size(), 3u);
  EXPECT_EQ(mounts[0].id, 24);
  EXPECT_EQ(mounts[0].parent, 1);
  EXPECT_EQ(mounts[0].major, 254u);
  EXPECT_EQ(mounts[0].minor, 1u);
  EXPECT_EQ(mounts[0].tag("shared"), 1);
  EXPECT_EQ(mounts[0].tag("master"), 0);
  EXPECT_EQ(mounts[0].source, "/dev/vda1");
  EXPECT_EQ(mounts[1].root, "/sub");
  EXPECT_EQ(mounts[1].mountpoint, "/mnt/a b");
  EXPECT_EQ(mounts[1].options, (std::vector<std::string>{"ro", "nosuid", "nodev"}));
  EXPECT_EQ(mounts[1].tags, (std::vector<std::string>{"master:7", "unbindable"}));
  EXPECT_EQ(mounts[1].tag("master"), 7);
  EXPECT_EQ(mounts[1].fstype, "tmpfs");
  EXPECT_EQ(mounts[1].super_options, (std::vector<std::string>{"rw", "size=4096k", "mode=750"}));
  EXPECT_TRUE(mounts[2].tags.empty());
}

TEST(ParseMountinfo, RecordedKernel618) {
  auto mounts = parse_mountinfo(read_testdata("mountinfo-6.18.txt"));
  // The initial namespace lists its root after the mounts on it.
  ASSERT_EQ(mounts.size(), 20u);
  EXPECT_EQ(mounts[5].mountpoint, "/");
  EXPECT_EQ(mounts[5].fstype, "ext4");
  EXPECT_EQ(mounts[0].parent, mounts[5].id);
  for (const MountInfo& m : mounts) {
    EXPECT_FALSE(m.fstype.empty()) << m.mountpoint;
    EXPECT_TRUE(m.mountpoint.starts_with("/")) << m.mountpoint;
  }
}

TEST(ParseMountinfo, RejectsAMalformedLineNamingIt) {
  try {
    parse_mountinfo("24 1 254:1 / / rw shared:1 ext4 /dev/vda1 rw\n");
    FAIL() << "no error";
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find("ext4 /dev/vda1"), std::string::npos) << e.what();
  }
  EXPECT_THROW(parse_mountinfo("24 1 x / / rw - ext4 /dev/vda1 rw\n"), std::runtime_error);
}

}  // namespace
}  // namespace crossrig::engine
