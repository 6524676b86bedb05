#pragma once
// The namespaces a dumped tree runs in. Restore makes new UTS, IPC, mount, network and PID
// namespaces for a tree started in its own (the hostname and domain name come back, the
// System V objects (sysv_ipc.h), the mounts (mount_namespace.h), the loopback device's state
// (net_namespace.h), every pid inside); a tree in any other namespace of its own, or members
// spread over several, are refused before any process is touched.

#include <sys/types.h>

#include <functional>
#include <map>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

namespace crossrig::engine {

/// A process's namespaces by /proc/PID/ns name ("uts", "ipc", "net"...), each by inode.
using NamespaceIds = std::map<std::string, ino_t>;

/// The namespaces of ckpt itself and of the processes of the tree (the root first).
NamespaceIds read_namespaces(pid_t pid);

/// The kinds restore makes new for the tree ("uts", "ipc", "mnt", "net", "pid"); throws
/// kUnsupported naming the first member whose namespaces are not the root's, or the root's own
/// namespace of a kind restore cannot make yet.
std::vector<std::string> namespaces_to_make(
    const NamespaceIds& ckpt, const std::vector<std::pair<pid_t, NamespaceIds>>& members);

/// Runs fn in a thread of ckpt that joined the namespace of process pid of one kind
/// (CLONE_NEWIPC, CLONE_NEWNS), so that ckpt's other threads stay in theirs; rethrows what fn
/// throws.
void in_namespace_of(pid_t pid, int kind, const std::function<void()>& fn);

/// The pids of task tid of process pid, as /proc/PID/task/TID/status's NSpid lists them:
/// ckpt's PID namespace first, then each one nested in it down to the task's own.
std::vector<pid_t> ns_pids(pid_t pid, pid_t tid);

/// The namespaces restore makes for the tree (tree.json's "namespaces") and what it sets in
/// them.
struct NamespacesImage {
  bool uts = false, ipc = false, net = false, pid = false, mnt = false;
  std::string hostname, domainname;
  bool loopback_up = false;
  /// With pid: every task's and thread's pid in ckpt's PID namespace (the image's pids) with
  /// its pid in the tree's own, where the root is 1.
  std::map<int, int> pids;

  /// A pid or tid of the image as the tree's processes name it; throws kBadImage for one
  /// the image does not list.
  int in_tree(int pid) const;
  /// clone3's set_tid for the task the image names pid: its pid in the tree's namespace,
  /// then in ckpt's.
  std::vector<pid_t> set_tid(int pid) const;
};
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE(NamespacesImage, uts, ipc, net, pid, mnt, hostname, domainname,
                                   loopback_up, pids)

}  // namespace crossrig::engine
