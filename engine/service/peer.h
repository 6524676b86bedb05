#pragma once
// Who is asking ckpt service, and what they may do: a caller acts only on processes it could
// ptrace itself and on image directories it could read or write itself.

#include <sys/types.h>

#include <string>
#include <vector>

namespace crossrig::engine::service {

/// The process at the other end of a connection, as the kernel vouches for it.
struct Peer {
  pid_t pid = 0;
  uid_t uid = 0;
  gid_t gid = 0;
  /// Supplementary groups, read from /proc when it connected (SO_PEERCRED has none).
  std::vector<gid_t> groups;

  bool root() const { return uid == 0; }
  /// "uid 1000 (pid 4242)", for the log.
  std::string describe() const;
};

/// The peer of a connected unix socket; throws kSystem when the kernel does not say.
Peer peer_of(int fd);

/// Throws CkptError(kDenied), saying why, unless peer could ptrace process pid as the kernel's
/// own rule has it (without CAP_SYS_PTRACE): root may; anyone else only a process whose real,
/// effective, saved and filesystem uids are all its uid, whose gids are all its gid, and which
/// is dumpable (a process that ran a setuid program is not).
void check_may_trace(const Peer& peer, pid_t pid);

/// Throws kDenied unless peer may have an image written to dir: it could create dir (write
/// to its parent) or dir exists and it could write to it.
void check_may_write_image(const Peer& peer, const std::string& dir);

/// Throws kDenied unless peer could read the image in dir (list it, read its files).
void check_may_read_image(const Peer& peer, const std::string& dir);

/// Makes dir and every file in it the peer's (uid, gid), as if it had dumped them itself.
void give_image(const Peer& peer, const std::string& dir);

}  // namespace crossrig::engine::service
