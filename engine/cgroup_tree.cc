#include "engine/cgroup_tree.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <map>

#include "common/unique_fd.h"
#include "engine/ckpt_error.h"
#include "engine/ptrace_task.h"
#include "engine/task_info.h"

namespace crossrig::engine {
namespace {

const char* kNotMounted = " (findmnt -t cgroup,cgroup2 lists the mounted hierarchies): mount it";

// The first cgroup of a that b does not hold, for a message.
std::string first_difference(const std::vector<Cgroup>& a, const std::vector<Cgroup>& b) {
  for (const Cgroup& cg : a) {
    if (std::find(b.begin(), b.end(), cg) == b.end()) return describe(cg);
  }
  return "another set of cgroups";
}

std::vector<CgroupProperty> read_properties(const std::string& dir, const std::string& ctls) {
  std::vector<CgroupProperty> out;
  for (const std::string& name : cgroup_property_names(ctls)) {
    std::string file = dir;
    file.append("/").append(name);
    // Which files a cgroup has depends on the kernel and, on v2, on its parent's
    // subtree_control.
    if (::access(file.c_str(), F_OK) != 0) continue;
    // Empty is the default (a v2 cpuset that uses its parent's CPUs, no controller enabled).
    if (std::string value = read_trimmed(file); !value.empty())
      out.push_back({name, std::move(value)});
  }
  return out;
}

}  // namespace

CgroupsImage read_tree_cgroups(const std::vector<pid_t>& pids) {
  CgroupsImage image;
  for (pid_t pid : pids) {
    std::vector<Cgroup> cgroups = parse_proc_cgroup(read_file(proc_path(pid, "cgroup")));
    for (int tid : list_threads(pid)) {
      const std::vector<Cgroup> own =
          parse_proc_cgroup(read_file(proc_path(pid, "task/" + std::to_string(tid) + "/cgroup")));
      if (own != cgroups)
        throw CkptError(CkptError::kUnsupported,
                        "thread " + std::to_string(tid) + " of process " + std::to_string(pid) +
                            " is in " + first_difference(own, cgroups) +
                            ", its process is not: restore puts every thread in its process's "
                            "cgroups; move the thread back, or dump without --manage-cgroups");
    }
    image.processes.push_back({pid, std::move(cgroups)});
  }
  const std::vector<CgroupMount> mounts = parse_cgroup_mounts(read_file("/proc/self/mountinfo"));
  for (const Cgroup& cg :
       cgroups_to_record(parse_proc_cgroup(read_file("/proc/self/cgroup")), image.processes)) {
    std::optional<std::string> dir = cgroup_dir(mounts, cg);
    if (!dir)
      throw CkptError(CkptError::kUnsupported, "cannot read the properties of " + describe(cg) +
                                                   ": ckpt sees no mount of its hierarchy" +
                                                   kNotMounted +
                                                   ", or dump without --manage-cgroups");
    image.dirs.push_back({cg, read_properties(*dir, cg.controllers)});
  }
  return image;
}

CgroupsImage load_cgroups(const ImageReader& image) {
  if (!image.inventory().at("files").contains("cgroups.json"))
    throw CkptError(CkptError::kUsage,
                    "image " + image.dir() +
                        " holds no cgroups: it was dumped without --manage-cgroups; dump with "
                        "it, or restore without --manage-cgroups");
  try {
    return image.json("cgroups.json").get<CgroupsImage>();
  } catch (const nlohmann::json::exception& e) {
    throw CkptError(CkptError::kBadImage, std::string("cgroups.json is malformed: ") + e.what());
  }
}

CgroupPlacer::CgroupPlacer(const CgroupsImage& image,
                           const std::vector<std::pair<pid_t, pid_t>>& tree, CgroupMode mode)
    : mounts_(parse_cgroup_mounts(read_file("/proc/self/mountinfo"))) {
  std::map<pid_t, const std::vector<Cgroup>*> member;
  for (const CgroupProcessImage& p : image.processes)
    member[p.pid] = &p.cgroups;
  const std::vector<Cgroup> ckpt = parse_proc_cgroup(read_file("/proc/self/cgroup"));
  std::vector<Cgroup> all;
  for (const auto& [pid, ppid] : tree) {
    auto self = member.find(pid);
    auto parent = member.find(ppid);
    if (self == member.end() || (pid != tree.front().first && parent == member.end()))
      throw CkptError(CkptError::kBadImage, "cgroups.json does not list process " +
                                                std::to_string(pid) + " or its parent");
    std::vector<std::pair<Cgroup, std::string>> dirs;
    for (const Cgroup& cg :
         cgroup_moves(*self->second, pid == tree.front().first ? ckpt : *parent->second)) {
      std::optional<std::string> dir = cgroup_dir(mounts_, cg);
      if (!dir)
        throw CkptError(CkptError::kSystem, "process " + std::to_string(pid) + " was in " +
                                                describe(cg) + ", which ckpt sees no mount of" +
                                                kNotMounted +
                                                ", or restore with --manage-cgroups=ignore");
      all.push_back(cg);
      dirs.emplace_back(cg, *dir);
    }
    moves_.emplace_back(pid, std::move(dirs));
  }
  try {
    make(cgroups_needed(all), image, mode);
  } catch (...) {
    remove_created();
    throw;
  }
}

CgroupPlacer::~CgroupPlacer() {
  remove_created();
}

void CgroupPlacer::make(const std::vector<Cgroup>& needed, const CgroupsImage& image,
                        CgroupMode mode) {
  for (const Cgroup& cg : needed) {
    auto recorded = std::find_if(image.dirs.begin(), image.dirs.end(),
                                 [&](const CgroupDirImage& d) { return d.cgroup == cg; });
    // Every needed cgroup lies on the path to one a process joins, which has a mount.
    const std::string dir = *cgroup_dir(mounts_, cg);
    struct stat st {};
    const bool exists = ::stat(dir.c_str(), &st) == 0 && S_ISDIR(st.st_mode);
    const CgroupAction act =
        cgroup_action(mode, exists, recorded != image.dirs.end(), describe(cg));
    if (act.create) {
      if (::mkdir(dir.c_str(), 0755) != 0)
        throw CkptError(CkptError::kSystem, "cannot create " + describe(cg) + " (" + dir +
                                                "): " + std::strerror(errno));
      created_.push_back(dir);
    }
    if (!act.set_properties) continue;
    for (const CgroupProperty& p : recorded->properties)
      write_file(dir + "/" + p.name, cgroup_property_write(p.name, p.value),
                 "cannot set " + p.name + " of " + describe(cg) + " to " + p.value +
                     (cg.controllers.empty() ? " (a v2 controller's files exist once the parent "
                                               "enables it in its cgroup.subtree_control)"
                                             : ""));
  }
}

void CgroupPlacer::join(pid_t pid) const {
  auto it =
      std::find_if(moves_.begin(), moves_.end(), [&](const auto& m) { return m.first == pid; });
  if (it == moves_.end()) return;
  for (const auto& [cg, dir] : it->second)
    write_file(dir + "/cgroup.procs", std::to_string(pid),
               "cannot move restored process " + std::to_string(pid) + " into " + describe(cg));
}

void CgroupPlacer::remove_created() noexcept {
  // Children before parents; their processes are gone by now (a v2 cgroup still holding
  // one refuses, and the restore's own error is the one to report).
  for (auto it = created_.rbegin(); it != created_.rend(); ++it)
    ::rmdir(it->c_str());
  created_.clear();
}

}  // namespace crossrig::engine
