#pragma once
// Pure parsers for the /proc files the engine reads; they take text and return values.

#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "engine/task_image.h"

namespace crossrig::engine {

/// One line of /proc/PID/maps, plus the VmFlags smaps adds.
struct MapsEntry {
  std::uint64_t start = 0, end = 0;
  bool read = false, write = false, exec = false, shared = false;
  std::uint64_t offset = 0;
  std::uint32_t dev_major = 0, dev_minor = 0;
  std::uint64_t inode = 0;
  std::string path;                   ///< Empty for anonymous memory; "[stack]", "[vdso]" ...
  std::vector<std::string> vm_flags;  ///< Two-letter smaps flags ("rd", "gd", "dd" ...).

  bool has_flag(std::string_view flag) const;
};

/// Parses /proc/PID/maps text; throws std::runtime_error naming the bad line.
std::vector<MapsEntry> parse_maps(std::string_view text);

/// Parses /proc/PID/smaps text: the maps lines with their VmFlags.
std::vector<MapsEntry> parse_smaps(std::string_view text);

/// The "lock:" lines of a /proc/PID/fdinfo/FD text. Kinds "flock", "posix" and "ofd" carry
/// their access and range; any other kind of lock (a lease, a delegation) keeps the kernel's
/// name in lower case. Throws std::runtime_error on a malformed line.
std::vector<LockImage> parse_fd_locks(std::string_view fdinfo);

/// Parses /proc/PID/limits: one RlimitImage per row, resource i in row i as the kernel prints
/// them, "unlimited" as RLIM_INFINITY. Throws std::runtime_error on a malformed row.
std::vector<RlimitImage> parse_limits(std::string_view text);

/// Parses "Key:\tvalue" files such as /proc/PID/status into key → trimmed value.
std::map<std::string, std::string> parse_status(std::string_view text);

/// The non-empty fields of s between separators sep.
std::vector<std::string> split_fields(std::string_view s, char sep);

/// One line of /proc/PID/mountinfo, its paths with their octal escapes (\040...) decoded.
struct MountInfo {
  int id = 0, parent = 0;
  unsigned major = 0, minor = 0;
  std::string root;        ///< The directory of the file system the mount shows at its top.
  std::string mountpoint;  ///< Relative to the reading process's root.
  std::vector<std::string> options;  ///< Per mount: "rw"/"ro", "nosuid", "relatime"...
  std::vector<std::string> tags;     ///< Propagation: "shared:N", "master:N", "unbindable"...
  std::string fstype, source;
  std::vector<std::string> super_options;  ///< The file system's own: "size=...", "mode=..."

  /// The number of a tag "NAME:N", or 0 without one ("shared" gives the peer group).
  int tag(std::string_view name) const;
};

/// Parses /proc/PID/mountinfo text; throws std::runtime_error naming a malformed line.
std::vector<MountInfo> parse_mountinfo(std::string_view text);

/// Fields of /proc/PID/stat, numbered as proc(5) numbers them (1 = pid, 2 = comm, ...).
class ProcStat {
 public:
  /// Parses the text; comm may hold spaces and parentheses.
  explicit ProcStat(std::string_view text);
  /// Field n as text; throws std::out_of_range if the line has fewer fields.
  const std::string& field(std::size_t n) const;
  /// Field n as an integer.
  std::int64_t number(std::size_t n) const;

 private:
  std::vector<std::string> fields_;
};

}  // namespace crossrig::engine
