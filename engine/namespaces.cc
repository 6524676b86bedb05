#include "engine/namespaces.h"

#include <fcntl.h>
#include <sched.h>
#include <sys/stat.h>

#include <algorithm>
#include <sstream>
#include <stdexcept>
#include <thread>

#include "common/unique_fd.h"
#include "engine/ckpt_error.h"
#include "engine/proc_parse.h"
#include "engine/ptrace_task.h"
#include "engine/task_info.h"

namespace crossrig::engine {
namespace {

// The namespaces ckpt compares; *_for_children ones follow from these for a tree restored
// from its root.
constexpr const char* kKinds[] = {"cgroup", "ipc", "mnt", "net", "pid", "time", "user", "uts"};
constexpr const char* kMade[] = {"ipc", "mnt", "net", "pid", "uts"};

std::string long_name(const std::string& kind) {
  static const std::map<std::string, std::string> names = {
      {"cgroup", "cgroup"}, {"ipc", "IPC"},   {"mnt", "mount"}, {"net", "network"},
      {"pid", "PID"},       {"time", "time"}, {"user", "user"}, {"uts", "UTS"}};
  return names.at(kind) + " namespace";
}

}  // namespace

NamespaceIds read_namespaces(pid_t pid) {
  NamespaceIds out;
  for (const char* kind : kKinds) {
    struct stat st {};
    // A kernel without a kind of namespace has no link for it.
    if (::stat(proc_path(pid, std::string("ns/") + kind).c_str(), &st) == 0) out[kind] = st.st_ino;
  }
  return out;
}

std::vector<std::string> namespaces_to_make(
    const NamespaceIds& ckpt, const std::vector<std::pair<pid_t, NamespaceIds>>& members) {
  std::vector<std::string> made;
  if (members.empty()) return made;
  const auto& [root, root_ns] = members.front();
  for (const auto& [pid, ns] : members) {
    for (const auto& [kind, ino] : ns) {
      auto at_root = root_ns.find(kind);
      if (at_root == root_ns.end() || at_root->second != ino)
        throw CkptError(CkptError::kUnsupported,
                        "process " + std::to_string(pid) + " runs in another " + long_name(kind) +
                            " than the root process " + std::to_string(root) +
                            "; ckpt checkpoints a tree whose processes share their namespaces");
    }
  }
  for (const auto& [kind, ino] : root_ns) {
    auto own = ckpt.find(kind);
    if (own == ckpt.end() || own->second == ino) continue;
    if (std::find(std::begin(kMade), std::end(kMade), kind) == std::end(kMade))
      throw CkptError(CkptError::kUnsupported, "process " + std::to_string(root) +
                                                   " runs in its own " + long_name(kind) +
                                                   ", which ckpt cannot checkpoint yet (it can: "
                                                   "UTS, IPC, mount, network and PID namespaces)");
    made.push_back(kind);
  }
  return made;
}

void in_namespace_of(pid_t pid, int kind, const std::function<void()>& fn) {
  const std::string name = kind == CLONE_NEWNS ? "mnt" : kind == CLONE_NEWIPC ? "ipc" : "";
  if (name.empty()) throw std::invalid_argument("in_namespace_of: a kind it does not join");
  UniqueFd ns(::open(proc_path(pid, "ns/" + name).c_str(), O_RDONLY | O_CLOEXEC));
  if (!ns) throw_errno("opening the " + long_name(name) + " of process " + std::to_string(pid));
  std::exception_ptr failure;
  std::thread t([&] {
    try {
      // A thread joins a mount namespace only with a root and working directory of its own.
      if (kind == CLONE_NEWNS && ::unshare(CLONE_FS) != 0)
        throw_errno("unsharing ckpt's root directory to join a mount namespace");
      if (::setns(ns.get(), kind) != 0)
        throw_errno("joining the " + long_name(name) + " of process " + std::to_string(pid));
      fn();
    } catch (...) {
      failure = std::current_exception();
    }
  });
  t.join();
  if (failure) std::rethrow_exception(failure);
}

std::vector<pid_t> ns_pids(pid_t pid, pid_t tid) {
  const auto status =
      parse_status(read_file(proc_path(pid, "task/" + std::to_string(tid) + "/status")));
  // Kernels before 4.1 print no NSpid: no namespace below ckpt's is visible then.
  auto line = status.find("NSpid");
  if (line == status.end()) return {tid};
  std::istringstream fields(line->second);
  std::vector<pid_t> out;
  for (pid_t p; fields >> p;)
    out.push_back(p);
  return out;
}

int NamespacesImage::in_tree(int pid_in_image) const {
  if (!pid) return pid_in_image;
  auto it = pids.find(pid_in_image);
  if (it == pids.end())
    throw CkptError(
        CkptError::kBadImage,
        "tree.json names no pid in the tree's PID namespace for " + std::to_string(pid_in_image));
  return it->second;
}

std::vector<pid_t> NamespacesImage::set_tid(int pid_in_image) const {
  if (!pid) return {pid_in_image};
  return {in_tree(pid_in_image), pid_in_image};
}

}  // namespace crossrig::engine
