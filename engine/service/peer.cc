#include "engine/service/peer.h"

#include <grp.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <map>
#include <sstream>
#include <utility>

#include "engine/ckpt_error.h"
#include "engine/proc_parse.h"
#include "engine/ptrace_task.h"
#include "engine/task_info.h"

namespace crossrig::engine::service {
namespace {

namespace fs = std::filesystem;

std::vector<unsigned long> numbers(const std::string& line) {
  std::istringstream in(line);
  std::vector<unsigned long> out;
  for (unsigned long n; in >> n;)
    out.push_back(n);
  return out;
}

[[noreturn]] void deny(const Peer& peer, const std::string& why) {
  throw CkptError(CkptError::kDenied, "ckpt service refuses " + peer.describe() + ": " + why);
}

// Runs access(path, mode) as the peer, in a child that takes its uid, gid and groups: the
// kernel's own permission check, ACLs and all, without the service's root. 0 or the errno.
int access_as(const Peer& peer, const std::string& path, int mode) {
  const pid_t child = ::fork();
  if (child < 0) throw_errno("fork to check a path as the caller");
  if (child == 0) {
    // Only async-signal-safe calls here: the service has other threads.
    if (::setgroups(peer.groups.size(), peer.groups.data()) != 0 ||
        ::setresgid(peer.gid, peer.gid, peer.gid) != 0 ||
        ::setresuid(peer.uid, peer.uid, peer.uid) != 0) {
      ::_exit(EPERM);
    }
    ::_exit(::access(path.c_str(), mode) == 0 ? 0 : errno);
  }
  int status = 0;
  while (::waitpid(child, &status, 0) < 0 && errno == EINTR) {
  }
  return WIFEXITED(status) ? WEXITSTATUS(status) : EPERM;
}

}  // namespace

std::string Peer::describe() const {
  return "uid " + std::to_string(uid) + " (pid " + std::to_string(pid) + ")";
}

Peer peer_of(int fd) {
  ucred cred{};
  socklen_t len = sizeof cred;
  if (::getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) != 0)
    throw_errno("SO_PEERCRED of a connection to ckpt service");
  Peer p{cred.pid, cred.uid, cred.gid, {}};
  try {
    const auto status = parse_status(read_file(proc_path(p.pid, "status")));
    if (auto g = status.find("Groups"); g != status.end()) {
      for (unsigned long id : numbers(g->second))
        p.groups.push_back(static_cast<gid_t>(id));
    }
  } catch (const std::exception&) {
    // Gone already: it gets no supplementary groups, only less access.
  }
  return p;
}

void check_may_trace(const Peer& peer, pid_t pid) {
  if (peer.root()) return;
  const std::string who = "process " + std::to_string(pid);
  std::map<std::string, std::string> status;
  try {
    status = parse_status(read_file(proc_path(pid, "status")));
  } catch (const std::exception&) {
    deny(peer, who + " does not exist");
  }
  for (const auto& ids_of : {std::pair<std::string, unsigned long>{"Uid", peer.uid},
                             std::pair<std::string, unsigned long>{"Gid", peer.gid}}) {
    const std::string& key = ids_of.first;
    const unsigned long want = ids_of.second;
    const auto ids = numbers(status.count(key) ? status.at(key) : "");
    if (ids.size() != 4 ||
        std::any_of(ids.begin(), ids.end(), [want](auto id) { return id != want; })) {
      deny(peer, who + " runs with " + key + " " + status[key] + ", not only " +
                     std::to_string(want) + ": only its owner or root may checkpoint it");
    }
  }
  // The kernel hands /proc/PID to root when the process is not dumpable (it ran a setuid
  // program, or said so with prctl): its owner may not ptrace it either.
  struct stat st {};
  if (::stat(proc_path(pid, "").c_str(), &st) != 0 || st.st_uid != peer.uid) {
    deny(peer, who + " is not dumpable (it ran a setuid program or turned dumping off)");
  }
}

void check_may_write_image(const Peer& peer, const std::string& dir) {
  if (peer.root()) return;
  if (dir.empty() || dir.front() != '/')
    deny(peer, "image directory '" + dir + "' is not absolute");
  std::error_code ec;
  const bool exists = fs::exists(dir, ec);
  const std::string target = exists ? dir : fs::path(dir).parent_path().string();
  if (int e = access_as(peer, target, W_OK | X_OK); e != 0) {
    deny(peer, "it cannot write to " + target + " (" + std::strerror(e) + ")");
  }
}

void check_may_read_image(const Peer& peer, const std::string& dir) {
  if (peer.root()) return;
  if (dir.empty() || dir.front() != '/')
    deny(peer, "image directory '" + dir + "' is not absolute");
  if (int e = access_as(peer, dir, R_OK | X_OK); e != 0) {
    deny(peer, "it cannot read " + dir + " (" + std::strerror(e) + ")");
  }
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator(dir, ec)) {
    if (int e = access_as(peer, entry.path().string(), R_OK); e != 0) {
      deny(peer, "it cannot read " + entry.path().string() + " (" + std::strerror(e) + ")");
    }
  }
}

void give_image(const Peer& peer, const std::string& dir) {
  if (peer.root()) return;
  if (::lchown(dir.c_str(), peer.uid, peer.gid) != 0)
    throw_errno("giving " + dir + " to its caller");
  for (const auto& entry : fs::recursive_directory_iterator(dir)) {
    if (::lchown(entry.path().c_str(), peer.uid, peer.gid) != 0)
      throw_errno("giving " + entry.path().string() + " to its caller");
  }
}

}  // namespace crossrig::engine::service
