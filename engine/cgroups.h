#pragma once
// Cgroup membership of a dumped tree (`--manage-cgroups`, as in CRIU): what the dump records in
// cgroups.json and what restore decides from it. Pure: text in, values out; the reading and
// writing of cgroup files is in cgroup_tree.cc.
//
// A hierarchy is named by its controllers as /proc/PID/cgroup lists them: "" for cgroup v2,
// "cpu,cpuacct" or "name=systemd" for a v1 one (hierarchy ids change from boot to boot, the
// names do not). Paths are absolute in the hierarchy, as /proc/PID/cgroup shows them.

#include <sys/types.h>

#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace crossrig::engine {

/// One cgroup: a hierarchy by its controllers and a path in it.
struct Cgroup {
  std::string controllers;
  std::string path;
  bool operator==(const Cgroup&) const = default;
};
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE(Cgroup, controllers, path)

/// Parses /proc/PID/cgroup ("ID:CONTROLLERS:PATH" lines); throws std::runtime_error naming a
/// malformed line.
std::vector<Cgroup> parse_proc_cgroup(std::string_view text);

/// A mount of a cgroup hierarchy, from /proc/self/mountinfo.
struct CgroupMount {
  bool v2 = false;
  std::vector<std::string> options;  ///< Super options: a v1 mount's controllers and name=.
  std::string root;                  ///< The hierarchy's cgroup the mount shows at its top.
  std::string mountpoint;
};

/// The cgroup and cgroup2 mounts of a mountinfo text (octal escapes in paths decoded).
std::vector<CgroupMount> parse_cgroup_mounts(std::string_view mountinfo);

/// The directory of cgroup cg through one of mounts, or nullopt if none shows it.
std::optional<std::string> cgroup_dir(const std::vector<CgroupMount>& mounts, const Cgroup& cg);

/// The files of a cgroup of this hierarchy that restore sets, in the order it writes them.
std::vector<std::string> cgroup_property_names(const std::string& controllers);

/// The text to write into property file name to set the value read from it (a v2
/// cgroup.subtree_control lists "cpu pids" and takes "+cpu +pids").
std::string cgroup_property_write(const std::string& name, const std::string& value);

/// One property of a recorded cgroup: a file and the value read from it.
struct CgroupProperty {
  std::string name, value;
};
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE(CgroupProperty, name, value)

/// A cgroup whose properties the dump recorded.
struct CgroupDirImage {
  Cgroup cgroup;
  std::vector<CgroupProperty> properties;
};
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE(CgroupDirImage, cgroup, properties)

/// A process and the cgroups it is in, one per hierarchy.
struct CgroupProcessImage {
  int pid = 0;
  std::vector<Cgroup> cgroups;
};
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE(CgroupProcessImage, pid, cgroups)

/// cgroups.json: every live process's cgroups, and the cgroups below ckpt's own with their
/// properties, parents first.
struct CgroupsImage {
  std::vector<CgroupProcessImage> processes;
  std::vector<CgroupDirImage> dirs;
};
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE(CgroupsImage, processes, dirs)

/// True when path lies strictly below base in a hierarchy.
bool cgroup_below(const std::string& path, const std::string& base);

/// The cgroups whose properties the dump records: each one a process of the tree is in below
/// ckpt's own cgroup of that hierarchy, and those between the two, parents first. ckpt's own
/// cgroups and those above are the environment the tree was started in, as in CRIU, which
/// records nothing for a tree in criu's cgroups.
std::vector<Cgroup> cgroups_to_record(const std::vector<Cgroup>& ckpt,
                                      const std::vector<CgroupProcessImage>& procs);

/// The cgroups a process must be moved into: those of wanted not in inherited (its parent's,
/// or ckpt's for the root), which it is in from the moment it is forked.
std::vector<Cgroup> cgroup_moves(const std::vector<Cgroup>& wanted,
                                 const std::vector<Cgroup>& inherited);

/// The cgroups restore makes sure exist for these moves, each with its ancestors below the
/// hierarchy's root, parents first and once each.
std::vector<Cgroup> cgroups_needed(const std::vector<Cgroup>& moves);

/// How restore treats cgroups, CRIU's --manage-cgroups modes.
enum class CgroupMode {
  kIgnore,  ///< Processes stay in ckpt's cgroups (no option given).
  kNone,    ///< Join existing cgroups; a missing one is an error; no property set.
  kProps,   ///< Join existing cgroups and set the recorded properties.
  kSoft,    ///< Create missing cgroups, setting properties only on those created.
  kFull,    ///< Create missing cgroups and set properties on all recorded ones.
  kStrict,  ///< As full, but a recorded cgroup must not exist yet.
};

/// The mode named by --manage-cgroups=NAME; throws CkptError kUsage for another name.
CgroupMode parse_cgroup_mode(std::string_view name);

/// What restore does with one cgroup it needs.
struct CgroupAction {
  bool create = false;
  bool set_properties = false;
};

/// The action for a cgroup that exists or not, recorded (with properties) or not; throws
/// CkptError kSystem naming it (what) when the mode forbids its state.
CgroupAction cgroup_action(CgroupMode mode, bool exists, bool recorded, const std::string& what);

/// "cgroup PATH of hierarchy CONTROLLERS", for messages.
std::string describe(const Cgroup& cg);

}  // namespace crossrig::engine
