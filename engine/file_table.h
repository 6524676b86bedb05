#pragma once
// The open file descriptions of a dumped tree: every fd of every process resolved to the
// description it points at (kcmp tells shared ones apart), and the bytes in flight in pipes.

#include <sys/stat.h>
#include <sys/types.h>

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "common/unique_fd.h"
#include "engine/image.h"
#include "engine/inet_sockets.h"
#include "engine/proc_parse.h"
#include "engine/task_image.h"
#include "engine/unix_sockets.h"

namespace crossrig::engine {

class FileTable {
 public:
  /// tcp_established: established TCP connections are checkpointed (in repair mode), not
  /// refused.
  explicit FileTable(bool tcp_established) : inet_(tcp_established) {}
  /// Records the fds of process pid but those in skip (ckpt's own in it, or its connection to
  /// ckpt service), which must stay stopped until write(); throws kUnsupported naming the
  /// process, the fd and the kind of a file ckpt cannot checkpoint.
  std::vector<FdImage> add_process(pid_t pid, const std::vector<int>& skip = {});
  /// Records a description the kernel gave ckpt in flight in the queue of a unix socket and
  /// returns its index in FilesImage::files, shared with any fd on the same description; keeps
  /// fd open while needed. Throws kUnsupported naming a file ckpt cannot checkpoint in flight.
  int add_in_flight(UniqueFd fd, const UnixSocketTable::Queue& queue);
  /// Records the file behind pid's mapping e of a deleted file (classify_vma's "unlinked")
  /// and returns its index in FilesImage::unlinked, shared with fds on the same inode;
  /// throws kUnsupported if a name of it is left somewhere or it lives on hugetlbfs.
  int add_mapping(pid_t pid, const MapsEntry& e);
  /// Copies the bytes queued to each unix socket (without taking them) and records the
  /// descriptors in flight with them, reads the state of eventfds, timerfds, signalfds and
  /// epolls (kUnsupported for an epoll watch ckpt cannot register again), refuses a pipe whose
  /// other end no process of the tree holds, copies the bytes in flight in each pipe and FIFO
  /// and the content of each unlinked file, and writes files.json and files-data.img; throws
  /// kUnsupported for a socket ckpt cannot make again.
  void write(ImageWriter& image);
  /// The tree is about to be killed after a dump: its TCP connections close without a word
  /// to their peers (otherwise they leave repair mode when the table goes).
  void let_connections_die() { inet_.let_connections_die(); }

 private:
  /// Where the kernel's object behind a description is seen: one fd holding it, a process's or
  /// ckpt's own (pid is ckpt's) for a description only in flight.
  struct Holder {
    pid_t pid;
    int fd;
    dev_t dev;
    ino_t ino;
    std::string what;  ///< How messages name it.
  };
  /// What /proc shows of an fd.
  struct FdFacts {
    std::string link_path, link;
    struct stat st {};
    int flags = 0;  ///< Status flags and O_CLOEXEC.
    std::int64_t pos = 0;
    std::vector<LockImage> locks;
  };
  struct Pipe {
    Holder first;
    bool anonymous = false;  ///< A pipe() rather than a FIFO, which is reopened by its path.
    bool read_end = false, write_end = false;
  };
  struct Unlinked {
    dev_t dev;
    ino_t ino;
    std::string source;  ///< A /proc path ckpt opens to read it.
    std::string what;    ///< Where the dump found it, for messages.
    UnlinkedImage image;
  };
  static FdFacts read_fd(pid_t pid, int fd);
  /// The index of the description behind h, recorded unless a holder of it is known already;
  /// in_flight: the queue holding it, nullptr for a process's fd.
  int add_file(const Holder& h, FdFacts facts, bool ctty, const UnixSocketTable::Queue* in_flight);
  int pipe_of(const Holder& h, int access, bool anonymous);
  int unlinked_of(const struct stat& st, const std::string& source, const std::string& path,
                  const std::string& what);

  std::vector<FileImage> files_;
  std::vector<Holder> holders_;  ///< One per entry of files_.
  std::vector<Pipe> pipes_;
  std::vector<Unlinked> unlinked_;
  std::vector<UniqueFd> in_flight_;  ///< ckpt's own fds on descriptions only in flight.
  UnixSocketTable sockets_;
  InetSocketTable inet_;
};

}  // namespace crossrig::engine
