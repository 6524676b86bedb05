#pragma once
// The namespaces a dumped tree runs in. Restore makes new UTS, IPC and network namespaces for
// a tree started in its own (the hostname and domain name come back, the System V objects
// (sysv_ipc.h), the loopback device's state (net_namespace.h)); a tree in any other namespace
// of its own, or members spread over several, are refused before any process is touched.

#include <sys/types.h>

#include <map>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

namespace crossrig::engine {

/// A process's namespaces by /proc/PID/ns name ("uts", "ipc", "net"...), each by inode.
using NamespaceIds = std::map<std::string, ino_t>;

/// The namespaces of ckpt itself and of the processes of the tree (the root first).
NamespaceIds read_namespaces(pid_t pid);

/// The kinds restore makes new for the tree ("uts", "ipc", "net"); throws kUnsupported naming the
/// first member whose namespaces are not the root's, or the root's own namespace of a kind
/// restore cannot make yet.
std::vector<std::string> namespaces_to_make(
    const NamespaceIds& ckpt, const std::vector<std::pair<pid_t, NamespaceIds>>& members);

/// The namespaces restore makes for the tree (tree.json's "namespaces") and what it sets in
/// them.
struct NamespacesImage {
  bool uts = false, ipc = false, net = false;
  std::string hostname, domainname;
  bool loopback_up = false;
};
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE(NamespacesImage, uts, ipc, net, hostname, domainname,
                                   loopback_up)

}  // namespace crossrig::engine
