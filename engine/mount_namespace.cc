#include "engine/mount_namespace.h"

#include <fcntl.h>
#include <sched.h>
#include <sys/mount.h>
#include <unistd.h>

#include <algorithm>
#include <map>
#include <set>

#include "common/unique_fd.h"
#include "engine/ckpt_error.h"
#include "engine/namespaces.h"
#include "engine/ptrace_task.h"
#include "engine/task_info.h"

namespace crossrig::engine {
namespace {

// File systems restore mounts afresh; the first three show the namespaces of the process
// that mounts them.
constexpr const char* kTied[] = {"proc", "sysfs", "mqueue"};
constexpr const char* kMadeNew[] = {"proc", "sysfs", "mqueue", "tmpfs"};
constexpr const char* kHows[] = {"inherited", "new", "bind"};
constexpr const char* kPropagations[] = {"private", "slave", "shared", "unbindable"};

template <std::size_t N>
bool one_of(const std::string& s, const char* const (&list)[N]) {
  return std::find(std::begin(list), std::end(list), s) != std::end(list);
}

std::string described(const MountInfo& m) {
  return m.fstype + " " + m.source + " at " + m.mountpoint;
}

std::string described(const MountImage& m) {
  return m.fstype + " " + m.source + " at " + m.mountpoint;
}

// Whether path is dir or lies inside it (both absolute).
bool inside(const std::string& path, const std::string& dir) {
  return dir == "/" || path == dir || (path.starts_with(dir) && path[dir.size()] == '/');
}

// path, inside the directory `from`, as seen from directory `to` showing the same directory.
std::string moved(const std::string& path, const std::string& from, const std::string& to) {
  const std::string rest = from == "/" ? path : path.substr(from.size());
  if (to == "/") return rest.empty() ? "/" : rest;
  return rest == "/" ? to : to + rest;
}

// The mounts in an order where each comes after the one it sits on, otherwise as listed.
std::vector<const MountInfo*> parents_first(const std::vector<MountInfo>& mounts) {
  std::set<int> ids, placed;
  for (const MountInfo& m : mounts)
    ids.insert(m.id);
  std::vector<const MountInfo*> out;
  while (out.size() < mounts.size()) {
    const std::size_t before = out.size();
    for (const MountInfo& m : mounts) {
      // The root of the initial namespace (an initramfs's rootfs) names itself as parent.
      const bool root = !ids.contains(m.parent) || m.parent == m.id;
      if (!placed.contains(m.id) && (root || placed.contains(m.parent))) {
        out.push_back(&m);
        placed.insert(m.id);
      }
    }
    if (out.size() == before)
      throw CkptError(CkptError::kSystem, "mountinfo lists mounts that sit on each other");
  }
  return out;
}

std::string joined_options(const std::vector<std::string>& super_options) {
  std::string out;
  for (const std::string& o : super_options) {
    if (o == "rw" || o == "ro") continue;
    out += (out.empty() ? "" : ",") + o;
  }
  return out;
}

void remount(const MountImage& m) {
  if (::mount(nullptr, m.mountpoint.c_str(), nullptr, MS_REMOUNT | MS_BIND | m.flags, nullptr) != 0)
    throw_errno("giving the mount at " + m.mountpoint + " its flags");
}

void set_propagation(const MountImage& m) {
  auto change = [&](unsigned long kind) {
    if (::mount(nullptr, m.mountpoint.c_str(), nullptr, kind, nullptr) != 0)
      throw_errno("making the mount at " + m.mountpoint + " " + m.propagation);
  };
  if (m.propagation == "shared") {
    // A peer joined its group when it was bound from it.
    if (m.peer >= 0) return;
    change(MS_PRIVATE);
    change(MS_SHARED);
  } else if (m.propagation == "slave") {
    change(MS_SLAVE);
  } else if (m.propagation == "unbindable") {
    change(MS_UNBINDABLE);
  } else {
    change(MS_PRIVATE);
  }
}

// The propagation of the tree's mount t, given the peer groups of ckpt's mounts.
void read_propagation(const MountInfo& t, const std::set<int>& ckpt_groups,
                      std::map<int, int>& tree_groups, MountsImage& img, MountImage& m,
                      const std::string& what) {
  const int shared = t.tag("shared"), master = t.tag("master");
  if (shared != 0 && ckpt_groups.contains(shared))
    throw CkptError(CkptError::kUnsupported,
                    what + " is shared with ckpt's mount namespace (peer group " +
                        std::to_string(shared) +
                        "), so processes outside the tree would see what is mounted there; "
                        "ckpt makes private and slave mounts again (unshare --mount makes them "
                        "private)");
  if (master != 0 && (shared != 0 || !ckpt_groups.contains(master)))
    throw CkptError(CkptError::kUnsupported,
                    what + " is a slave of peer group " + std::to_string(master) +
                        (shared != 0 ? " and shared" : ", a group of the tree's own mounts") +
                        ", which ckpt cannot make again yet (it can: slaves of ckpt's mounts)");
  if (std::find(t.tags.begin(), t.tags.end(), "unbindable") != t.tags.end())
    m.propagation = "unbindable";
  else if (shared != 0)
    m.propagation = "shared";
  else if (master != 0)
    m.propagation = "slave";
  if (shared == 0) return;
  auto [it, first] = tree_groups.emplace(shared, static_cast<int>(img.mounts.size()));
  if (first) return;
  // A peer of an earlier mount comes back bound from it, which puts it in that mount's group.
  const MountImage& peer = img.mounts[static_cast<std::size_t>(it->second)];
  if (m.how == "inherited" || !inside(m.root, peer.root))
    throw CkptError(CkptError::kUnsupported,
                    what + " is a peer of the mount at " + peer.mountpoint +
                        " without being bound from it, which ckpt cannot make again yet");
  m.peer = it->second;
  m.how = "bind";
  m.from_tree = true;
  m.from = moved(m.root, peer.root, peer.mountpoint);
}

std::vector<MountInfo> mounts_of(const std::string& path) {
  const std::string text = read_file(path);
  try {
    return parse_mountinfo(text);
  } catch (const std::runtime_error& e) {
    throw CkptError(CkptError::kSystem, path + ": " + e.what());
  }
}

}  // namespace

std::uint64_t mount_flags(const std::vector<std::string>& options) {
  static const std::map<std::string, std::uint64_t> kFlags = {
      {"ro", MS_RDONLY},         {"nosuid", MS_NOSUID},          {"nodev", MS_NODEV},
      {"noexec", MS_NOEXEC},     {"noatime", MS_NOATIME},        {"nodiratime", MS_NODIRATIME},
      {"relatime", MS_RELATIME}, {"nosymfollow", MS_NOSYMFOLLOW}};
  std::uint64_t flags = 0;
  for (const std::string& o : options) {
    if (auto it = kFlags.find(o); it != kFlags.end()) flags |= it->second;
  }
  if ((flags & (MS_NOATIME | MS_RELATIME)) == 0) flags |= MS_STRICTATIME;
  return flags;
}

MountsImage plan_mounts(const std::vector<MountInfo>& ckpt, const std::vector<MountInfo>& tree,
                        pid_t pid) {
  std::set<int> ckpt_groups;
  for (const MountInfo& c : ckpt) {
    if (c.tag("shared") != 0) ckpt_groups.insert(c.tag("shared"));
  }
  std::vector<bool> matched(ckpt.size());
  std::map<int, int> tree_groups;
  MountsImage img;
  std::vector<const MountInfo*> made;  // the tree's mount each of img.mounts is
  for (const MountInfo* t : parents_first(tree)) {
    const std::string what = "the mount of " + described(*t) +
                             " in the mount namespace of process " + std::to_string(pid);
    MountImage m;
    m.mountpoint = t->mountpoint;
    m.fstype = t->fstype;
    m.source = t->source;
    m.root = t->root;
    m.flags = mount_flags(t->options);
    auto same_dev = [&](const MountInfo& o) { return o.major == t->major && o.minor == t->minor; };
    for (std::size_t i = 0; i < ckpt.size() && m.how.empty(); ++i) {
      const MountInfo& c = ckpt[i];
      if (!matched[i] && same_dev(c) && c.mountpoint == t->mountpoint && c.root == t->root &&
          c.fstype == t->fstype) {
        matched[i] = true;
        m.how = "inherited";
      }
    }
    if (img.mounts.empty() && m.how != "inherited")
      throw CkptError(CkptError::kUnsupported,
                      "the root directory of process " + std::to_string(pid) + " is on " +
                          described(*t) +
                          ", not on ckpt's root mount (pivot_root); ckpt cannot make a mount "
                          "namespace with another root yet");
    // A directory of a file system another of the tree's own mounts shows, made before it.
    for (std::size_t i = 0; i < img.mounts.size() && m.how.empty(); ++i) {
      const MountImage& o = img.mounts[i];
      if (o.how != "inherited" && same_dev(*made[i]) && t->root.starts_with("/") &&
          inside(t->root, o.root)) {
        m.how = "bind";
        m.from_tree = true;
        m.from = moved(t->root, o.root, o.mountpoint);
      }
    }
    // A directory ckpt's namespace shows.
    for (std::size_t i = 0; i < ckpt.size() && m.how.empty(); ++i) {
      const MountInfo& c = ckpt[i];
      if (same_dev(c) && t->root.starts_with("/") && inside(t->root, c.root)) {
        m.how = "bind";
        m.from = moved(t->root, c.root, c.mountpoint);
      }
    }
    if (m.how.empty() && one_of(t->fstype, kMadeNew) && t->root == "/") {
      m.how = "new";
      m.options = joined_options(t->super_options);
    }
    if (m.how.empty())
      throw CkptError(CkptError::kUnsupported,
                      what +
                          " is one ckpt cannot make again yet (it can: mounts of ckpt's "
                          "namespace, bind mounts of their directories, proc, sysfs, mqueue, "
                          "and tmpfs with its files)");
    read_propagation(*t, ckpt_groups, tree_groups, img, m, what);
    img.mounts.push_back(std::move(m));
    made.push_back(t);
  }
  return img;
}

MountsImage read_mounts(pid_t pid) {
  return plan_mounts(mounts_of("/proc/self/mountinfo"), mounts_of(proc_path(pid, "mountinfo")),
                     pid);
}

void read_tmpfs_files(pid_t pid, MountsImage& img, PagesWriter& data) {
  for (MountImage& m : img.mounts) {
    if (m.how != "new" || m.fstype != "tmpfs") continue;
    const std::string what = "the tmpfs at " + m.mountpoint + " of process " + std::to_string(pid);
    in_namespace_of(pid, CLONE_NEWNS, [&] {
      // A copy of the mount alone: the files mounts inside it cover show.
      UniqueFd top(
          ::open_tree(AT_FDCWD, m.mountpoint.c_str(), OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC));
      if (!top) throw_errno("opening " + what);
      m.files = read_file_tree(top.get(), what, data);
    });
  }
}

void check_mounts(const MountsImage& img, std::uint64_t data_size) {
  auto bad = [](const std::string& why) {
    throw CkptError(CkptError::kBadImage, "mounts.json: " + why);
  };
  if (img.mounts.empty() || img.mounts.front().how != "inherited" ||
      img.mounts.front().mountpoint != "/")
    bad("the first mount is not the inherited root");
  for (std::size_t i = 0; i < img.mounts.size(); ++i) {
    const MountImage& m = img.mounts[i];
    const std::string what = "the mount at " + m.mountpoint;
    if (!m.mountpoint.starts_with("/") || m.mountpoint.find("/../") != std::string::npos ||
        m.mountpoint.ends_with("/.."))
      bad(what + " is not at a plain absolute path");
    if (!one_of(m.how, kHows) || !one_of(m.propagation, kPropagations))
      bad(what + " is made in an unknown way");
    if (m.how == "new" && !one_of(m.fstype, kMadeNew))
      bad(what + " is a new " + m.fstype + ", which restore does not make");
    if (m.how == "bind" && !m.from.starts_with("/")) bad(what + " is bound from no absolute path");
    if (m.peer >= static_cast<int>(i) ||
        (m.peer >= 0 && (m.how != "bind" || img.mounts[m.peer].propagation != "shared")))
      bad(what + " is a peer of no shared mount listed before");
    if (!m.files.empty() && (m.how != "new" || m.fstype != "tmpfs"))
      bad(what + " holds files but is no new tmpfs");
    if (!m.files.empty()) check_file_tree(m.files, data_size, "mounts.json: " + what);
  }
}

void make_mounts(pid_t pid, const MountsImage& img, std::span<const std::uint8_t> data,
                 const std::function<void(const MountImage& m)>& mount_in_tree) {
  // Taken from ckpt's namespace before anything covers the directories bound.
  std::vector<UniqueFd> clones(img.mounts.size());
  for (std::size_t i = 0; i < img.mounts.size(); ++i) {
    const MountImage& m = img.mounts[i];
    if (m.how != "bind" || m.from_tree) continue;
    clones[i] =
        UniqueFd(::open_tree(AT_FDCWD, m.from.c_str(), OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC));
    if (!clones[i]) throw_errno("taking " + m.from + " to bind it at " + m.mountpoint);
  }
  const std::vector<MountInfo> copy = mounts_of(proc_path(pid, "mountinfo"));
  std::vector<bool> kept(copy.size());
  std::vector<const MountInfo*> match(img.mounts.size());
  for (std::size_t i = 0; i < img.mounts.size(); ++i) {
    const MountImage& m = img.mounts[i];
    if (m.how != "inherited") continue;
    for (std::size_t j = 0; j < copy.size() && match[i] == nullptr; ++j) {
      const MountInfo& c = copy[j];
      if (!kept[j] && c.mountpoint == m.mountpoint && c.fstype == m.fstype && c.root == m.root) {
        kept[j] = true;
        match[i] = &c;
      }
    }
    if (match[i] == nullptr)
      throw CkptError(CkptError::kSystem,
                      "the tree's mount namespace has " + described(m) + " from ckpt's, which " +
                          "ckpt's mount namespace here has not: mount it as on the host the " +
                          "image was dumped on");
  }
  in_namespace_of(pid, CLONE_NEWNS, [&] {
    // From here on nothing mounted or unmounted in the copy reaches ckpt's namespace.
    if (::mount(nullptr, "/", nullptr, MS_REC | MS_SLAVE, nullptr) != 0)
      throw_errno("making the mounts of the restored tree slaves");
    for (std::size_t j = copy.size(); j-- > 0;) {
      if (!kept[j] && ::umount2(copy[j].mountpoint.c_str(), MNT_DETACH) != 0)
        throw_errno("unmounting " + described(copy[j]) + ", which the tree had unmounted");
    }
    for (std::size_t i = 0; i < img.mounts.size(); ++i) {
      const MountImage& m = img.mounts[i];
      if (m.how != "inherited") continue;
      if (mount_flags(match[i]->options) != m.flags) remount(m);
      set_propagation(m);
    }
  });
  for (std::size_t i = 0; i < img.mounts.size(); ++i) {
    const MountImage& m = img.mounts[i];
    if (m.how == "inherited") continue;
    if (m.how == "new" && one_of(m.fstype, kTied)) mount_in_tree(m);
    in_namespace_of(pid, CLONE_NEWNS, [&] {
      const std::string what = "the " + m.fstype + " at " + m.mountpoint;
      if (m.how == "bind" && m.from_tree) {
        if (::mount(m.from.c_str(), m.mountpoint.c_str(), nullptr, MS_BIND, nullptr) != 0)
          throw_errno("binding " + m.from + " at " + m.mountpoint);
      } else if (m.how == "bind") {
        if (::move_mount(clones[i].get(), "", AT_FDCWD, m.mountpoint.c_str(),
                         MOVE_MOUNT_F_EMPTY_PATH) != 0)
          throw_errno("binding " + m.from + " of ckpt's mount namespace at " + m.mountpoint);
      } else if (m.fstype == "tmpfs") {
        // Written before it turns read-only.
        if (::mount(m.source.c_str(), m.mountpoint.c_str(), "tmpfs", m.flags & ~MS_RDONLY,
                    m.options.c_str()) != 0)
          throw_errno("mounting " + what);
        UniqueFd top(::open(m.mountpoint.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
        if (!top) throw_errno("opening " + what);
        write_file_tree(top.get(), m.files, data, what);
      }
      if (m.how == "bind" || (m.flags & MS_RDONLY) != 0) remount(m);
      set_propagation(m);
    });
  }
}

}  // namespace crossrig::engine
