#pragma once

#include <sys/types.h>

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "common/host_port.h"
#include "common/tls.h"
#include "engine/dirty_pages.h"

namespace crossrig::engine {

class ImageSender;
struct DumpResult;

/// The processes of a committed dump while DumpOptions::decide runs: each is put back as it
/// was, but held stopped. If ckpt dies now they run on, unless told to die with it.
struct HeldTree {
  /// Whether the processes die with ckpt (PTRACE_O_EXITKILL) from now on.
  std::function<void(bool on)> die_with_ckpt;
  /// The processes, as the image names them (zombies aside).
  std::vector<pid_t> pids;
};

/// What `ckpt dump` was asked to do.
struct DumpOptions {
  pid_t pid = 0;
  std::string dir;
  bool leave_running = false;
  /// The task is a job of a shell: its terminals may belong to a session outside the tree.
  bool shell_job = false;
  /// Established TCP connections are checkpointed in repair mode instead of refused.
  bool tcp_established = false;
  /// Each process's cgroups are recorded (cgroups.json), and the properties of those below
  /// ckpt's own, for restore --manage-cgroups.
  bool manage_cgroups = false;
  /// A pre-dump: only the memory is copied, the processes run on, and tracking of the pages
  /// written from now on is armed for the next image of the chain.
  bool pre_dump = false;
  /// The previous image of the chain (a pre-dump): pages it holds that were not written
  /// since are not copied again.
  std::string prev_dir;
  /// How written pages are found; without it the chain's, or the best the kernel offers.
  std::optional<Tracking> track;
  /// A page server that gets the whole image (named as dir's last component) before dir,
  /// which then holds all but the pages files.
  std::optional<HostPort> page_server;
  /// The certificates of the connection to the page server.
  TlsConfig tls;
  /// A connection the image goes over instead of to page_server: migrate sends every image
  /// of a migration over one.
  ImageSender* sender = nullptr;
  /// Private anonymous pages written since the previous image stay out of it, marked remote,
  /// where a lazy restore may fill them later: a post-copy migration's destination fetches
  /// them from the held tree (decide must keep it until then). Pages the threads need at
  /// once (pages_needed_at_once) are copied still.
  bool leave_remote = false;
  /// Only finds whether the tree can be dumped (CRIU's --check-only): everything a dump
  /// refuses is refused, but no page is copied, no image is left, and the tree runs on.
  bool check_only = false;
  /// Once the image is committed, decides whether the processes are killed (true) or run on,
  /// instead of leave_running; an exception from it lets them run on and fails the dump. The
  /// tracking of written pages that the chain's pre-dumps armed ends only once they run on.
  std::function<bool(const DumpResult&, HeldTree&)> decide;
  /// Called with each process once it is seized, before anything of it is read: an exception
  /// from it fails the dump, the processes running on. ckpt service checks here, where a
  /// process can no longer exec, that its caller may trace each one.
  std::function<void(pid_t)> authorize;
  /// The root process's connection to the ckpt service that asked for this dump of itself:
  /// left out of the image, which records the fd and caller_reply instead; restore puts a
  /// socket at that fd from which the process reads caller_reply (see caller_fd.h).
  std::optional<int> caller_fd;
  std::string caller_reply;
  /// Run in order at pre-dump, before any process is touched, and at post-dump, once the image
  /// is committed and before the processes are killed or run on (engine/action_scripts.h); not
  /// for a check. One that fails fails the dump as any failure does, its image removed.
  std::vector<std::string> action_scripts;
};

/// Figures a dump reports.
struct DumpResult {
  std::uint64_t pages_bytes = 0;
  /// Of those, the bytes the tasks wrote into the image themselves (the fast path); the
  /// rest ckpt read out of them.
  std::uint64_t pages_by_task = 0;
  /// Bytes of present pages left to the parent image, unchanged since it.
  std::uint64_t pages_in_parent = 0;
  /// Bytes of present pages left in the processes (leave_remote).
  std::uint64_t pages_remote = 0;
  std::size_t vmas = 0;
  /// How written pages were found: the tracking the chain uses.
  Tracking tracking = Tracking::kHash;
  /// Where the page server put the image (its host's path), with --page-server.
  std::string page_server_path;
};

/// Dumps the process into opts.dir. Without opts.shell_job a task holding a terminal of a
/// session led from outside the tree is refused (kUnsupported). On any failure the process runs on
/// exactly as before and no image directory is left; throws CkptError.
DumpResult dump(const DumpOptions& opts);

/// Ends the tracking of written pages that the pre-dump in pre_dump_dir armed in the tree of
/// pid (closing the userfaultfds it left in its processes), for a chain given up; the
/// processes run on as before the pre-dumps; nothing without a pre_dump_dir. Throws CkptError.
void end_tracking(pid_t pid, const std::string& pre_dump_dir);

}  // namespace crossrig::engine
