#pragma once
// The files of a tmpfs the tree mounted in its own mount namespace: they live nowhere else and
// go with the namespace, so the image keeps them (as CRIU keeps a tmpfs in a tar archive) and
// restore writes them into the tmpfs it mounts again. Every kind of file a tmpfs holds comes
// back with its mode, owner and times; hard links stay links, holes stay holes.

#include <sys/types.h>

#include <cstdint>
#include <nlohmann/json.hpp>
#include <span>
#include <string>
#include <vector>

#include "engine/image.h"

namespace crossrig::engine {

/// A range of a regular file holding data, at offset in the image's data file.
struct DataRunImage {
  std::uint64_t at = 0, length = 0, offset = 0;
};
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE(DataRunImage, at, length, offset)

/// One name of a file tree, listed before the names inside it.
struct FileNodeImage {
  std::string path;        ///< Relative to the tree's top, which is "".
  std::string type;        ///< "dir", "file", "symlink", "fifo", "char", "block" or "socket".
  std::uint32_t mode = 0;  ///< Permission bits, with set-id and sticky bits.
  std::uint32_t uid = 0, gid = 0;
  std::int64_t atime_sec = 0, atime_nsec = 0, mtime_sec = 0, mtime_nsec = 0;
  std::uint64_t size = 0;          ///< file: its length, holes included.
  std::vector<DataRunImage> data;  ///< file: the ranges that are not holes.
  std::string target;              ///< symlink: where it points.
  std::uint64_t rdev = 0;          ///< char, block: the device number.
  int link = -1;  ///< A second name of a file: the index of the node first met for it.
};
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE(FileNodeImage, path, type, mode, uid, gid, atime_sec, atime_nsec,
                                   mtime_sec, mtime_nsec, size, data, target, rdev, link)

/// The files below directory dir on one file system (mount points below it show as the empty
/// directories they cover only if dir is a mount of its own, see open_tree(2)), their content
/// appended to data. what names the tree in errors.
std::vector<FileNodeImage> read_file_tree(int dir, const std::string& what, PagesWriter& data);

/// Throws kBadImage unless nodes is a tree read_file_tree could have written: the top first,
/// every name inside a directory listed before it, no "." or ".." component, data inside
/// data_size, links to earlier files.
void check_file_tree(const std::vector<FileNodeImage>& nodes, std::uint64_t data_size,
                     const std::string& what);

/// Makes the files of nodes below the empty directory dir, and gives dir the top's mode,
/// owner and times.
void write_file_tree(int dir, const std::vector<FileNodeImage>& nodes,
                     std::span<const std::uint8_t> data, const std::string& what);

}  // namespace crossrig::engine
