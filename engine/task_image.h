#pragma once
// What the image records about a process, and its JSON form. Pure data: no I/O here.

#include <algorithm>
#include <cstdint>
#include <map>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <vector>

#include "arch/regs.h"

namespace crossrig::engine {

/// One mapping of the address space.
struct VmaImage {
  std::uint64_t start = 0, end = 0;
  int prot = 0;  ///< PROT_* bits.
  bool shared = false;
  std::string kind;  ///< "anon", "file", or the special name: "vdso", "vvar", "stack", ...
  std::string path;  ///< The mapped file, for kind "file".
  std::uint64_t offset = 0;
  std::vector<std::string> vm_flags;  ///< smaps VmFlags, e.g. "gd" for a grows-down stack.
  std::uint64_t inode = 0;            ///< Identifies shared anonymous memory across processes.
  int unlinked = -1;                  ///< For kind "unlinked": its inode in FilesImage::unlinked.

  bool has_flag(std::string_view flag) const {
    return std::find(vm_flags.begin(), vm_flags.end(), flag) != vm_flags.end();
  }
};

/// A run of pages at vaddr stored at offset in the pages file, or held by the parent image,
/// or (remote) left in the dumped process for a post-copy migration's destination to fetch.
struct PagemapEntry {
  std::uint64_t vaddr = 0, npages = 0, offset = 0;
  bool in_parent = false;
  bool remote = false;
};

/// The address space of one process.
struct MmImage {
  std::vector<VmaImage> vmas;
  std::uint64_t start_code = 0, end_code = 0, start_data = 0, end_data = 0, start_brk = 0, brk = 0,
                start_stack = 0, arg_start = 0, arg_end = 0, env_start = 0, env_end = 0;
  std::vector<std::uint64_t> auxv;
  std::string exe;
};

/// One signal's disposition as rt_sigaction reports it.
struct SigactionImage {
  int sig = 0;
  std::uint64_t handler = 0, flags = 0, restorer = 0, mask = 0;
};

/// One resource limit.
struct RlimitImage {
  int resource = 0;
  std::uint64_t cur = 0, max = 0;
};

/// An interval timer (setitimer) that was armed, with the time it had left; time stands
/// still for it between dump and restore.
struct ItimerImage {
  int which = 0;  ///< ITIMER_REAL, ITIMER_VIRTUAL or ITIMER_PROF.
  std::int64_t value_sec = 0, value_usec = 0, interval_sec = 0, interval_usec = 0;
};

/// A POSIX timer (timer_create), as /proc/PID/timers and timer_gettime show it.
struct PosixTimerImage {
  int id = 0;  ///< The timer_t the process holds.
  int clockid = 0;
  int notify = 0;  ///< sigev_notify: SIGEV_SIGNAL, SIGEV_NONE, SIGEV_THREAD, | SIGEV_THREAD_ID.
  int signo = 0;
  std::uint64_t sigval = 0;  ///< sigev_value, delivered with the signal.
  int tid = 0;               ///< The thread signalled, with SIGEV_THREAD_ID.
  std::int64_t value_sec = 0, value_nsec = 0, interval_sec = 0, interval_nsec = 0;
};

/// A file lock as /proc/PID/fdinfo shows it: a flock() or OFD lock belongs to the open file
/// description, a POSIX (fcntl) lock to the process that set it through the fd.
struct LockImage {
  std::string kind;  ///< "flock", "ofd" or "posix".
  bool write = false;
  std::int64_t start = 0, len = 0;  ///< Byte range; len 0 runs to the end of the file.
};

/// One fd an epoll instance watches, as its owner registered it (EPOLL_CTL_ADD).
struct WatchImage {
  int fd = 0;                ///< The target's fd number in the owner, which keys the watch.
  std::uint32_t events = 0;  ///< EPOLL* bits, EPOLLET and EPOLLONESHOT included.
  std::uint64_t data = 0;    ///< epoll_data as the process gave it.
};

/// One inotify watch: its watch descriptor, which the process holds, and what it watches.
struct InotifyWatchImage {
  int wd = 0;
  std::uint32_t mask = 0;  ///< IN_* events, IN_ONESHOT and IN_EXCL_UNLINK included.
  std::string path;        ///< The watched inode, as ckpt found it from its file handle.
  bool symlink = false;    ///< The watch is on a symbolic link itself (IN_DONT_FOLLOW).
};

/// The state of an anonymous-inode kernel object (FileImage kinds "eventfd", "timerfd",
/// "signalfd", "epoll", "inotify"); each kind uses its own fields, the others stay 0.
struct EventImage {
  std::uint64_t count = 0;  ///< eventfd: its counter.
  bool semaphore = false;   ///< eventfd: EFD_SEMAPHORE.
  int clockid = 0;          ///< timerfd: its clock.
  int settime_flags = 0;    ///< timerfd: TFD_TIMER_ABSTIME, TFD_TIMER_CANCEL_ON_SET.
  std::uint64_t ticks = 0;  ///< timerfd: expirations not read yet.
  /// timerfd: time left to the next expiration (0 if disarmed) and the period.
  std::int64_t value_sec = 0, value_nsec = 0, interval_sec = 0, interval_nsec = 0;
  std::uint64_t sigmask = 0;        ///< signalfd: the signals it reads, bit sig-1.
  int owner = 0;                    ///< epoll: the process whose fd numbers the watches name.
  std::vector<WatchImage> watches;  ///< epoll: what it watches.
  std::vector<InotifyWatchImage> inotify_watches;  ///< inotify: its watches, by wd.
};

/// One file descriptor: a number in the process's table and the open file description it
/// points at (shared with every fd dup'ed from it, inherited across fork or passed over a socket).
struct FdImage {
  int fd = 0;
  int file = 0;                  ///< Index of its description in FilesImage::files.
  bool cloexec = false;          ///< FD_CLOEXEC belongs to the fd, not to the description.
  std::vector<LockImage> locks;  ///< POSIX locks the process set through this fd.
};

/// An open file description: what one open() or pipe() made, with the offset and status flags
/// every fd on it shares.
struct FileImage {
  /// "file", "dir", "chr", "fifo", "pipe" (one end of an anonymous pipe), "unlinked" (a
  /// regular file removed from every directory while open), "unix" (a unix socket), "inet" (a
  /// TCP or UDP socket), or a kernel object: "eventfd", "timerfd", "signalfd", "epoll", "inotify".
  std::string kind;
  std::string path;  ///< As ckpt saw it; "pipe:[INODE]" for a pipe, the last name if unlinked.
  int flags = 0;     ///< Access mode and status flags (O_APPEND, O_NONBLOCK...).
  std::int64_t pos = 0;
  int pipe = -1;                 ///< For a fifo or pipe: its pipe buffer in FilesImage::pipes.
  int unlinked = -1;             ///< For an unlinked file: its inode in FilesImage::unlinked.
  bool ctty = false;             ///< On a controlling terminal (`restore --shell-job` swaps it).
  std::vector<LockImage> locks;  ///< flock() and OFD locks held through it.
  int event = -1;   ///< For an eventfd, timerfd, signalfd or epoll: its FilesImage::events entry.
  int socket = -1;  ///< For a unix socket: its FilesImage::sockets entry.
  int inet = -1;    ///< For a TCP or UDP socket: its FilesImage::inet_sockets entry.
};

/// The buffer of a pipe or FIFO with the bytes that were in flight in it.
struct PipeImage {
  int size = 0;                          ///< Capacity (F_GETPIPE_SZ).
  std::uint64_t offset = 0, length = 0;  ///< Its bytes in files-data.img.
};

/// An unlinked regular file or a memfd: its content, kept in the image since no name reaches
/// it. Its fds and mappings all name it, so they share one inode again.
struct UnlinkedImage {
  std::string path;   ///< Its last name ("/memfd:NAME" for a memfd).
  std::string memfd;  ///< For a memfd: its memfd_create() name; "" for an unlinked file.
  int seals = 0;      ///< A memfd's F_GET_SEALS.
  unsigned mode = 0;  ///< Permission bits.
  std::uint32_t uid = 0, gid = 0;
  std::uint64_t offset = 0, length = 0;  ///< Its content in files-data.img.
};

/// Bytes queued to a socket and not read yet: one datagram or record, or for a stream socket
/// a run of bytes, which ends with the bytes its descriptors in flight came with.
struct QueuedImage {
  std::uint64_t offset = 0, length = 0;  ///< Its bytes in files-data.img.
  std::string sender;  ///< A datagram's sender address (as UnixSocketImage::name), "" if none.
  /// The descriptors in flight with it (SCM_RIGHTS), in order: their FilesImage::files entries.
  std::vector<int> files;
};

/// A unix socket (FileImage kind "unix"), or a connection waiting in a listener's queue that
/// no fd holds yet.
struct UnixSocketImage {
  std::uint32_t ino = 0;  ///< Its inode when dumped, which messages name.
  int type = 0;           ///< SOCK_STREAM, SOCK_DGRAM or SOCK_SEQPACKET.
  std::string state;      ///< "listening", "connected" or "unconnected".
  /// The bound address: a path, an abstract name starting with '\0', or "" if unbound.
  std::string name;
  bool deleted = false;  ///< Its bound file was removed while it stayed bound.
  int peer = -1;         ///< Its peer in FilesImage::sockets; -1 if none or closed.
  /// A datagram socket connected to one outside the tree: that socket's name, connected again.
  std::string peer_name;
  int listener = -1;  ///< A connection not accepted yet: the listener whose queue holds it.
  int backlog = 0;    ///< A listener's listen() backlog.
  int shutdown = 0;   ///< Directions shut: 1 receiving, 2 sending (by it or by its peer).
  int sndbuf = 0, rcvbuf = 0;  ///< SO_SNDBUF, SO_RCVBUF as getsockopt reports them.
  int peek_off = -1;           ///< SO_PEEK_OFF; -1 when not in use.
  bool passcred = false;       ///< SO_PASSCRED.
  std::int64_t rcvtimeo_usec = 0, sndtimeo_usec = 0;  ///< SO_RCVTIMEO, SO_SNDTIMEO.
  std::vector<QueuedImage> queue;                     ///< What it has to read, in order.
};

/// A TCP or UDP socket (FileImage kind "inet"); an established TCP connection with the state
/// TCP_REPAIR reads and sets.
struct InetSocketImage {
  int family = 0;       ///< AF_INET or AF_INET6.
  int type = 0;         ///< SOCK_STREAM (TCP) or SOCK_DGRAM (UDP).
  std::string state;    ///< "listening", "established" (TCP), "connected" (UDP), "unconnected".
  std::string address;  ///< Local address as text; port 0 when not bound.
  int port = 0;
  std::string peer_address;  ///< For a connected socket.
  int peer_port = 0;
  bool v6only = false;  ///< IPV6_V6ONLY.
  int backlog = 0;      ///< A listener's backlog.
  bool reuseaddr = false, reuseport = false, keepalive = false, nodelay = false;
  int sndbuf = 0, rcvbuf = 0;  ///< SO_SNDBUF, SO_RCVBUF as getsockopt reports them.
  /// An established connection: the sequence numbers that end its send and receive queues
  /// (TCP_QUEUE_SEQ), their bytes in files-data.img, and how many of the sent ones the
  /// kernel had not put on the wire yet.
  std::uint32_t send_seq = 0, recv_seq = 0;
  std::uint64_t send_offset = 0, send_length = 0, unsent_length = 0;
  std::uint64_t recv_offset = 0, recv_length = 0;
  /// Options the handshake negotiated, and the timestamp clock (TCP_TIMESTAMP).
  std::uint32_t mss = 0;
  int snd_wscale = -1, rcv_wscale = -1;  ///< -1: no window scaling.
  bool sack = false, timestamps = false;
  std::uint32_t timestamp = 0;
  /// TCP_REPAIR_WINDOW.
  std::uint32_t snd_wl1 = 0, snd_wnd = 0, max_window = 0, rcv_wnd = 0, rcv_wup = 0;
};

/// Every open file description of the dumped tree (files.json).
struct FilesImage {
  std::vector<FileImage> files;
  std::vector<PipeImage> pipes;
  std::vector<UnlinkedImage> unlinked;
  std::vector<EventImage> events;
  std::vector<UnixSocketImage> sockets;
  std::vector<InetSocketImage> inet_sockets;
};

/// Credentials and security state of one thread (the kernel keeps them per thread).
struct CredsImage {
  std::vector<std::uint32_t> uids, gids;  ///< real, effective, saved, filesystem
  std::vector<std::uint32_t> groups;
  std::uint64_t cap_inh = 0, cap_prm = 0, cap_eff = 0, cap_bnd = 0;
  bool no_new_privs = false;
  std::uint32_t personality = 0;
};

/// One seccomp filter of a process: its BPF program and the filter it was stacked on. Threads
/// whose chains share ancestors share those entries, so the list is a tree.
struct SeccompFilterImage {
  int prev = -1;            ///< Index of the filter below this one in the list, -1 for none.
  std::uint64_t flags = 0;  ///< SECCOMP_FILTER_FLAG_* the kernel reports for it (LOG).
  std::string insns;        ///< The struct sock_filter program as hex, 8 bytes per instruction.
};

/// Process-wide state other than memory and registers.
struct TaskImage {
  int pid = 0, ppid = 0, pgid = 0, sid = 0;
  bool foreground = false;       ///< Its process group was its terminal's foreground group.
  bool stopped = false;          ///< In a job-control stop (SIGSTOP, SIGTSTP...) until a SIGCONT.
  bool child_subreaper = false;  ///< PR_SET_CHILD_SUBREAPER: orphans below it come to it.
  std::vector<int> threads;
  std::string comm, cwd;
  std::string root = "/";  ///< The task's root directory (chroot), as ckpt sees the path.
  unsigned umask = 0;
  std::vector<SigactionImage> sigactions;
  std::vector<RlimitImage> rlimits;
  std::vector<ItimerImage> itimers;
  std::vector<PosixTimerImage> posix_timers;  ///< By ascending id.
  std::vector<FdImage> fds;
  std::vector<std::string> shared_pending;  ///< siginfo (hex) of signals queued to the process.
  std::vector<SeccompFilterImage>
      seccomp_filters;  ///< Every thread's filters, shared entries once.
};

/// Per-thread CPU state: registers by name as hex strings, readable on any host.
struct CoreImage {
  int tid = 0;
  std::string arch;
  std::map<std::string, std::string> regs;
  std::string fp;  ///< The FP/vector regset (xsave) as hex.
  /// Vector regsets beside fp, by the arch's name for them ("vmx", "vxrs_high" ...), as hex.
  std::map<std::string, std::string> vector;
  std::uint64_t sigmask = 0;
  std::uint64_t rseq_ptr = 0;  ///< Registered rseq area, 0 if none.
  std::uint32_t rseq_size = 0, rseq_sig = 0;
  std::uint64_t altstack_sp = 0, altstack_size = 0;  ///< sigaltstack; flags 2 = SS_DISABLE.
  int altstack_flags = 2;
  std::vector<std::string> pending;  ///< siginfo (hex) of signals queued to this thread.
  std::uint64_t clear_tid = 0;       ///< set_tid_address() pointer (pthread_join relies on it).
  std::uint64_t robust_head = 0, robust_len = 0;  ///< set_robust_list() registration.
  int pdeathsig = 0;  ///< PR_SET_PDEATHSIG signal (kept per thread), 0 if none.
  CredsImage creds;
  int seccomp_filter = -1;  ///< Newest filter of the thread in TaskImage::seccomp_filters, or -1.
};

NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE(VmaImage, start, end, prot, shared, kind, path, offset, vm_flags,
                                   inode, unlinked)
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE_WITH_DEFAULT(PagemapEntry, vaddr, npages, offset, in_parent,
                                                remote)
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE(MmImage, vmas, start_code, end_code, start_data, end_data,
                                   start_brk, brk, start_stack, arg_start, arg_end, env_start,
                                   env_end, auxv, exe)
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE(SigactionImage, sig, handler, flags, restorer, mask)
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE(RlimitImage, resource, cur, max)
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE(ItimerImage, which, value_sec, value_usec, interval_sec,
                                   interval_usec)
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE(PosixTimerImage, id, clockid, notify, signo, sigval, tid,
                                   value_sec, value_nsec, interval_sec, interval_nsec)
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE(LockImage, kind, write, start, len)
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE(FdImage, fd, file, cloexec, locks)
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE(WatchImage, fd, events, data)
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE(InotifyWatchImage, wd, mask, path, symlink)
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE(EventImage, count, semaphore, clockid, settime_flags, ticks,
                                   value_sec, value_nsec, interval_sec, interval_nsec, sigmask,
                                   owner, watches, inotify_watches)
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE(FileImage, kind, path, flags, pos, pipe, unlinked, ctty, locks,
                                   event, socket, inet)
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE(PipeImage, size, offset, length)
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE(UnlinkedImage, path, memfd, seals, mode, uid, gid, offset,
                                   length)
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE(QueuedImage, offset, length, sender, files)
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE(UnixSocketImage, ino, type, state, name, deleted, peer,
                                   peer_name, listener, backlog, shutdown, sndbuf, rcvbuf, peek_off,
                                   passcred, rcvtimeo_usec, sndtimeo_usec, queue)
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE(InetSocketImage, family, type, state, address, port,
                                   peer_address, peer_port, v6only, backlog, reuseaddr, reuseport,
                                   keepalive, nodelay, sndbuf, rcvbuf, send_seq, recv_seq,
                                   send_offset, send_length, unsent_length, recv_offset,
                                   recv_length, mss, snd_wscale, rcv_wscale, sack, timestamps,
                                   timestamp, snd_wl1, snd_wnd, max_window, rcv_wnd, rcv_wup)
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE(FilesImage, files, pipes, unlinked, events, sockets,
                                   inet_sockets)
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE(CredsImage, uids, gids, groups, cap_inh, cap_prm, cap_eff,
                                   cap_bnd, no_new_privs, personality)
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE(SeccompFilterImage, prev, flags, insns)
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE(TaskImage, pid, ppid, pgid, sid, foreground, stopped,
                                   child_subreaper, threads, comm, cwd, root, umask, sigactions,
                                   rlimits, itimers, posix_timers, fds, shared_pending,
                                   seccomp_filters)
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE(CoreImage, tid, arch, regs, fp, vector, sigmask, rseq_ptr,
                                   rseq_size, rseq_sig, altstack_sp, altstack_size, altstack_flags,
                                   pending, clear_tid, robust_head, robust_len, pdeathsig, creds,
                                   seccomp_filter)

/// Registers as {name: "0x..."} following the arch's register table.
std::map<std::string, std::string> regs_to_names(const arch::Regs& regs);
/// The register set named by the map; throws kBadImage on a missing or malformed register.
arch::Regs regs_from_names(const arch::Arch& arch, const std::map<std::string, std::string>& m);

}  // namespace crossrig::engine
