#pragma once
// Kernel objects behind anonymous inodes that ckpt rebuilds: eventfd, timerfd, signalfd,
// epoll and inotify. The dump reads their state from /proc/PID/fdinfo once every process of the
// tree is held; the restore makes each again in ckpt, and an epoll's watches are registered by the
// process whose fd numbers name them (the kernel keys a watch by file and fd number).

#include <sys/types.h>

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "common/unique_fd.h"
#include "engine/task_image.h"

namespace crossrig::engine {

/// The FileImage kind of the object a /proc/PID/fd link names ("anon_inode:[eventfd]"...), or
/// "" for anything else.
std::string event_kind(const std::string& link);
/// True for the kinds event_kind() returns.
bool is_event_kind(const std::string& kind);

/// What an eventfd's fdinfo says; kernels before "eventfd-semaphore" (2023, after 6.1) leave
/// semaphore unknown.
struct EventfdInfo {
  std::uint64_t count = 0;
  std::optional<bool> semaphore;
};
/// Parsers of the fdinfo text of each kind; throw std::runtime_error on a malformed one.
EventfdInfo parse_eventfd(const std::string& fdinfo);
EventImage parse_timerfd(const std::string& fdinfo);
std::uint64_t parse_signalfd(const std::string& fdinfo);
std::vector<WatchImage> parse_epoll(const std::string& fdinfo);
/// An inotify watch as fdinfo shows it: the watched inode by its device and file handle.
struct InotifyMark {
  int wd = 0;
  std::uint32_t mask = 0;
  unsigned major = 0, minor = 0;  ///< The device of the watched inode's file system.
  int handle_type = 0;
  std::vector<std::uint8_t> handle;
};
std::vector<InotifyMark> parse_inotify(const std::string& fdinfo);

/// Tells whether the eventfd behind fd (holding count) is a semaphore by reading it, and puts
/// the count back; throws std::runtime_error when the count moves meanwhile (a reader or
/// writer outside the stopped tree).
bool probe_semaphore(int fd, std::uint64_t count);

/// The state of the object of kind behind fd of process pid, whose tree is held; throws
/// kUnsupported naming what ckpt cannot rebuild (an epoll watch it cannot register again).
EventImage read_event(pid_t pid, int fd, const std::string& kind);

/// Throws kBadImage unless every event entry, epoll owner and watched fd of the image exists.
void check_events(const FilesImage& files, const std::vector<TaskImage>& tasks);

/// Makes the object of description f again, with its state, for the restored processes.
UniqueFd make_event_file(const FileImage& f, const EventImage& e);

/// One EPOLL_CTL_ADD a restored process runs on its own fds.
struct EpollCtl {
  int epfd = 0, fd = 0;
  std::uint32_t events = 0;
  std::uint64_t data = 0;
};
/// The watches process t registers again once its fds are in place.
std::vector<EpollCtl> epoll_ctls(const FilesImage& files, const TaskImage& t);

}  // namespace crossrig::engine
