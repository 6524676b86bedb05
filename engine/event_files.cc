#include "engine/event_files.h"

#include <fcntl.h>
#include <linux/kcmp.h>
#include <poll.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/inotify.h>
#include <sys/ioctl.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/timerfd.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cinttypes>
#include <cstdio>
#include <cstring>
#include <map>
#include <optional>
#include <sstream>
#include <stdexcept>

#include "engine/ckpt_error.h"
#include "engine/proc_parse.h"
#include "engine/ptrace_task.h"
#include "engine/task_fd.h"
#include "engine/task_info.h"

namespace crossrig::engine {
namespace {

// linux/timerfd.h's request; that header's linux/fcntl.h clashes with glibc's fcntl.h.
const unsigned long kTfdSetTicks = _IOW('T', 0, std::uint64_t);

bool is_zero(const timespec& t) {
  return t.tv_sec == 0 && t.tv_nsec == 0;
}

std::vector<std::string> lines_of(const std::string& text) {
  std::vector<std::string> out;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);)
    out.push_back(line);
  return out;
}

// The line of fdinfo that starts with key, or nullopt.
std::optional<std::string> line_with(const std::string& fdinfo, std::string_view key) {
  for (std::string& line : lines_of(fdinfo)) {
    if (line.starts_with(key)) return line;
  }
  return std::nullopt;
}

std::string need_line(const std::string& fdinfo, std::string_view key) {
  auto line = line_with(fdinfo, key);
  if (!line) throw std::runtime_error("no \"" + std::string(key) + "\" line");
  return *line;
}

[[noreturn]] void malformed(const std::string& line) {
  throw std::runtime_error("malformed line \"" + line + "\"");
}

std::string fd_name(pid_t pid, int fd) {
  return "fd " + std::to_string(fd) + " of process " + std::to_string(pid);
}

void add(int fd, std::uint64_t n) {
  if (n != 0 && ::write(fd, &n, sizeof n) != sizeof n)
    throw std::runtime_error(std::string("writing it: ") + std::strerror(errno));
}

std::uint64_t take(int fd) {
  // The description may be blocking: never wait for a count someone else took.
  pollfd p{fd, POLLIN, 0};
  std::uint64_t n = 0;
  if (::poll(&p, 1, 0) != 1 || ::read(fd, &n, sizeof n) != sizeof n)
    throw std::runtime_error(
        "its count changed while ckpt read it: a process outside the "
        "dumped tree uses it");
  return n;
}

// Refuses a watch the restore cannot register again under its fd number in pid.
void check_watches(pid_t pid, int epfd, const std::vector<WatchImage>& watches) {
  std::map<int, std::uint32_t> nth;  // several watches may carry one number (closed, reopened)
  for (const WatchImage& w : watches) {
    kcmp_epoll_slot slot{static_cast<std::uint32_t>(epfd), static_cast<std::uint32_t>(w.fd),
                         nth[w.fd]++};
    const std::string what =
        "the epoll of " + fd_name(pid, epfd) + " watches fd " + std::to_string(w.fd);
    long r = ::syscall(SYS_kcmp, pid, pid, KCMP_EPOLL_TFD, w.fd, &slot);
    if (r < 0 && errno == ENOSYS)
      throw CkptError(CkptError::kUnsupported,
                      "this kernel has no kcmp (CONFIG_KCMP), without which ckpt cannot tell "
                      "which file an epoll watches; run a kernel built with "
                      "CONFIG_CHECKPOINT_RESTORE");
    if ((r < 0 && errno == EBADF) || r > 0)
      throw CkptError(CkptError::kUnsupported,
                      what +
                          " through a file the process no longer has open under that number "
                          "(closed or replaced after EPOLL_CTL_ADD); ckpt registers a watch "
                          "again by its fd number and cannot checkpoint this one: let the "
                          "process remove the watch (EPOLL_CTL_DEL) before closing that fd");
    if (r < 0) throw_errno("finding the file behind the watch: " + what);
    if (event_kind(read_link(proc_path(pid, "fd/" + std::to_string(w.fd)))) == "epoll")
      throw CkptError(CkptError::kUnsupported,
                      what +
                          ", which is another epoll; ckpt cannot checkpoint an epoll watching "
                          "an epoll yet");
  }
}

// The path of the inode an inotify mark watches, found from its file handle through a
// mount of its file system.
InotifyWatchImage resolve_watch(pid_t pid, int fd, const InotifyMark& m) {
  const std::string what = "the inotify watch " + std::to_string(m.wd) + " of " + fd_name(pid, fd);
  const std::string dev = std::to_string(m.major) + ":" + std::to_string(m.minor);
  // A mount of the whole file system, so that the path found is not cut short by a bind mount.
  std::optional<std::string> mount_point;
  for (const MountInfo& mount : parse_mountinfo(read_file(proc_path(pid, "mountinfo")))) {
    if (mount.major == m.major && mount.minor == m.minor && mount.root == "/") {
      mount_point = mount.mountpoint;
      break;
    }
  }
  if (!mount_point)
    throw CkptError(CkptError::kUnsupported,
                    what + " is on device " + dev +
                        ", which no mount of the process shows whole; ckpt cannot find its path");
  // Through the process's root: the mount may be its own mount namespace's.
  UniqueFd mount_fd(
      ::open(proc_path(pid, "root" + *mount_point).c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (!mount_fd) throw_errno("opening " + *mount_point + " to find " + what);
  std::vector<std::uint8_t> buf(sizeof(file_handle) + m.handle.size());
  auto* handle = reinterpret_cast<file_handle*>(buf.data());
  handle->handle_bytes = static_cast<unsigned>(m.handle.size());
  handle->handle_type = m.handle_type;
  std::copy(m.handle.begin(), m.handle.end(), buf.begin() + sizeof(file_handle));
  UniqueFd target(::open_by_handle_at(mount_fd.get(), handle, O_PATH | O_CLOEXEC));
  if (!target)
    throw CkptError(CkptError::kUnsupported,
                    what + " is on a file ckpt cannot open again by its handle (" +
                        std::strerror(errno) +
                        "): it was removed, or its file system "
                        "does not export handles");
  InotifyWatchImage w;
  w.wd = m.wd;
  w.mask = m.mask;
  w.path = read_link("/proc/self/fd/" + std::to_string(target.get()));
  struct stat st {};
  w.symlink = ::fstat(target.get(), &st) == 0 && S_ISLNK(st.st_mode);
  if (w.path.ends_with(" (deleted)") || !w.path.starts_with("/"))
    throw CkptError(CkptError::kUnsupported,
                    what + " is on " + w.path + ", which no name reaches any more");
  return w;
}

// Watch descriptors count up from the last one given (idr_alloc_cyclic), also past removed
// ones: each watch is added, and removed again while it comes under a lower number than the
// image's, until it comes under that one.
void add_inotify_watches(int fd, const std::vector<InotifyWatchImage>& watches,
                         const std::string& what) {
  constexpr int kMaxWd = 1 << 16;  // beyond this, counting up would take too long
  for (const InotifyWatchImage& w : watches) {
    const std::string watch = what + "'s watch " + std::to_string(w.wd) + " on " + w.path;
    if (w.wd > kMaxWd)
      throw CkptError(CkptError::kUnsupported, watch + ": its number is too high to reach again");
    const std::uint32_t mask = w.mask | (w.symlink ? IN_DONT_FOLLOW : 0);
    for (;;) {
      int got = ::inotify_add_watch(fd, w.path.c_str(), mask);
      if (got < 0) throw_errno("adding " + watch + " again");
      if (got == w.wd) break;
      if (got > w.wd || ::inotify_rm_watch(fd, got) != 0)
        throw CkptError(CkptError::kSystem, watch + " came back as watch " + std::to_string(got) +
                                                " (is the path watched twice?)");
    }
  }
  // Each watch removed on the way queued an IN_IGNORED the process must not read.
  std::vector<char> events(64 * 1024);
  while (::read(fd, events.data(), events.size()) > 0) {
  }
}

}  // namespace

std::string event_kind(const std::string& link) {
  if (link == "anon_inode:[eventfd]") return "eventfd";
  if (link == "anon_inode:[timerfd]") return "timerfd";
  if (link == "anon_inode:[signalfd]") return "signalfd";
  if (link == "anon_inode:[eventpoll]") return "epoll";
  if (link == "anon_inode:inotify") return "inotify";
  return "";
}

bool is_event_kind(const std::string& kind) {
  return kind == "eventfd" || kind == "timerfd" || kind == "signalfd" || kind == "epoll" ||
         kind == "inotify";
}

EventfdInfo parse_eventfd(const std::string& fdinfo) {
  EventfdInfo info;
  std::string line = need_line(fdinfo, "eventfd-count:");
  if (std::sscanf(line.c_str(), "eventfd-count: %" SCNx64, &info.count) != 1) malformed(line);
  if (auto sem = line_with(fdinfo, "eventfd-semaphore:")) {
    int v = 0;
    if (std::sscanf(sem->c_str(), "eventfd-semaphore: %d", &v) != 1) malformed(*sem);
    info.semaphore = v != 0;
  }
  return info;
}

EventImage parse_timerfd(const std::string& fdinfo) {
  EventImage e;
  std::string line = need_line(fdinfo, "clockid:");
  if (std::sscanf(line.c_str(), "clockid: %d", &e.clockid) != 1) malformed(line);
  line = need_line(fdinfo, "ticks:");
  if (std::sscanf(line.c_str(), "ticks: %" SCNu64, &e.ticks) != 1) malformed(line);
  line = need_line(fdinfo, "settime flags:");
  unsigned flags = 0;
  if (std::sscanf(line.c_str(), "settime flags: %o", &flags) != 1) malformed(line);
  e.settime_flags = static_cast<int>(flags);
  line = need_line(fdinfo, "it_value:");
  if (std::sscanf(line.c_str(), "it_value: (%" SCNd64 ", %" SCNd64 ")", &e.value_sec,
                  &e.value_nsec) != 2)
    malformed(line);
  line = need_line(fdinfo, "it_interval:");
  if (std::sscanf(line.c_str(), "it_interval: (%" SCNd64 ", %" SCNd64 ")", &e.interval_sec,
                  &e.interval_nsec) != 2)
    malformed(line);
  return e;
}

std::uint64_t parse_signalfd(const std::string& fdinfo) {
  std::string line = need_line(fdinfo, "sigmask:");
  // The kernel prints the mask as hex digits, highest signals first, 16 for 64 signals.
  std::size_t start = line.find_first_not_of(" \t", 8);
  std::string digits = start == std::string::npos ? "" : line.substr(start);
  if (digits.empty() || digits.size() > 16 ||
      digits.find_first_not_of("0123456789abcdef") != std::string::npos)
    malformed(line);
  return std::stoull(digits, nullptr, 16);
}

std::vector<WatchImage> parse_epoll(const std::string& fdinfo) {
  std::vector<WatchImage> out;
  for (const std::string& line : lines_of(fdinfo)) {
    if (!line.starts_with("tfd:")) continue;
    WatchImage w;
    if (std::sscanf(line.c_str(), "tfd: %d events: %" SCNx32 " data: %" SCNx64, &w.fd, &w.events,
                    &w.data) != 3)
      malformed(line);
    out.push_back(w);
  }
  return out;
}

std::vector<InotifyMark> parse_inotify(const std::string& fdinfo) {
  std::vector<InotifyMark> out;
  for (const std::string& line : lines_of(fdinfo)) {
    if (!line.starts_with("inotify wd:")) continue;
    InotifyMark m;
    unsigned long ino = 0;
    unsigned wd = 0, dev = 0, ignored = 0, bytes = 0, type = 0;
    int used = 0;
    if (std::sscanf(line.c_str(),
                    "inotify wd:%x ino:%lx sdev:%x mask:%x ignored_mask:%x fhandle-bytes:%x "
                    "fhandle-type:%x f_handle:%n",
                    &wd, &ino, &dev, &m.mask, &ignored, &bytes, &type, &used) != 7 ||
        used == 0)
      malformed(line);
    m.wd = static_cast<int>(wd);
    m.handle_type = static_cast<int>(type);
    // The kernel's own dev_t: 12 bits of major above 20 of minor.
    m.major = dev >> 20;
    m.minor = dev & 0xfffff;
    const std::string hex = line.substr(static_cast<std::size_t>(used));
    if (hex.size() != 2 * bytes || hex.find_first_not_of("0123456789abcdef") != std::string::npos)
      malformed(line);
    for (std::size_t i = 0; i < hex.size(); i += 2)
      m.handle.push_back(static_cast<std::uint8_t>(std::stoul(hex.substr(i, 2), nullptr, 16)));
    out.push_back(std::move(m));
  }
  std::sort(out.begin(), out.end(),
            [](const InotifyMark& a, const InotifyMark& b) { return a.wd < b.wd; });
  return out;
}

bool probe_semaphore(int fd, std::uint64_t count) {
  // One read of a count of 2 or more tells the modes apart: a semaphore gives 1, a counter
  // all of it. Raise the count to 2 if need be, read once, then put back what was there.
  const std::uint64_t raised = std::max<std::uint64_t>(count, 2);
  add(fd, raised - count);
  const std::uint64_t got = take(fd);
  if (got == 0 || got > raised) throw std::runtime_error("it read an impossible count");
  std::uint64_t left = raised - got;
  if (left > count) left -= take(fd);  // a semaphore raised from 0: its second unit
  if (left > count) throw std::runtime_error("its count changed while ckpt read it");
  add(fd, count - left);
  return got == 1;
}

EventImage read_event(pid_t pid, int fd, const std::string& kind) {
  const std::string fdinfo_path = proc_path(pid, "fdinfo/" + std::to_string(fd));
  EventImage e;
  try {
    if (kind == "eventfd") {
      EventfdInfo info = parse_eventfd(read_file(fdinfo_path));
      e.count = info.count;
      if (info.semaphore) {
        e.semaphore = *info.semaphore;
      } else {
        // The kernel does not say (before 2023): ask the object itself while the tree is held.
        e.semaphore = probe_semaphore(copy_task_fd(pid, fd).get(), info.count);
        if (parse_eventfd(read_file(fdinfo_path)).count != info.count)
          throw std::runtime_error("its count changed while ckpt read it");
      }
    } else if (kind == "timerfd") {
      // fdinfo shows a periodic timer that expired as due now with one tick; timerfd_gettime
      // counts the periods that passed since into ticks and rearms it, as a read would.
      itimerspec now{};
      if (::timerfd_gettime(copy_task_fd(pid, fd).get(), &now) != 0)
        throw_errno("reading the timer of " + fd_name(pid, fd));
      e = parse_timerfd(read_file(fdinfo_path));
    } else if (kind == "signalfd") {
      e.sigmask = parse_signalfd(read_file(fdinfo_path));
    } else if (kind == "inotify") {
      for (const InotifyMark& m : parse_inotify(read_file(fdinfo_path)))
        e.inotify_watches.push_back(resolve_watch(pid, fd, m));
    } else {
      e.owner = pid;
      e.watches = parse_epoll(read_file(fdinfo_path));
      check_watches(pid, fd, e.watches);
    }
  } catch (const CkptError&) {
    throw;
  } catch (const std::runtime_error& err) {
    throw CkptError(CkptError::kSystem, "the " + kind + " of " + fd_name(pid, fd) + ": " +
                                            err.what() + "; dump again when it is quiet");
  }
  return e;
}

void check_events(const FilesImage& files, const std::vector<TaskImage>& tasks) {
  auto bad = [](const std::string& what) {
    throw CkptError(CkptError::kBadImage, "files.json: " + what);
  };
  for (std::size_t i = 0; i < files.files.size(); ++i) {
    const FileImage& f = files.files[i];
    if (is_event_kind(f.kind) != (f.event >= 0) || f.event >= static_cast<int>(files.events.size()))
      bad("file " + f.path + " names kernel object " + std::to_string(f.event));
    if (f.kind != "epoll") continue;
    const EventImage& e = files.events[static_cast<std::size_t>(f.event)];
    auto owner = std::find_if(tasks.begin(), tasks.end(),
                              [&](const TaskImage& t) { return t.pid == e.owner; });
    auto holds = [&](int file, int fd) {
      return owner != tasks.end() &&
             std::any_of(owner->fds.begin(), owner->fds.end(), [&](const FdImage& d) {
               return d.file == file && (fd < 0 || d.fd == fd);
             });
    };
    if (!holds(static_cast<int>(i), -1))
      bad("epoll " + f.path + " is registered by process " + std::to_string(e.owner) +
          ", which holds no fd on it");
    for (const WatchImage& w : e.watches) {
      auto target = std::find_if(owner->fds.begin(), owner->fds.end(),
                                 [&](const FdImage& d) { return d.fd == w.fd; });
      if (target == owner->fds.end())
        bad("epoll " + f.path + " watches fd " + std::to_string(w.fd) + ", which process " +
            std::to_string(e.owner) + " does not have");
    }
  }
}

UniqueFd make_event_file(const FileImage& f, const EventImage& e) {
  const std::string what = "the " + f.kind + " " + f.path;
  UniqueFd fd;
  if (f.kind == "eventfd") {
    fd.reset(::eventfd(0, EFD_CLOEXEC | (e.semaphore ? EFD_SEMAPHORE : 0)));
    if (fd && e.count != 0 && ::write(fd.get(), &e.count, sizeof e.count) != sizeof e.count)
      throw_errno("giving " + what + " its count of " + std::to_string(e.count));
  } else if (f.kind == "timerfd") {
    fd.reset(::timerfd_create(e.clockid, TFD_CLOEXEC));
    if (!fd)
      throw_errno("making " + what + " on clock " + std::to_string(e.clockid) +
                  " (alarm clocks need CAP_WAKE_ALARM)");
    itimerspec its{{e.interval_sec, e.interval_nsec}, {e.value_sec, e.value_nsec}};
    // A periodic timer due right now stays armed: a zero value would disarm it.
    if (!is_zero(its.it_interval) && is_zero(its.it_value)) its.it_value.tv_nsec = 1;
    // The image holds the time left; an absolute timer keeps its flags (a realtime one
    // is still cancelled by a clock change) with the deadline as this clock reads it.
    if ((e.settime_flags & TFD_TIMER_ABSTIME) && !is_zero(its.it_value)) {
      timespec now{};
      ::clock_gettime(e.clockid, &now);
      its.it_value.tv_sec += now.tv_sec;
      its.it_value.tv_nsec += now.tv_nsec;
      if (its.it_value.tv_nsec >= 1000000000) {
        its.it_value.tv_sec += 1;
        its.it_value.tv_nsec -= 1000000000;
      }
    }
    if (!is_zero(its.it_value) && ::timerfd_settime(fd.get(), e.settime_flags, &its, nullptr) != 0)
      throw_errno("arming " + what);
    // After settime, which clears them.
    if (e.ticks != 0 && ::ioctl(fd.get(), kTfdSetTicks, &e.ticks) != 0)
      throw_errno("giving " + what + " its " + std::to_string(e.ticks) +
                  " unread expirations (TFD_IOC_SET_TICKS needs a kernel built with "
                  "CONFIG_CHECKPOINT_RESTORE)");
  } else if (f.kind == "signalfd") {
    // The raw call: glibc's sigaddset() refuses the signals it keeps for itself.
    fd.reset(
        static_cast<int>(::syscall(SYS_signalfd4, -1, &e.sigmask, sizeof e.sigmask, SFD_CLOEXEC)));
  } else if (f.kind == "inotify") {
    fd.reset(::inotify_init1(IN_CLOEXEC | IN_NONBLOCK));
    if (fd) add_inotify_watches(fd.get(), e.inotify_watches, what);
  } else {
    fd.reset(::epoll_create1(EPOLL_CLOEXEC));
  }
  if (!fd) throw_errno("making " + what);
  if (::fcntl(fd.get(), F_SETFL, f.flags & O_NONBLOCK) != 0)
    throw_errno("setting the status flags of " + what);
  return fd;
}

std::vector<EpollCtl> epoll_ctls(const FilesImage& files, const TaskImage& t) {
  std::vector<EpollCtl> out;
  for (const FdImage& d : t.fds) {
    const FileImage& f = files.files.at(static_cast<std::size_t>(d.file));
    if (f.kind != "epoll") continue;
    const EventImage& e = files.events.at(static_cast<std::size_t>(f.event));
    // Once per description, through the first of the owner's fds on it.
    auto first = std::find_if(t.fds.begin(), t.fds.end(),
                              [&](const FdImage& o) { return o.file == d.file; });
    if (e.owner != t.pid || first->fd != d.fd) continue;
    for (const WatchImage& w : e.watches)
      out.push_back({d.fd, w.fd, w.events, w.data});
  }
  return out;
}

}  // namespace crossrig::engine
