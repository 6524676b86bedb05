#pragma once
// The restore's side of engine/file_table.h: ckpt opens (or makes) every open file description
// of the image once, refills pipes with their bytes in flight, and hands each description to
// every process that held it, so dup'ed and inherited fds share offsets and flags again; those
// in flight in unix sockets' queues are sent with their messages again.

#include <fcntl.h>

#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "common/unique_fd.h"
#include "engine/image.h"
#include "engine/task_image.h"

namespace crossrig::engine {

/// Throws kBadImage unless every reference between fds, descriptions and pipe buffers of the
/// image is in range.
void check_files(const FilesImage& files, const std::vector<TaskImage>& tasks,
                 std::size_t data_size);

/// The fcntl() request that takes an OFD or POSIX lock of the image again.
struct flock lock_request(const LockImage& lock);

class OpenFiles {
 public:
  /// Opens every description of the image. terminal: with --shell-job, the terminal that
  /// replaces the dumped controlling terminal. own_fds: ckpt's /proc/self/fd, opened where
  /// ckpt's /proc shows (a tree's mount namespace may have a proc of its own), or -1 to open
  /// it here. Throws kSystem naming a file it cannot open.
  OpenFiles(const FilesImage& img, std::span<const std::uint8_t> files_data,
            const std::string& terminal, int own_fds = -1);
  /// ckpt's descriptor on description `file` of the image.
  int fd(int file) const { return fds_.at(static_cast<std::size_t>(file)).get(); }
  /// ckpt's read-write descriptor on unlinked file (or memfd) `unlinked` of the image, which
  /// restored mappings of it are made from.
  int inode_fd(int unlinked) const { return inode_fds_.at(static_cast<std::size_t>(unlinked)); }
  /// Adds each memfd's seals, once every mapping of it is made (F_SEAL_FUTURE_WRITE would
  /// forbid a writable one).
  void seal() const;

 private:
  UniqueFd open_file(const FileImage& f, const std::vector<int>& buffer_fd,
                     const std::string& terminal, int own_fds) const;

  const FilesImage& img_;
  std::vector<UniqueFd> fds_;
  std::vector<int> inode_fds_;
  /// ckpt's own handles on each pipe and unlinked file, which keep them alive while the
  /// descriptions are reopened.
  std::vector<UniqueFd> backing_;
};

}  // namespace crossrig::engine
