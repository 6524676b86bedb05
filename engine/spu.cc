#include "engine/spu.h"

#include <sys/stat.h>
#include <sys/sysmacros.h>

#include "engine/ckpt_error.h"
#include "engine/ptrace_task.h"
#include "engine/task_info.h"

namespace crossrig::engine {

std::set<dev_t> spufs_devices(std::string_view mountinfo) {
  std::set<dev_t> out;
  for (const MountInfo& m : parse_mountinfo(mountinfo)) {
    if (m.fstype == "spufs") out.insert(makedev(m.major, m.minor));
  }
  return out;
}

std::optional<std::string> spu_mapping(const std::vector<MapsEntry>& maps,
                                       const std::set<dev_t>& spufs) {
  for (const MapsEntry& e : maps) {
    if (!spufs.contains(makedev(e.dev_major, e.dev_minor))) continue;
    char range[64];
    std::snprintf(range, sizeof range, "0x%llx-0x%llx", static_cast<unsigned long long>(e.start),
                  static_cast<unsigned long long>(e.end));
    return std::string(range) + " of " + e.path;
  }
  return std::nullopt;
}

namespace {

[[noreturn]] void refuse(pid_t pid, const std::string& what) {
  throw CkptError(CkptError::kUnsupported,
                  "process " + std::to_string(pid) + " uses a Cell SPU context (" + what +
                      "): SPU state cannot be checkpointed; dump it after its SPU program has "
                      "finished and it has closed the context");
}

}  // namespace

void refuse_spu_contexts(const std::vector<pid_t>& pids) {
  for (pid_t pid : pids) {
    std::set<dev_t> spufs = spufs_devices(read_file(proc_path(pid, "mountinfo")));
    if (spufs.empty()) continue;
    if (auto m = spu_mapping(parse_maps(read_file(proc_path(pid, "maps"))), spufs))
      refuse(pid, "mapping " + *m);
    for (int fd : list_numeric_dir(proc_path(pid, "fd"))) {
      std::string link = proc_path(pid, "fd/" + std::to_string(fd));
      struct stat st {};
      if (::stat(link.c_str(), &st) == 0 && spufs.contains(st.st_dev))
        refuse(pid, "fd " + std::to_string(fd) + " on " + read_link(link));
    }
  }
}

}  // namespace crossrig::engine
