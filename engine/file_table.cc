#include "engine/file_table.h"

#include <fcntl.h>
#include <linux/magic.h>
#include <sys/ioctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include <cstdio>
#include <map>
#include <string>

#include "common/unique_fd.h"
#include "engine/ckpt_error.h"
#include "engine/event_files.h"
#include "engine/kcmp.h"
#include "engine/proc_parse.h"
#include "engine/ptrace_task.h"
#include "engine/socket_option.h"
#include "engine/task_fd.h"
#include "engine/task_info.h"
#include "engine/unix_sockets.h"

namespace crossrig::engine {
namespace {

std::string fd_name(pid_t pid, int fd) {
  return "fd " + std::to_string(fd) + " of process " + std::to_string(pid);
}

constexpr std::string_view kDeleted = " (deleted)";
constexpr std::string_view kMemfdPrefix = "/memfd:";

// What a file ckpt cannot checkpoint is, in words, from its /proc/PID/fd link and stat.
std::string unsupported_kind(const std::string& link, const struct stat& st) {
  if (link.starts_with("anon_inode:")) return "a kernel object (" + link + ")";
  if (link.ends_with(kDeleted)) return "a deleted file still linked elsewhere (" + link + ")";
  if (S_ISBLK(st.st_mode)) return "a block device (" + link + ")";
  return link;
}

// The kind of file the image can rebuild, or "" for one it cannot. A deleted name of a file
// still linked elsewhere is not "unlinked": its content lives on under a name ckpt cannot
// find.
std::string kind_of(const std::string& link, const struct stat& st) {
  if (std::string kind = event_kind(link); !kind.empty()) return kind;
  const bool named = link.starts_with("/") && !link.ends_with(kDeleted);
  if (S_ISREG(st.st_mode) && link.starts_with("/") && link.ends_with(kDeleted) && st.st_nlink == 0)
    return "unlinked";
  if (S_ISFIFO(st.st_mode)) return link.starts_with("pipe:[") ? "pipe" : named ? "fifo" : "";
  if (S_ISSOCK(st.st_mode)) return "socket";
  if (!named) return "";
  if (S_ISREG(st.st_mode)) return "file";
  if (S_ISDIR(st.st_mode)) return "dir";
  if (S_ISCHR(st.st_mode)) return "chr";
  return "";
}

// The locks fdinfo shows on pid's fd; throws kUnsupported for a kind ckpt cannot take again.
std::vector<LockImage> read_locks(pid_t pid, int fd, const std::string& link,
                                  const std::string& fdinfo) {
  std::vector<LockImage> locks;
  try {
    locks = parse_fd_locks(fdinfo);
  } catch (const std::runtime_error& e) {
    throw CkptError(CkptError::kSystem, "fdinfo of " + fd_name(pid, fd) + ": " + e.what());
  }
  for (const LockImage& lock : locks) {
    if (lock.kind != "flock" && lock.kind != "posix" && lock.kind != "ofd")
      throw CkptError(CkptError::kUnsupported,
                      fd_name(pid, fd) + " holds a " + lock.kind + " on " + link +
                          ", which ckpt cannot checkpoint yet (it can: flock, POSIX and OFD "
                          "locks)");
  }
  return locks;
}

// Appends the content of the file at source (a /proc path) to out; returns its length.
std::uint64_t copy_content(const std::string& source, const std::string& what, PagesWriter& out) {
  UniqueFd in(::open(source.c_str(), O_RDONLY | O_CLOEXEC));
  if (!in) throw_errno("opening " + what + " to copy it");
  std::vector<std::uint8_t> buf(1 << 20);
  std::uint64_t total = 0;
  for (;;) {
    ssize_t n = ::pread(in.get(), buf.data(), buf.size(), static_cast<off_t>(total));
    if (n < 0) throw_errno("reading " + what);
    if (n == 0) return total;
    out.append(std::span(buf.data(), static_cast<std::size_t>(n)));
    total += static_cast<std::uint64_t>(n);
  }
}

// The bytes queued in the pipe behind pid's fd, copied by tee() so that they stay queued.
std::vector<std::uint8_t> bytes_in_flight(pid_t pid, int fd, int* size) {
  // A read end of our own on the same pipe, whichever end the task holds.
  std::string link = proc_path(pid, "fd/" + std::to_string(fd));
  UniqueFd in(::open(link.c_str(), O_RDONLY | O_NONBLOCK | O_CLOEXEC));
  if (!in) throw_errno("opening the pipe of " + fd_name(pid, fd) + " to copy its data");
  *size = ::fcntl(in.get(), F_GETPIPE_SZ);
  int queued = 0;
  if (*size < 0 || ::ioctl(in.get(), FIONREAD, &queued) != 0)
    throw_errno("measuring the pipe of " + fd_name(pid, fd));
  if (queued == 0) return {};
  int ends[2];
  if (::pipe2(ends, O_CLOEXEC | O_NONBLOCK) != 0) throw_errno("pipe2");
  UniqueFd out_r(ends[0]), out_w(ends[1]);
  if (::fcntl(out_w.get(), F_SETPIPE_SZ, *size) < *size)
    throw CkptError(CkptError::kSystem,
                    "copying the " + std::to_string(queued) + " bytes queued in the pipe of " +
                        fd_name(pid, fd) + " needs a pipe of " + std::to_string(*size) +
                        " bytes, more than ckpt may make: raise /proc/sys/fs/pipe-max-size");
  ssize_t n = ::tee(in.get(), out_w.get(), static_cast<std::size_t>(queued), SPLICE_F_NONBLOCK);
  if (n != queued)
    throw CkptError(CkptError::kSystem, "copied " + std::to_string(n) + " of the " +
                                            std::to_string(queued) +
                                            " bytes queued in the pipe of " + fd_name(pid, fd));
  std::vector<std::uint8_t> bytes(static_cast<std::size_t>(queued));
  std::size_t got = 0;
  while (got < bytes.size()) {
    ssize_t r = ::read(out_r.get(), bytes.data() + got, bytes.size() - got);
    if (r <= 0) throw_errno("reading the copy of the pipe of " + fd_name(pid, fd));
    got += static_cast<std::size_t>(r);
  }
  return bytes;
}

// "unix" or "inet" for the socket behind pid's fd; throws kUnsupported naming another family
// (holder: "process P has fd N", or where ckpt found it in flight).
std::string socket_kind(pid_t pid, int fd, const std::string& holder) {
  const int family = get_socket_option<int>(copy_task_fd(pid, fd).get(), SOL_SOCKET, SO_DOMAIN,
                                            "the socket of " + fd_name(pid, fd));
  if (family == AF_UNIX) return "unix";
  if (family == AF_INET || family == AF_INET6) return "inet";
  static const std::map<int, std::string> names = {{AF_NETLINK, "a netlink socket"},
                                                   {AF_PACKET, "a packet socket"}};
  auto it = names.find(family);
  throw CkptError(
      CkptError::kUnsupported,
      holder + " on " +
          (it != names.end() ? it->second : "a socket of family " + std::to_string(family)) +
          ", which ckpt cannot checkpoint yet (it can: unix, TCP and UDP sockets)");
}

}  // namespace

FileTable::FdFacts FileTable::read_fd(pid_t pid, int fd) {
  FdFacts f;
  f.link_path = proc_path(pid, "fd/" + std::to_string(fd));
  f.link = read_link(f.link_path);
  if (::stat(f.link_path.c_str(), &f.st) != 0) throw_errno("stat of " + f.link_path);
  const std::string fdinfo = read_file(proc_path(pid, "fdinfo/" + std::to_string(fd)));
  auto info = parse_status(fdinfo);
  f.flags = static_cast<int>(std::stol(info.at("flags"), nullptr, 8));
  f.pos = std::stoll(info.at("pos"));
  f.locks = read_locks(pid, fd, f.link, fdinfo);
  return f;
}

int FileTable::pipe_of(const Holder& h, int access, bool anonymous) {
  std::size_t i = 0;
  while (i < pipes_.size() && (pipes_[i].first.dev != h.dev || pipes_[i].first.ino != h.ino))
    ++i;
  if (i == pipes_.size()) pipes_.push_back({h, anonymous});
  if (access == O_RDONLY || access == O_RDWR) pipes_[i].read_end = true;
  if (access == O_WRONLY || access == O_RDWR) pipes_[i].write_end = true;
  return static_cast<int>(i);
}

std::vector<FdImage> FileTable::add_process(pid_t pid, const std::vector<int>& skip) {
  // /proc/PID/stat encodes tty_nr as the kernel's new_encode_dev().
  const auto tty =
      static_cast<std::uint64_t>(ProcStat(read_file(proc_path(pid, "stat"))).number(7));
  std::vector<FdImage> fds;
  for (int fd : list_numeric_dir(proc_path(pid, "fd"))) {
    if (std::find(skip.begin(), skip.end(), fd) != skip.end()) continue;
    FdFacts facts = read_fd(pid, fd);
    FdImage img{fd, -1, (facts.flags & O_CLOEXEC) != 0, {}};
    for (const LockImage& lock : facts.locks) {
      if (lock.kind == "posix") img.locks.push_back(lock);
    }
    std::erase_if(facts.locks, [](const LockImage& lock) { return lock.kind == "posix"; });
    const struct stat& st = facts.st;
    const bool ctty = tty != 0 && S_ISCHR(st.st_mode) &&
                      major(st.st_rdev) == ((tty >> 8) & 0xfff) &&
                      minor(st.st_rdev) == ((tty & 0xff) | ((tty >> 12) & 0xfff00));
    img.file = add_file({pid, fd, st.st_dev, st.st_ino, fd_name(pid, fd)}, std::move(facts), ctty,
                        nullptr);
    fds.push_back(img);
  }
  return fds;
}

int FileTable::add_in_flight(UniqueFd fd, const UnixSocketTable::Queue& queue) {
  FdFacts facts = read_fd(::getpid(), fd.get());
  const std::size_t known = files_.size();
  const Holder h{::getpid(), fd.get(), facts.st.st_dev, facts.st.st_ino,
                 "a descriptor in flight in the queue of " + queue.what};
  const int file = add_file(h, std::move(facts), false, &queue);
  // A description no process holds stays open in ckpt until the files are written.
  if (files_.size() > known) in_flight_.push_back(std::move(fd));
  return file;
}

int FileTable::add_file(const Holder& h, FdFacts facts, bool ctty,
                        const UnixSocketTable::Queue* in_flight) {
  for (std::size_t i = 0; i < holders_.size(); ++i) {
    const Holder& o = holders_[i];
    if (o.dev == h.dev && o.ino == h.ino && same_open_file(o.pid, o.fd, h.pid, h.fd))
      return static_cast<int>(i);
  }
  const std::string& link = facts.link;
  const std::string holder =
      in_flight != nullptr ? in_flight->what + " has in flight in its queue a descriptor"
                           : "process " + std::to_string(h.pid) + " has fd " + std::to_string(h.fd);
  FileImage f;
  f.kind = kind_of(link, facts.st);
  if (f.kind == "socket") f.kind = socket_kind(h.pid, h.fd, holder);
  // An epoll's watches are named by its owner's fd numbers; TCP repair is not done for ckpt's.
  if (in_flight != nullptr && (f.kind == "epoll" || f.kind == "inet"))
    throw CkptError(CkptError::kUnsupported,
                    holder + " on " + (f.kind == "epoll" ? "an epoll" : "a TCP or UDP socket") +
                        ", which ckpt cannot checkpoint in flight yet (it can: regular files, "
                        "unlinked ones, memfds, directories, character devices, pipes, FIFOs, "
                        "unix sockets, eventfds, timerfds, signalfds and inotify instances)");
  if (f.kind.empty())
    throw CkptError(CkptError::kUnsupported,
                    holder + " on " + unsupported_kind(link, facts.st) +
                        ", which ckpt cannot checkpoint yet (it can: regular files, "
                        "unlinked ones, memfds, directories, character devices, pipes, FIFOs, "
                        "unix, TCP and UDP sockets, eventfds, timerfds, signalfds, epolls and "
                        "inotify instances)");
  f.path = f.kind == "unlinked" ? link.substr(0, link.size() - kDeleted.size()) : link;
  f.flags = facts.flags & ~O_CLOEXEC;
  f.pos = facts.pos;
  if (f.kind == "pipe" || f.kind == "fifo")
    f.pipe = pipe_of(h, f.flags & O_ACCMODE, f.kind == "pipe");
  if (f.kind == "unlinked")
    f.unlinked = unlinked_of(facts.st, facts.link_path, f.path, "the unlinked file of " + h.what);
  if (f.kind == "unix")
    f.socket = sockets_.add(h.pid, h.fd, static_cast<std::uint32_t>(facts.st.st_ino), in_flight);
  if (f.kind == "inet") f.inet = inet_.add(h.pid, h.fd);
  f.locks = std::move(facts.locks);
  f.ctty = ctty;
  files_.push_back(std::move(f));
  holders_.push_back(h);
  return static_cast<int>(files_.size() - 1);
}

int FileTable::unlinked_of(const struct stat& st, const std::string& source,
                           const std::string& path, const std::string& what) {
  for (std::size_t i = 0; i < unlinked_.size(); ++i) {
    if (unlinked_[i].dev == st.st_dev && unlinked_[i].ino == st.st_ino) return static_cast<int>(i);
  }
  UnlinkedImage img;
  img.path = path;
  img.mode = st.st_mode & 07777;
  img.uid = st.st_uid;
  img.gid = st.st_gid;
  if (path.starts_with(kMemfdPrefix)) {
    img.memfd = path.substr(kMemfdPrefix.size());
    UniqueFd fd(::open(source.c_str(), O_RDONLY | O_CLOEXEC));
    struct statfs fs {};
    if (!fd || ::fstatfs(fd.get(), &fs) != 0) throw_errno("opening " + what);
    if (fs.f_type == HUGETLBFS_MAGIC)
      throw CkptError(CkptError::kUnsupported,
                      what + " is the hugetlbfs memfd " + path +
                          ", which ckpt cannot checkpoint yet (it can: memfds in normal pages)");
    img.seals = ::fcntl(fd.get(), F_GET_SEALS);
    if (img.seals < 0) throw_errno("reading the seals of " + what);
  }
  unlinked_.push_back({st.st_dev, st.st_ino, source, what, img});
  return static_cast<int>(unlinked_.size() - 1);
}

int FileTable::add_mapping(pid_t pid, const MapsEntry& e) {
  char range[40];
  std::snprintf(range, sizeof range, "%lx-%lx", static_cast<unsigned long>(e.start),
                static_cast<unsigned long>(e.end));
  const std::string source = proc_path(pid, std::string("map_files/") + range);
  const std::string path = e.path.substr(0, e.path.size() - kDeleted.size());
  const std::string what =
      "process " + std::to_string(pid) + "'s mapping at " + range + " of " + path;
  struct stat st {};
  if (::stat(source.c_str(), &st) != 0) throw_errno("stat of " + what);
  if (st.st_nlink != 0 || !S_ISREG(st.st_mode))
    throw CkptError(CkptError::kUnsupported,
                    what +
                        " is a deleted name of a file still linked elsewhere, which ckpt "
                        "cannot find to checkpoint");
  return unlinked_of(st, source, path, what);
}

void FileTable::write(ImageWriter& image) {
  // ckpt holds a duplicate of every description in flight until the files are written: fd
  // numbers up to the hard limit must be usable, as the tree's sender may have had them.
  if (rlimit nofile{};
      ::getrlimit(RLIMIT_NOFILE, &nofile) == 0 && nofile.rlim_cur < nofile.rlim_max) {
    nofile.rlim_cur = nofile.rlim_max;
    ::setrlimit(RLIMIT_NOFILE, &nofile);
  }
  PagesWriter data = image.open_pages("files-data.img");
  // First the sockets: the descriptors in flight in their queues join the files, and their
  // pipes and unlinked files are read below with the others.
  std::vector<UnixSocketImage> sockets =
      sockets_.read(data, [this](UniqueFd fd, const UnixSocketTable::Queue& queue) {
        return add_in_flight(std::move(fd), queue);
      });
  // Read now that every process is held, so that none changes them after.
  std::vector<EventImage> events;
  for (std::size_t i = 0; i < files_.size(); ++i) {
    if (!is_event_kind(files_[i].kind)) continue;
    files_[i].event = static_cast<int>(events.size());
    events.push_back(read_event(holders_[i].pid, holders_[i].fd, files_[i].kind));
  }
  FilesImage out{files_, {}, {}, std::move(events), std::move(sockets), {}};
  for (std::size_t i = 0; i < pipes_.size(); ++i) {
    const Pipe& p = pipes_[i];
    if (p.anonymous && !(p.read_end && p.write_end))
      throw CkptError(CkptError::kUnsupported,
                      p.first.what + " is the " + (p.read_end ? "read" : "write") +
                          " end of a pipe whose " + (p.read_end ? "write" : "read") +
                          " end no process of the dumped tree holds; ckpt cannot reconnect a "
                          "pipe to a process outside the tree: dump the process holding the "
                          "other end with it, or give this one a file or a FIFO instead");
    PipeImage img;
    auto bytes = bytes_in_flight(p.first.pid, p.first.fd, &img.size);
    img.offset = data.size();
    img.length = bytes.size();
    data.append(bytes);
    out.pipes.push_back(img);
  }
  for (const Unlinked& u : unlinked_) {
    UnlinkedImage img = u.image;
    img.offset = data.size();
    img.length = copy_content(u.source, u.what, data);
    out.unlinked.push_back(img);
  }
  out.inet_sockets = inet_.read(data);
  image.add_pages("files-data.img", data);
  image.write_json("files.json", out);
  in_flight_.clear();
}

}  // namespace crossrig::engine
