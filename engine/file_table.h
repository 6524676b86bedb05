#pragma once
// The open file descriptions of a dumped tree: every fd of every process resolved to the
// description it points at (kcmp tells shared ones apart), and the bytes in flight in pipes.

#include <sys/stat.h>
#include <sys/types.h>

#include <string>
#include <vector>

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
  /// Records the fds of process pid, which must stay stopped until write(); throws
  /// kUnsupported naming the process, the fd and the kind of a file ckpt cannot checkpoint.
  std::vector<FdImage> add_process(pid_t pid);
  /// Records the file behind pid's mapping e of a deleted file (classify_vma's "unlinked")
  /// and returns its index in FilesImage::unlinked, shared with fds on the same inode;
  /// throws kUnsupported if a name of it is left somewhere or it lives on hugetlbfs.
  int add_mapping(pid_t pid, const MapsEntry& e);
  /// Reads the state of eventfds, timerfds, signalfds and epolls (kUnsupported for an epoll
  /// watch ckpt cannot register again), refuses a pipe whose other end no process of the
  /// tree holds, copies the bytes in flight in each pipe and FIFO and queued to each unix
  /// socket (without taking them) and the content of each unlinked file, and writes
  /// files.json and files-data.img; throws kUnsupported for a socket ckpt cannot make again.
  void write(ImageWriter& image);
  /// The tree is about to be killed after a dump: its TCP connections close without a word
  /// to their peers (otherwise they leave repair mode when the table goes).
  void let_connections_die() { inet_.let_connections_die(); }

 private:
  /// Where the kernel's object behind a description is seen: one fd holding it.
  struct Holder {
    pid_t pid;
    int fd;
    dev_t dev;
    ino_t ino;
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
  int pipe_of(const Holder& h, int access, bool anonymous);
  int unlinked_of(const struct stat& st, const std::string& source, const std::string& path,
                  const std::string& what);

  std::vector<FileImage> files_;
  std::vector<Holder> holders_;  ///< One per entry of files_.
  std::vector<Pipe> pipes_;
  std::vector<Unlinked> unlinked_;
  UnixSocketTable sockets_;
  InetSocketTable inet_;
};

}  // namespace crossrig::engine
