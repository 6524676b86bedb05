#pragma once
// A tree started in a mount namespace of its own, as `unshare --mount` starts one. Such a
// namespace begins as a copy of the one it was made in, ckpt's; the tree then mounts and
// unmounts in it. The dump compares the tree's mounts with ckpt's:
// - a mount ckpt's namespace has too ("inherited") comes back from the copy of ckpt's
//   namespace restore starts from (clone3's CLONE_NEWNS);
// - a mount of ckpt's the tree no longer has is unmounted from that copy;
// - a mount the tree made is made again: proc, sysfs and mqueue (by the restored root
//   process, inside the tree's PID, network and IPC namespaces they show), a tmpfs with every
//   file it holds (file_tree.h), and a bind mount of a directory ckpt's namespace or the tree's
//   own mounts show.
// Each mount keeps its flags (ro, nosuid, nodev, noexec, atime) and its propagation: private,
// unbindable, a slave of ckpt's mount, or shared among the tree's own mounts. A mount shared
// with ckpt's namespace is refused: mounting in it would reach processes outside the tree.

#include <sys/types.h>

#include <cstdint>
#include <functional>
#include <nlohmann/json.hpp>
#include <span>
#include <string>
#include <vector>

#include "engine/file_tree.h"
#include "engine/image.h"
#include "engine/proc_parse.h"

namespace crossrig::engine {

/// One mount of the tree's namespace (mounts.json), listed after the mount it sits on.
struct MountImage {
  std::string mountpoint;  ///< As the tree's root process sees it.
  std::string fstype, source;
  std::string root;  ///< The directory of its file system the mount shows at its top.
  /// "inherited", "new" (made from fstype, source and options) or "bind".
  std::string how;
  /// bind: the directory bound, as ckpt's namespace shows it, or with from_tree as the tree's
  /// shows it once the mounts listed before are made.
  std::string from;
  bool from_tree = false;
  std::uint64_t flags = 0;  ///< MS_RDONLY, MS_NOSUID, MS_NODEV, MS_NOEXEC and the atime ones.
  std::string options;      ///< new: the file system's own ("size=...,mode=...").
  /// "private", "slave" (of ckpt's mount it was copied from), "shared" or "unbindable".
  std::string propagation = "private";
  /// shared: the mount listed before that it is a peer of (it is bound from that one), or -1
  /// for a peer group of its own.
  int peer = -1;
  std::vector<FileNodeImage> files;  ///< new tmpfs: every file it holds.
};
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE(MountImage, mountpoint, fstype, source, root, how, from,
                                   from_tree, flags, options, propagation, peer, files)

struct MountsImage {
  std::vector<MountImage> mounts;
};
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE(MountsImage, mounts)

/// The mount flags mountinfo's per-mount options ("ro", "nosuid", "relatime"...) stand for.
std::uint64_t mount_flags(const std::vector<std::string>& options);

/// How restore makes each of the tree's mounts (tree, from its root process's mountinfo) in a
/// copy of ckpt's namespace (ckpt, from its own), without the tmpfs files. Throws
/// kUnsupported naming the mount and process pid for one it cannot make.
MountsImage plan_mounts(const std::vector<MountInfo>& ckpt, const std::vector<MountInfo>& tree,
                        pid_t pid);

/// plan_mounts for process pid's mount namespace, read before any process is touched.
MountsImage read_mounts(pid_t pid);

/// The files of the tmpfs mounts restore makes new (img from read_mounts(pid)), appended to
/// data; read while every process of the tree is held.
void read_tmpfs_files(pid_t pid, MountsImage& img, PagesWriter& data);

/// Throws kBadImage unless every mount sits on one listed before and its tmpfs files fit data.
void check_mounts(const MountsImage& img, std::uint64_t data_size);

/// Turns the mount namespace of process pid, a new copy of ckpt's, into the image's.
/// mount_in_tree mounts m from inside the restored root process, for file systems that show
/// the namespaces of the process mounting them (proc, sysfs, mqueue).
void make_mounts(pid_t pid, const MountsImage& img, std::span<const std::uint8_t> data,
                 const std::function<void(const MountImage& m)>& mount_in_tree);

}  // namespace crossrig::engine
