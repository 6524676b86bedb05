#include "engine/mount_namespace.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <sched.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <string>

#include "common/unique_fd.h"
#include "engine/ckpt_error.h"
#include "engine/namespaces.h"
#include "engine/ptrace_task.h"
#include "engine/task_info.h"
#include "tests/support/namespaced_process.h"
#include "tests/support/temp_dir.h"

namespace crossrig::engine {
namespace {

using test_support::NamespacedProcess;

// ckpt's namespace in the plans below: a root with /proc, and /srv shared with the host.
constexpr const char* kCkpt =
    "20 1 254:1 / / rw,relatime shared:1 - ext4 /dev/vda1 rw\n"
    "21 20 0:20 / /proc rw,nosuid,nodev,noexec,relatime shared:2 - proc proc rw\n"
    "22 20 254:2 / /srv rw,relatime shared:3 - ext4 /dev/vda2 rw\n"
    "23 20 0:21 / /dev/shm rw,nosuid,nodev shared:4 - tmpfs tmpfs rw\n";

MountsImage plan(const std::string& tree) {
  return plan_mounts(parse_mountinfo(kCkpt), parse_mountinfo(tree), 77);
}

std::string refusal(const std::string& tree) {
  try {
    plan(tree);
  } catch (const CkptError& e) {
    EXPECT_EQ(e.kind(), CkptError::kUnsupported);
    return e.what();
  }
  return "";
}

TEST(PlanMounts, KeepsInheritedMakesOwnAndLeavesOutUnmounted) {
  // What `unshare --mount --pid --fork --mount-proc` and a few mounts leave: everything
  // private, /dev/shm unmounted, a tmpfs with a bind of its directory, a read-only bind of
  // a directory of /srv, and a new /proc over the inherited one.
  auto img = plan(
      "40 39 254:1 / / rw,relatime - ext4 /dev/vda1 rw\n"
      "41 40 0:20 / /proc rw,nosuid,nodev,noexec,relatime - proc proc rw\n"
      "42 40 254:2 / /srv rw,relatime - ext4 /dev/vda2 rw\n"
      "50 42 0:60 / /srv/scratch rw,nosuid,nodev,relatime - tmpfs none rw,size=4096k,mode=750\n"
      "51 40 0:60 /cache /var/cache ro,relatime - tmpfs none rw,size=4096k,mode=750\n"
      "52 50 254:2 /data /srv/scratch/data ro,nosuid,relatime - ext4 /dev/vda2 rw\n"
      "53 41 0:61 / /proc rw,nosuid,nodev,noexec,relatime - proc proc rw\n");
  ASSERT_EQ(img.mounts.size(), 7u);
  std::vector<std::string> hows;
  for (const MountImage& m : img.mounts)
    hows.push_back(m.how);
  EXPECT_EQ(hows, (std::vector<std::string>{"inherited", "inherited", "inherited", "new", "bind",
                                            "bind", "new"}));
  const MountImage &tmpfs = img.mounts[3], &cache = img.mounts[4], &data = img.mounts[5],
                   &proc = img.mounts[6];
  EXPECT_EQ(tmpfs.options, "size=4096k,mode=750");
  EXPECT_EQ(tmpfs.flags, static_cast<std::uint64_t>(MS_NOSUID | MS_NODEV | MS_RELATIME));
  EXPECT_TRUE(cache.from_tree);
  EXPECT_EQ(cache.from, "/srv/scratch/cache");
  EXPECT_EQ(cache.flags, static_cast<std::uint64_t>(MS_RDONLY | MS_RELATIME));
  EXPECT_FALSE(data.from_tree);
  EXPECT_EQ(data.from, "/srv/data");
  EXPECT_EQ(proc.mountpoint, "/proc");
  EXPECT_EQ(proc.fstype, "proc");
  for (const MountImage& m : img.mounts)
    EXPECT_EQ(m.propagation, "private") << m.mountpoint;
  EXPECT_NO_THROW(check_mounts(img, 0));
}

TEST(PlanMounts, PropagationSlavesAndPeers) {
  auto img = plan(
      "40 39 254:1 / / rw,relatime master:1 - ext4 /dev/vda1 rw\n"
      "42 40 254:2 / /srv rw,relatime unbindable - ext4 /dev/vda2 rw\n"
      "50 40 0:60 / /mnt rw,relatime shared:9 - tmpfs none rw\n"
      "51 40 0:60 /sub /opt rw,relatime shared:9 - tmpfs none rw\n");
  EXPECT_EQ(img.mounts[0].propagation, "slave");
  EXPECT_EQ(img.mounts[1].propagation, "unbindable");
  EXPECT_EQ(img.mounts[2].propagation, "shared");
  EXPECT_EQ(img.mounts[2].peer, -1);
  EXPECT_EQ(img.mounts[3].propagation, "shared");
  EXPECT_EQ(img.mounts[3].peer, 2);
  EXPECT_EQ(img.mounts[3].from, "/mnt/sub");
  EXPECT_NO_THROW(check_mounts(img, 0));
}

TEST(PlanMounts, SortsMountsAfterWhatTheySitOn) {
  // The initial namespace lists its root after the mounts on it.
  auto img = plan(
      "41 40 0:20 / /proc rw,nosuid,nodev,noexec,relatime - proc proc rw\n"
      "40 39 254:1 / / rw,relatime - ext4 /dev/vda1 rw\n");
  ASSERT_EQ(img.mounts.size(), 2u);
  EXPECT_EQ(img.mounts[0].mountpoint, "/");
  // An initramfs's rootfs is its own parent.
  const auto rootfs = plan_mounts(parse_mountinfo("1 1 0:2 / / rw - rootfs rootfs rw\n"
                                                  "7 1 0:5 / /proc rw - proc proc rw\n"),
                                  parse_mountinfo("30 29 0:2 / / rw - rootfs rootfs rw\n"
                                                  "31 30 0:5 / /proc rw - proc proc rw\n"
                                                  "32 30 0:40 / /tmp rw - tmpfs none rw\n"),
                                  77);
  ASSERT_EQ(rootfs.mounts.size(), 3u);
  EXPECT_EQ(rootfs.mounts[0].how, "inherited");
  EXPECT_EQ(rootfs.mounts[2].how, "new");
  EXPECT_EQ(plan_mounts(parse_mountinfo("1 1 0:2 / / rw - rootfs rootfs rw\n"),
                        parse_mountinfo("1 1 0:2 / / rw - rootfs rootfs rw\n"), 77)
                .mounts.size(),
            1u);
}

TEST(PlanMounts, RefusesWhatItCannotMakeNamingIt) {
  const std::string root = "40 39 254:1 / / rw,relatime - ext4 /dev/vda1 rw\n";
  EXPECT_NE(refusal("40 39 254:1 / / rw,relatime shared:1 - ext4 /dev/vda1 rw\n")
                .find("shared with ckpt's mount namespace (peer group 1)"),
            std::string::npos);
  EXPECT_NE(refusal(root + "50 40 8:17 / /media rw - vfat /dev/sdb1 rw\n")
                .find("vfat /dev/sdb1 at /media in the mount namespace of process 77"),
            std::string::npos);
  EXPECT_NE(refusal("40 39 0:60 / / rw - tmpfs none rw\n").find("pivot_root"), std::string::npos);
  EXPECT_NE(refusal(root + "50 40 0:60 / /mnt rw shared:9 - tmpfs none rw\n"
                           "51 40 0:60 / /opt rw master:9 - tmpfs none rw\n")
                .find("a group of the tree's own mounts"),
            std::string::npos);
  EXPECT_NE(refusal(root + "50 40 0:4 net:[4026532178] /run/ns rw - nsfs nsfs rw\n").find("nsfs"),
            std::string::npos);
}

TEST(CheckMounts, RefusesImagesRestoreMustNotFollow) {
  auto img = plan(
      "40 39 254:1 / / rw,relatime - ext4 /dev/vda1 rw\n"
      "50 40 0:60 / /mnt rw - tmpfs none rw\n");
  ASSERT_NO_THROW(check_mounts(img, 0));
  auto broken = img;
  broken.mounts[1].fstype = "ext4";
  EXPECT_THROW(check_mounts(broken, 0), CkptError);
  broken = img;
  broken.mounts[1].mountpoint = "/mnt/../etc";
  EXPECT_THROW(check_mounts(broken, 0), CkptError);
  broken = img;
  broken.mounts[1].how = "magic";
  EXPECT_THROW(check_mounts(broken, 0), CkptError);
  broken = img;
  broken.mounts.erase(broken.mounts.begin());
  EXPECT_THROW(check_mounts(broken, 0), CkptError);
  broken = img;
  broken.mounts[1].peer = 1;
  EXPECT_THROW(check_mounts(broken, 0), CkptError);
  broken = img;
  broken.mounts[1].files.resize(1);
  broken.mounts[1].files[0].type = "dir";
  broken.mounts[1].files[0].data.push_back({0, 1, 0});
  EXPECT_THROW(check_mounts(broken, 0), CkptError);
}

// What a namespace shows of its mounts below dir: mount point, file system, root, flags
// and propagation kind, without the ids that differ between namespaces, sorted (mountinfo
// lists a mount moved in from another namespace early).
std::vector<std::string> shown(pid_t pid, const std::string& dir) {
  std::vector<std::string> out;
  for (const MountInfo& m : parse_mountinfo(read_file(proc_path(pid, "mountinfo")))) {
    if (!m.mountpoint.starts_with(dir)) continue;
    std::string line = m.mountpoint + " " + m.fstype + " " + m.root;
    for (const std::string& o : m.options)
      line += " " + o;
    line += m.tag("shared") != 0 ? " shared" : m.tag("master") != 0 ? " slave" : " private";
    out.push_back(line);
  }
  std::sort(out.begin(), out.end());
  return out;
}

void run(pid_t pid, const std::string& what, unsigned long flags, const std::string& source,
         const std::string& target, const char* fstype = nullptr, const char* data = nullptr) {
  in_namespace_of(pid, CLONE_NEWNS, [&] {
    if (::mount(source.empty() ? nullptr : source.c_str(), target.c_str(), fstype, flags, data) !=
        0)
      throw_errno(what);
  });
}

TEST(MountNamespaceTest, MadeAgainInACopyOfCkptsNamespace) {
  test_support::TempDir dir("crossrig-mnt"), image("crossrig-mnt-img");
  const std::string d = dir.path().string();
  ::mkdir((d + "/tmpfs").c_str(), 0755);
  ::mkdir((d + "/host").c_str(), 0755);
  ::mkdir((d + "/host/inner").c_str(), 0755);
  ::mkdir((d + "/view").c_str(), 0755);
  const std::string before = read_file("/proc/self/mountinfo");

  NamespacedProcess source(CLONE_NEWNS);
  run(source.pid(), "making / private", MS_REC | MS_PRIVATE, "", "/");
  run(source.pid(), "mounting tmpfs", MS_NOSUID | MS_NODEV, "scratch", d + "/tmpfs", "tmpfs",
      "size=1m,mode=0711");
  in_namespace_of(source.pid(), CLONE_NEWNS, [&] {
    ::mkdir((d + "/tmpfs/mnt").c_str(), 0700);
    UniqueFd f(::open((d + "/tmpfs/file").c_str(), O_WRONLY | O_CREAT | O_CLOEXEC, 0640));
    ASSERT_EQ(::write(f.get(), "kept", 4), 4);
  });
  run(source.pid(), "binding a host directory", MS_BIND, d + "/host", d + "/tmpfs/mnt");
  run(source.pid(), "making it read-only", MS_REMOUNT | MS_BIND | MS_RDONLY, "", d + "/tmpfs/mnt");
  run(source.pid(), "binding the tmpfs", MS_BIND, d + "/tmpfs", d + "/view");
  run(source.pid(), "sharing the view", MS_SHARED, "", d + "/view");
  const std::vector<std::string> want = shown(source.pid(), d);
  ASSERT_EQ(want.size(), 3u);

  MountsImage img = read_mounts(source.pid());
  const std::string file = (image.path() / "mounts-data.img").string();
  PagesWriter writer(UniqueFd(::open(file.c_str(), O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0600)),
                     "mounts-data.img", file);
  read_tmpfs_files(source.pid(), img, writer);
  writer.finish();
  std::vector<std::uint8_t> data(writer.size());
  UniqueFd in(::open(file.c_str(), O_RDONLY | O_CLOEXEC));
  ASSERT_EQ(::pread(in.get(), data.data(), data.size(), 0), static_cast<ssize_t>(data.size()));
  ASSERT_NO_THROW(check_mounts(img, data.size()));

  NamespacedProcess target(CLONE_NEWNS);
  make_mounts(target.pid(), img, data, [](const MountImage& m) {
    FAIL() << "no mount here shows a namespace, yet " << m.mountpoint << " was made in the tree";
  });
  EXPECT_EQ(shown(target.pid(), d), want);
  in_namespace_of(target.pid(), CLONE_NEWNS, [&] {
    char buf[8] = {};
    UniqueFd f(::open((d + "/view/file").c_str(), O_RDONLY | O_CLOEXEC));
    EXPECT_EQ(::read(f.get(), buf, sizeof buf), 4);
    EXPECT_STREQ(buf, "kept");
    struct stat st {};
    EXPECT_EQ(::stat((d + "/tmpfs/mnt/inner").c_str(), &st), 0) << "the host directory bound";
  });
  // Nothing of either namespace reached ckpt's.
  EXPECT_EQ(read_file("/proc/self/mountinfo"), before);
}

TEST(MountNamespaceTest, UnmountsWhatTheTreeUnmounted) {
  test_support::TempDir dir("crossrig-mnt");
  const std::string d = dir.path().string();
  NamespacedProcess source(CLONE_NEWNS);
  run(source.pid(), "making / private", MS_REC | MS_PRIVATE, "", "/");
  MountsImage img = read_mounts(source.pid());

  // ckpt's namespace gains a mount after the tree's started: the tree must not get it.
  NamespacedProcess ckpt(CLONE_NEWNS);
  std::vector<std::string> after_restore;
  in_namespace_of(ckpt.pid(), CLONE_NEWNS, [&] {
    ASSERT_EQ(::mount(nullptr, "/", nullptr, MS_REC | MS_PRIVATE, nullptr), 0);
    ASSERT_EQ(::mount("late", d.c_str(), "tmpfs", 0, nullptr), 0);
    NamespacedProcess target(CLONE_NEWNS);
    make_mounts(target.pid(), img, {}, [](const MountImage&) {});
    after_restore = shown(target.pid(), d);
  });
  EXPECT_TRUE(after_restore.empty()) << after_restore.front();
}

}  // namespace
}  // namespace crossrig::engine
