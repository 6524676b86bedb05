#pragma once
// The I/O of --manage-cgroups: reading the tree's cgroups and their properties at the dump,
// making the cgroups and moving each restored process into its own at the restore.
// engine/cgroups.h holds the parsing and the decisions.

#include <sys/types.h>

#include <string>
#include <utility>
#include <vector>

#include "engine/cgroups.h"
#include "engine/image.h"

namespace crossrig::engine {

/// cgroups.json for the live processes pids (the root first): each one's cgroups, and the
/// properties of those below ckpt's own (engine/cgroups.h). Throws kUnsupported naming a
/// thread in other cgroups than its process, or a cgroup whose hierarchy ckpt sees no mount of.
CgroupsImage read_tree_cgroups(const std::vector<pid_t>& pids);

/// The image's cgroups.json; throws kUsage when the image was dumped without --manage-cgroups.
CgroupsImage load_cgroups(const ImageReader& image);

/// The cgroups of a tree being restored. Made, with their properties as the mode says, before
/// any process exists; each process joins its own as soon as it is created, before it runs any
/// of its code. The cgroups made are removed again unless keep() is called, so a failed
/// restore, whose processes are killed first, leaves none behind.
class CgroupPlacer {
 public:
  /// tree: each live process and its parent's pid, parents first, the root first (it inherits
  /// ckpt's cgroups, each other process its parent's). Throws CkptError naming the cgroup that
  /// cannot be reached, made or given a property.
  CgroupPlacer(const CgroupsImage& image, const std::vector<std::pair<pid_t, pid_t>>& tree,
               CgroupMode mode);
  CgroupPlacer(const CgroupPlacer&) = delete;
  CgroupPlacer& operator=(const CgroupPlacer&) = delete;
  ~CgroupPlacer();

  /// Moves the new process pid into its cgroups; throws kSystem naming the process and cgroup.
  void join(pid_t pid) const;
  /// The restore succeeded: the cgroups made stay.
  void keep() { created_.clear(); }

 private:
  void make(const std::vector<Cgroup>& needed, const CgroupsImage& image, CgroupMode mode);
  void remove_created() noexcept;

  std::vector<CgroupMount> mounts_;
  /// Per process, the cgroups it moves into and their directories.
  std::vector<std::pair<pid_t, std::vector<std::pair<Cgroup, std::string>>>> moves_;
  std::vector<std::string> created_;  ///< Directories made, parents first.
};

}  // namespace crossrig::engine
