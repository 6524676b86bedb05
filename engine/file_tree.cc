#include "engine/file_tree.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <map>
#include <set>

#include "common/unique_fd.h"
#include "engine/ckpt_error.h"
#include "engine/ptrace_task.h"

namespace crossrig::engine {
namespace {

constexpr std::size_t kChunk = 1 << 20;

std::string type_of(mode_t mode) {
  switch (mode & S_IFMT) {
    case S_IFDIR:
      return "dir";
    case S_IFREG:
      return "file";
    case S_IFLNK:
      return "symlink";
    case S_IFIFO:
      return "fifo";
    case S_IFCHR:
      return "char";
    case S_IFBLK:
      return "block";
    case S_IFSOCK:
      return "socket";
    default:
      return "";
  }
}

mode_t mode_type(const std::string& type) {
  static const std::map<std::string, mode_t> kTypes = {
      {"fifo", S_IFIFO}, {"char", S_IFCHR}, {"block", S_IFBLK}, {"socket", S_IFSOCK}};
  return kTypes.at(type);
}

std::string join(const std::string& dir, const std::string& name) {
  return dir.empty() ? name : dir + "/" + name;
}

std::string parent_of(const std::string& path) {
  std::size_t slash = path.rfind('/');
  return slash == std::string::npos ? "" : path.substr(0, slash);
}

std::string name_of(const std::string& path) {
  return path.substr(path.rfind('/') + 1);
}

// The data of the regular file fd, without its holes.
std::vector<DataRunImage> read_data(int fd, std::uint64_t size, const std::string& what,
                                    PagesWriter& data) {
  std::vector<DataRunImage> runs;
  std::vector<std::uint8_t> buf(kChunk);
  off_t at = 0;
  while (static_cast<std::uint64_t>(at) < size) {
    off_t start = ::lseek(fd, at, SEEK_DATA);
    if (start < 0 && errno == ENXIO) break;
    if (start < 0) throw_errno("finding the data of " + what);
    off_t end = ::lseek(fd, start, SEEK_HOLE);
    if (end < 0) throw_errno("finding the holes of " + what);
    DataRunImage run{static_cast<std::uint64_t>(start), 0, data.size()};
    for (off_t pos = start; pos < end;) {
      ssize_t n = ::pread(fd, buf.data(), std::min<std::size_t>(buf.size(), end - pos), pos);
      if (n < 0) throw_errno("reading " + what);
      if (n == 0) break;
      data.append(std::span(buf.data(), static_cast<std::size_t>(n)));
      pos += n;
      run.length += static_cast<std::uint64_t>(n);
    }
    if (run.length > 0) runs.push_back(run);
    at = end;
  }
  return runs;
}

struct Reader {
  const std::string& what;
  PagesWriter& data;
  dev_t dev;
  std::vector<FileNodeImage> nodes;
  std::map<ino_t, int> seen;  // inodes with more than one name, by their first node

  void add(int dir_fd, const std::string& path, const struct stat& st) {
    FileNodeImage n;
    n.path = path;
    n.type = type_of(st.st_mode);
    const std::string name = what + (path.empty() ? "" : ": " + path);
    if (n.type.empty())
      throw CkptError(CkptError::kUnsupported, name + " is a file of unknown kind");
    n.mode = st.st_mode & 07777;
    n.uid = st.st_uid;
    n.gid = st.st_gid;
    n.atime_sec = st.st_atim.tv_sec;
    n.atime_nsec = st.st_atim.tv_nsec;
    n.mtime_sec = st.st_mtim.tv_sec;
    n.mtime_nsec = st.st_mtim.tv_nsec;
    if (n.type != "dir" && st.st_nlink > 1) {
      auto [it, first] = seen.emplace(st.st_ino, static_cast<int>(nodes.size()));
      if (!first) {
        n.link = it->second;
        nodes.push_back(std::move(n));
        return;
      }
    }
    const std::string base = path.empty() ? "." : name_of(path);
    if (n.type == "symlink") {
      std::vector<char> buf(static_cast<std::size_t>(st.st_size) + 1);
      ssize_t len = ::readlinkat(dir_fd, base.c_str(), buf.data(), buf.size());
      if (len < 0) throw_errno("reading the link " + name);
      n.target.assign(buf.data(), static_cast<std::size_t>(len));
    } else if (n.type == "char" || n.type == "block") {
      n.rdev = st.st_rdev;
    }
    if (n.type == "file") {
      UniqueFd fd(::openat(dir_fd, base.c_str(), O_RDONLY | O_NOFOLLOW | O_NOATIME | O_CLOEXEC));
      if (!fd) throw_errno("opening " + name);
      n.size = static_cast<std::uint64_t>(st.st_size);
      n.data = read_data(fd.get(), n.size, name, data);
    }
    const bool is_dir = n.type == "dir";
    nodes.push_back(std::move(n));
    if (is_dir) walk(dir_fd, base, path);
  }

  void walk(int parent_fd, const std::string& base, const std::string& path) {
    UniqueFd fd(::openat(parent_fd, base.c_str(),
                         O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_NOATIME | O_CLOEXEC));
    if (!fd) throw_errno("opening " + what + (path.empty() ? "" : ": " + path));
    std::vector<std::string> names;
    {
      UniqueFd listing(::dup(fd.get()));
      DIR* d = listing ? ::fdopendir(listing.get()) : nullptr;
      if (d == nullptr) throw_errno("listing " + what + ": " + path);
      static_cast<void>(listing.release());
      while (dirent* e = ::readdir(d)) {
        std::string name = e->d_name;
        if (name != "." && name != "..") names.push_back(name);
      }
      ::closedir(d);
    }
    std::sort(names.begin(), names.end());
    for (const std::string& name : names) {
      struct stat st {};
      if (::fstatat(fd.get(), name.c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0)
        throw_errno("stat of " + what + ": " + join(path, name));
      // Another file system mounted here: its mount point is all this one holds.
      if (st.st_dev != dev) {
        if (::fstatat(fd.get(), name.c_str(), &st, AT_SYMLINK_NOFOLLOW | AT_NO_AUTOMOUNT) != 0)
          throw_errno("stat of " + what + ": " + join(path, name));
        if (st.st_dev != dev) continue;
      }
      add(fd.get(), join(path, name), st);
    }
  }
};

// Calls on_node for each node below the top, and on_leave for each directory once the listing
// left it, keeping the directories above the node as a stack: throws kBadImage for a node not
// listed inside the directories above it.
template <typename OnNode, typename OnLeave>
void walk_nodes(const std::vector<FileNodeImage>& nodes, const std::string& what, OnNode on_node,
                OnLeave on_leave) {
  std::vector<std::string> stack{""};
  for (std::size_t i = 1; i < nodes.size(); ++i) {
    const std::string parent = parent_of(nodes[i].path);
    while (stack.size() > 1 && stack.back() != parent) {
      on_leave(stack.back());
      stack.pop_back();
    }
    if (stack.back() != parent)
      throw CkptError(CkptError::kBadImage,
                      what + ": " + nodes[i].path + " is not listed right after its directory");
    on_node(i);
    if (nodes[i].type == "dir" && nodes[i].link < 0) stack.push_back(nodes[i].path);
  }
  while (stack.size() > 1) {
    on_leave(stack.back());
    stack.pop_back();
  }
}

void set_times(int dir_fd, const std::string& base, const FileNodeImage& n, int flags,
               const std::string& name) {
  const timespec times[2] = {{n.atime_sec, n.atime_nsec}, {n.mtime_sec, n.mtime_nsec}};
  if (::utimensat(dir_fd, base.c_str(), times, flags) != 0) throw_errno("dating " + name);
}

void set_owner_mode(int dir_fd, const std::string& base, const FileNodeImage& n,
                    const std::string& name) {
  // The owner first: chown clears set-id bits.
  if (::fchownat(dir_fd, base.c_str(), n.uid, n.gid, AT_SYMLINK_NOFOLLOW) != 0)
    throw_errno("giving " + name + " its owner");
  if (n.type != "symlink" && ::fchmodat(dir_fd, base.c_str(), n.mode, 0) != 0)
    throw_errno("giving " + name + " its mode");
}

}  // namespace

std::vector<FileNodeImage> read_file_tree(int dir, const std::string& what, PagesWriter& data) {
  struct stat st {};
  if (::fstat(dir, &st) != 0 || !S_ISDIR(st.st_mode)) throw_errno("stat of " + what);
  Reader r{what, data, st.st_dev, {}, {}};
  r.add(dir, "", st);
  return std::move(r.nodes);
}

void check_file_tree(const std::vector<FileNodeImage>& nodes, std::uint64_t data_size,
                     const std::string& what) {
  auto bad = [&](const std::string& why) { throw CkptError(CkptError::kBadImage, what + why); };
  if (nodes.empty() || !nodes.front().path.empty() || nodes.front().type != "dir")
    bad(" does not start with its top directory");
  std::set<std::string> names;
  for (std::size_t i = 0; i < nodes.size(); ++i) {
    const FileNodeImage& n = nodes[i];
    const std::string name = what + ": " + n.path;
    if (i > 0) {
      for (std::size_t at = 0; at <= n.path.size();) {
        std::size_t end = std::min(n.path.find('/', at), n.path.size());
        const std::string part = n.path.substr(at, end - at);
        if (part.empty() || part == "." || part == "..") bad(": name " + n.path + " is not plain");
        at = end + 1;
      }
      if (!names.insert(n.path).second) bad(": " + n.path + " is listed twice");
    }
    if (n.link >= 0 && (n.link >= static_cast<int>(i) || nodes[n.link].link >= 0 ||
                        nodes[n.link].type == "dir" || nodes[n.link].type != n.type))
      bad(": " + n.path + " is a link to no earlier file of its kind");
    if (n.type != "dir" && n.type != "file" && n.type != "symlink" &&
        !(n.type == "fifo" || n.type == "char" || n.type == "block" || n.type == "socket"))
      bad(": " + n.path + " is of unknown kind " + n.type);
    if (n.mode > 07777) bad(": " + n.path + " has mode bits beyond 07777");
    std::uint64_t end = 0;
    for (const DataRunImage& run : n.data) {
      if (run.at < end || run.length > n.size || run.at > n.size - run.length ||
          run.offset > data_size || run.length > data_size - run.offset)
        bad(": the data of " + n.path + " lies outside its file or the image");
      end = run.at + run.length;
    }
  }
  walk_nodes(
      nodes, what, [](std::size_t) {}, [](const std::string&) {});
}

void write_file_tree(int dir, const std::vector<FileNodeImage>& nodes,
                     std::span<const std::uint8_t> data, const std::string& what) {
  // The open directories on the way down, each with its node.
  std::map<std::string, std::pair<UniqueFd, std::size_t>> dirs;
  dirs[""] = {UniqueFd(::dup(dir)), 0};
  if (!dirs[""].first) throw_errno("dup");
  std::map<int, UniqueFd> linked;  // files other names point at, by node
  for (const FileNodeImage& n : nodes) {
    if (n.link >= 0) linked[n.link];
  }
  auto leave = [&](const std::string& path) {
    const auto& [fd, node] = dirs.at(path);
    const std::string name = what + (path.empty() ? "" : ": " + path);
    set_owner_mode(fd.get(), ".", nodes[node], name);
    set_times(fd.get(), ".", nodes[node], 0, name);
    dirs.erase(path);
  };
  walk_nodes(
      nodes, what,
      [&](std::size_t i) {
        const FileNodeImage& n = nodes[i];
        const std::string name = what + ": " + n.path, base = name_of(n.path);
        const int parent = dirs.at(parent_of(n.path)).first.get();
        if (n.link >= 0) {
          if (::linkat(linked.at(n.link).get(), "", parent, base.c_str(), AT_EMPTY_PATH) != 0)
            throw_errno("linking " + name + " to " + nodes[n.link].path);
          return;
        }
        if (n.type == "dir") {
          if (::mkdirat(parent, base.c_str(), 0700) != 0) throw_errno("making " + name);
          UniqueFd fd(
              ::openat(parent, base.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
          if (!fd) throw_errno("opening " + name);
          dirs[n.path] = {std::move(fd), i};
          return;
        }
        if (n.type == "file") {
          UniqueFd fd(::openat(parent, base.c_str(),
                               O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600));
          if (!fd) throw_errno("making " + name);
          for (const DataRunImage& run : n.data) {
            auto bytes = data.subspan(run.offset, run.length);
            for (std::size_t done = 0; done < bytes.size();) {
              ssize_t w = ::pwrite(fd.get(), bytes.data() + done, bytes.size() - done,
                                   static_cast<off_t>(run.at + done));
              if (w <= 0) throw_errno("writing " + name);
              done += static_cast<std::size_t>(w);
            }
          }
          if (::ftruncate(fd.get(), static_cast<off_t>(n.size)) != 0)
            throw_errno("giving " + name + " its length");
        } else if (n.type == "symlink") {
          if (::symlinkat(n.target.c_str(), parent, base.c_str()) != 0)
            throw_errno("making " + name);
        } else if (::mknodat(parent, base.c_str(), mode_type(n.type) | 0600,
                             static_cast<dev_t>(n.rdev)) != 0) {
          throw_errno("making " + name);
        }
        set_owner_mode(parent, base, n, name);
        set_times(parent, base, n, AT_SYMLINK_NOFOLLOW, name);
        if (auto it = linked.find(static_cast<int>(i)); it != linked.end()) {
          it->second = UniqueFd(::openat(parent, base.c_str(), O_PATH | O_NOFOLLOW | O_CLOEXEC));
          if (!it->second) throw_errno("opening " + name + " to link it");
        }
      },
      leave);
  leave("");
}

}  // namespace crossrig::engine
