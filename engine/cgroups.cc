#include "engine/cgroups.h"

#include <algorithm>
#include <map>
#include <set>
#include <sstream>
#include <stdexcept>

#include "engine/ckpt_error.h"
#include "engine/proc_parse.h"

namespace crossrig::engine {
namespace {

bool shows_hierarchy(const CgroupMount& m, const std::string& controllers) {
  if (controllers.empty()) return m.v2;
  if (m.v2) return false;
  const std::vector<std::string> wanted = split_fields(controllers, ',');
  return std::all_of(wanted.begin(), wanted.end(), [&](const std::string& c) {
    return std::find(m.options.begin(), m.options.end(), c) != m.options.end();
  });
}

// The cgroups from below `from` down to `to`, `to` included.
void add_chain(const std::string& controllers, const std::string& from, const std::string& to,
               std::set<std::pair<std::string, std::string>>& out) {
  for (std::string at = to; cgroup_below(at, from);
       at = at.substr(0, std::max<std::size_t>(at.rfind('/'), 1)))
    out.emplace(controllers, at);
}

std::vector<Cgroup> to_list(const std::set<std::pair<std::string, std::string>>& set) {
  // A parent's path is a prefix of its children's, so this order puts parents first.
  std::vector<Cgroup> out;
  out.reserve(set.size());
  for (const auto& [controllers, path] : set)
    out.push_back({controllers, path});
  return out;
}

}  // namespace

std::vector<Cgroup> parse_proc_cgroup(std::string_view text) {
  std::vector<Cgroup> out;
  for (const std::string& line : split_fields(text, '\n')) {
    std::size_t first = line.find(':');
    std::size_t second = first == std::string::npos ? first : line.find(':', first + 1);
    if (second == std::string::npos || first == 0 ||
        line.find_first_not_of("0123456789") != first || line.size() == second + 1 ||
        line[second + 1] != '/')
      throw std::runtime_error("malformed /proc/PID/cgroup line: " + line);
    out.push_back({line.substr(first + 1, second - first - 1), line.substr(second + 1)});
  }
  return out;
}

std::vector<CgroupMount> parse_cgroup_mounts(std::string_view mountinfo) {
  std::vector<CgroupMount> out;
  for (MountInfo& m : parse_mountinfo(mountinfo)) {
    if (m.fstype == "cgroup" || m.fstype == "cgroup2")
      out.push_back({m.fstype == "cgroup2", std::move(m.super_options), std::move(m.root),
                     std::move(m.mountpoint)});
  }
  return out;
}

std::optional<std::string> cgroup_dir(const std::vector<CgroupMount>& mounts, const Cgroup& cg) {
  for (const CgroupMount& m : mounts) {
    if (!shows_hierarchy(m, cg.controllers)) continue;
    if (m.root == cg.path) return m.mountpoint;
    if (cgroup_below(cg.path, m.root))
      return m.mountpoint + cg.path.substr(m.root == "/" ? 0 : m.root.size());
  }
  return std::nullopt;
}

std::vector<std::string> cgroup_property_names(const std::string& controllers) {
  // What a workload's limits are made of: weights, quotas, limits and CPU sets. v2's
  // subtree_control comes first: a child's controller files exist only once it is written.
  if (controllers.empty())
    return {"cgroup.subtree_control",
            "cpuset.cpus",
            "cpuset.mems",
            "cpu.weight",
            "cpu.max",
            "memory.min",
            "memory.low",
            "memory.high",
            "memory.max",
            "memory.swap.max",
            "pids.max"};
  static const std::map<std::string, std::vector<std::string>> kV1 = {
      // The period before the quota, which must fit it.
      {"cpu", {"cpu.shares", "cpu.cfs_period_us", "cpu.cfs_quota_us"}},
      // A v1 cpuset takes no process before it has CPUs and memory nodes.
      {"cpuset", {"cpuset.cpus", "cpuset.mems"}},
      {"memory", {"memory.limit_in_bytes", "memory.soft_limit_in_bytes", "memory.swappiness"}},
      {"blkio", {"blkio.weight"}},
      {"pids", {"pids.max"}},
      {"net_cls", {"net_cls.classid"}},
  };
  std::vector<std::string> out;
  for (const std::string& c : split_fields(controllers, ',')) {
    if (auto it = kV1.find(c); it != kV1.end())
      out.insert(out.end(), it->second.begin(), it->second.end());
  }
  return out;
}

std::string cgroup_property_write(const std::string& name, const std::string& value) {
  if (name != "cgroup.subtree_control") return value;
  std::string out;
  std::istringstream in(value);
  for (std::string c; in >> c;)
    out += (out.empty() ? "+" : " +") + c;
  return out;
}

bool cgroup_below(const std::string& path, const std::string& base) {
  if (base == "/") return path.size() > 1 && path[0] == '/';
  return path.size() > base.size() && path.starts_with(base) && path[base.size()] == '/';
}

std::vector<Cgroup> cgroups_to_record(const std::vector<Cgroup>& ckpt,
                                      const std::vector<CgroupProcessImage>& procs) {
  std::set<std::pair<std::string, std::string>> out;
  for (const CgroupProcessImage& p : procs) {
    for (const Cgroup& cg : p.cgroups) {
      auto own = std::find_if(ckpt.begin(), ckpt.end(),
                              [&](const Cgroup& c) { return c.controllers == cg.controllers; });
      if (own != ckpt.end()) add_chain(cg.controllers, own->path, cg.path, out);
    }
  }
  return to_list(out);
}

std::vector<Cgroup> cgroup_moves(const std::vector<Cgroup>& wanted,
                                 const std::vector<Cgroup>& inherited) {
  std::vector<Cgroup> out;
  for (const Cgroup& cg : wanted) {
    if (std::find(inherited.begin(), inherited.end(), cg) == inherited.end()) out.push_back(cg);
  }
  return out;
}

std::vector<Cgroup> cgroups_needed(const std::vector<Cgroup>& moves) {
  std::set<std::pair<std::string, std::string>> out;
  for (const Cgroup& cg : moves)
    add_chain(cg.controllers, "/", cg.path, out);
  return to_list(out);
}

CgroupMode parse_cgroup_mode(std::string_view name) {
  static const std::pair<std::string_view, CgroupMode> kModes[] = {
      {"ignore", CgroupMode::kIgnore}, {"none", CgroupMode::kNone}, {"props", CgroupMode::kProps},
      {"soft", CgroupMode::kSoft},     {"full", CgroupMode::kFull}, {"strict", CgroupMode::kStrict},
  };
  for (const auto& [n, mode] : kModes) {
    if (n == name) return mode;
  }
  throw CkptError(CkptError::kUsage, "unknown --manage-cgroups mode '" + std::string(name) +
                                         "': use ignore, none, props, soft, full or strict");
}

CgroupAction cgroup_action(CgroupMode mode, bool exists, bool recorded, const std::string& what) {
  switch (mode) {
    case CgroupMode::kIgnore:
      return {};
    case CgroupMode::kNone:
    case CgroupMode::kProps:
      if (!exists)
        throw CkptError(CkptError::kSystem,
                        what + " does not exist; --manage-cgroups=" +
                            (mode == CgroupMode::kNone ? "none" : "props") +
                            " only joins existing cgroups: create it, or restore with "
                            "--manage-cgroups=soft, which creates it");
      return {false, mode == CgroupMode::kProps && recorded};
    case CgroupMode::kSoft:
      return {!exists, !exists && recorded};
    case CgroupMode::kFull:
      return {!exists, recorded};
    case CgroupMode::kStrict:
      if (exists && recorded)
        throw CkptError(CkptError::kSystem,
                        what +
                            " exists already; --manage-cgroups=strict makes every recorded "
                            "cgroup anew: remove it, or restore with --manage-cgroups=soft, "
                            "which joins it");
      return {!exists, recorded};
  }
  return {};
}

std::string describe(const Cgroup& cg) {
  return "cgroup " + cg.path + " of " +
         (cg.controllers.empty() ? "the cgroup v2 hierarchy"
                                 : "cgroup v1 hierarchy " + cg.controllers);
}

}  // namespace crossrig::engine
