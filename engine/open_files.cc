#include "engine/open_files.h"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>

#include "engine/ckpt_error.h"
#include "engine/event_files.h"
#include "engine/inet_sockets.h"
#include "engine/unix_sockets.h"

namespace crossrig::engine {
namespace {

bool is_pipe(const FileImage& f) {
  return f.kind == "pipe" || f.kind == "fifo";
}

void write_all(int fd, std::span<const std::uint8_t> bytes, const std::string& what) {
  while (!bytes.empty()) {
    ssize_t n = ::write(fd, bytes.data(), bytes.size());
    if (n <= 0) throw_errno("refilling " + what);
    bytes = bytes.subspan(static_cast<std::size_t>(n));
  }
}

// flock() and OFD locks belong to the description: ckpt takes them on its copy.
void take_locks(int fd, const FileImage& f) {
  for (const LockImage& lock : f.locks) {
    int r = -1;
    if (lock.kind == "flock") {
      r = ::flock(fd, (lock.write ? LOCK_EX : LOCK_SH) | LOCK_NB);
    } else {
      struct flock fl = lock_request(lock);
      r = ::fcntl(fd, F_OFD_SETLK, &fl);
    }
    if (r != 0)
      throw_errno("taking the " + lock.kind + " lock on " + f.path +
                  " again (does another process hold a conflicting lock?)");
  }
}

}  // namespace

struct flock lock_request(const LockImage& lock) {
  struct flock fl {};
  fl.l_type = lock.write ? F_WRLCK : F_RDLCK;
  fl.l_whence = SEEK_SET;
  fl.l_start = lock.start;
  fl.l_len = lock.len;
  return fl;
}

void check_files(const FilesImage& files, const std::vector<TaskImage>& tasks,
                 std::size_t data_size) {
  auto bad = [](const std::string& what) {
    throw CkptError(CkptError::kBadImage, "files.json: " + what);
  };
  for (const FileImage& f : files.files) {
    if (is_pipe(f) != (f.pipe >= 0) || f.pipe >= static_cast<int>(files.pipes.size()))
      bad("file " + f.path + " names pipe buffer " + std::to_string(f.pipe));
    if ((f.kind == "unlinked") != (f.unlinked >= 0) ||
        f.unlinked >= static_cast<int>(files.unlinked.size()))
      bad("file " + f.path + " names unlinked file " + std::to_string(f.unlinked));
  }
  for (const UnlinkedImage& u : files.unlinked) {
    if (u.offset > data_size || u.length > data_size - u.offset)
      bad("an unlinked file's content lies outside files-data.img");
  }
  for (const PipeImage& p : files.pipes) {
    if (p.offset > data_size || p.length > data_size - p.offset ||
        p.length > static_cast<std::uint64_t>(std::max(p.size, 0)))
      bad("a pipe's bytes lie outside files-data.img or exceed its capacity");
  }
  for (const TaskImage& t : tasks) {
    for (const FdImage& fd : t.fds) {
      if (fd.file < 0 || fd.file >= static_cast<int>(files.files.size()))
        bad("fd " + std::to_string(fd.fd) + " of process " + std::to_string(t.pid) +
            " names no file");
    }
  }
  check_events(files, tasks);
  check_unix_sockets(files, data_size);
  check_inet_sockets(files, data_size);
}

OpenFiles::OpenFiles(const FilesImage& img, std::span<const std::uint8_t> files_data,
                     const std::string& terminal, int own_fds)
    : img_(img) {
  UniqueFd opened;
  if (own_fds < 0) {
    opened = UniqueFd(::open("/proc/self/fd", O_PATH | O_DIRECTORY | O_CLOEXEC));
    if (!opened) throw_errno("opening /proc/self/fd");
    own_fds = opened.get();
  }
  // Each pipe buffer once, refilled; a FIFO through one read-write open of its path, which
  // neither blocks nor needs a partner.
  std::vector<int> buffer_fd(img.pipes.size(), -1);
  for (const FileImage& f : img.files) {
    if (!is_pipe(f) || buffer_fd[static_cast<std::size_t>(f.pipe)] >= 0) continue;
    const PipeImage& p = img.pipes[static_cast<std::size_t>(f.pipe)];
    std::string what = f.kind == "fifo" ? "FIFO " + f.path : "pipe " + f.path;
    int write_fd = -1;
    if (f.kind == "fifo") {
      UniqueFd h(::open(f.path.c_str(), O_RDWR | O_NONBLOCK | O_CLOEXEC));
      if (!h) throw_errno("opening " + what);
      write_fd = h.get();
      backing_.push_back(std::move(h));
    } else {
      int ends[2];
      if (::pipe2(ends, O_CLOEXEC) != 0) throw_errno("making " + what);
      backing_.emplace_back(ends[0]);
      backing_.emplace_back(ends[1]);
      write_fd = ends[1];
    }
    buffer_fd[static_cast<std::size_t>(f.pipe)] = write_fd;
    if (::fcntl(write_fd, F_GETPIPE_SZ) != p.size && ::fcntl(write_fd, F_SETPIPE_SZ, p.size) < 0)
      throw_errno("giving " + what + " its capacity of " + std::to_string(p.size) +
                  " bytes (raise /proc/sys/fs/pipe-max-size)");
    write_all(write_fd, files_data.subspan(p.offset, p.length), what);
  }
  // Each unlinked file once, as a nameless file in its old directory (O_TMPFILE), and each
  // memfd; fds and mappings of it share it.
  for (const UnlinkedImage& u : img.unlinked) {
    const std::string what = u.memfd.empty() ? "the unlinked file " + u.path : "memfd " + u.memfd;
    UniqueFd h;
    if (u.memfd.empty()) {
      const std::string dir = u.path.substr(0, u.path.rfind('/') + 1);
      h = UniqueFd(::open(dir.c_str(), O_TMPFILE | O_RDWR | O_CLOEXEC, 0600));
      if (!h)
        throw_errno("making " + what + " again in " + dir +
                    " (its directory must exist on a file system with O_TMPFILE)");
    } else {
      // Made without sealing when its only seal is the one memfd_create() sets for that.
      const unsigned sealing = u.seals == F_SEAL_SEAL ? 0 : MFD_ALLOW_SEALING;
      h = UniqueFd(::memfd_create(u.memfd.c_str(), MFD_CLOEXEC | sealing));
      if (!h) throw_errno("making " + what + " again");
    }
    write_all(h.get(), files_data.subspan(u.offset, u.length), what);
    if (::fchown(h.get(), u.uid, u.gid) != 0 || ::fchmod(h.get(), u.mode) != 0)
      throw_errno("giving " + what + " its owner and mode");
    inode_fds_.push_back(h.get());
    backing_.push_back(std::move(h));
  }
  // Sockets last: their queues carry the others in flight.
  fds_.resize(img.files.size());
  std::vector<int> in_flight(img.files.size(), -1);
  for (std::size_t i = 0; i < img.files.size(); ++i) {
    const FileImage& f = img.files[i];
    if (f.kind == "unix" || f.kind == "inet") continue;
    fds_[i] = open_file(f, buffer_fd, terminal, own_fds);
    in_flight[i] = fds_[i].get();
  }
  std::vector<UniqueFd> sockets =
      make_unix_sockets(img.sockets, files_data, {img.files, in_flight});
  std::vector<UniqueFd> inet = make_inet_sockets(img.inet_sockets, files_data);
  for (std::size_t i = 0; i < img.files.size(); ++i) {
    const FileImage& f = img.files[i];
    if (f.kind != "unix" && f.kind != "inet") continue;
    UniqueFd& socket = f.kind == "unix" ? sockets[static_cast<std::size_t>(f.socket)]
                                        : inet[static_cast<std::size_t>(f.inet)];
    if (::fcntl(socket.get(), F_SETFL, f.flags) != 0)
      throw_errno("giving the socket of " + f.path + " its flags");
    fds_[i] = std::move(socket);
  }
}

UniqueFd OpenFiles::open_file(const FileImage& f, const std::vector<int>& buffer_fd,
                              const std::string& terminal, int own_fds) const {
  if (is_event_kind(f.kind))
    return make_event_file(f, img_.events[static_cast<std::size_t>(f.event)]);
  const bool swapped = f.ctty && !terminal.empty();
  std::string path = swapped ? terminal : f.path;
  // Reopened through ckpt's fd of it: relative to own_fds.
  if (is_pipe(f)) path = std::to_string(buffer_fd[static_cast<std::size_t>(f.pipe)]);
  if (f.unlinked >= 0) path = std::to_string(inode_fd(f.unlinked));
  // O_NOCTTY: a terminal opened here must not become ckpt's controlling terminal.
  const int flags = (f.flags & ~(O_CREAT | O_EXCL | O_TRUNC)) | O_NOCTTY | O_CLOEXEC;
  UniqueFd fd(::openat(own_fds, path.c_str(), flags));
  if (!fd) throw_errno("opening " + f.path + " for the restored processes");
  take_locks(fd.get(), f);
  if (f.pos != 0 && !swapped && !is_pipe(f) &&
      ::lseek(fd.get(), static_cast<off_t>(f.pos), SEEK_SET) != static_cast<off_t>(f.pos))
    throw_errno("seeking " + f.path + " to offset " + std::to_string(f.pos));
  return fd;
}

void OpenFiles::seal() const {
  for (std::size_t i = 0; i < img_.unlinked.size(); ++i) {
    const UnlinkedImage& u = img_.unlinked[i];
    const int seals = u.seals & ~F_SEAL_SEAL;
    if (u.memfd.empty() || u.seals == F_SEAL_SEAL) continue;
    if ((seals != 0 && ::fcntl(inode_fds_[i], F_ADD_SEALS, seals) != 0) ||
        ((u.seals & F_SEAL_SEAL) != 0 && ::fcntl(inode_fds_[i], F_ADD_SEALS, F_SEAL_SEAL) != 0))
      throw_errno("sealing memfd " + u.memfd + " again");
  }
}

}  // namespace crossrig::engine
