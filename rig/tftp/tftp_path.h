#pragma once

#include <string>
#include <string_view>
#include <variant>

namespace crossrig::rig::tftp {

/// A file name that failed confinement, with the reason for the log and the ERROR packet.
struct PathRefused {
  std::string reason;
};

/// Turns a requested (or remapped) name into a path relative to the root: a leading '/' means
/// the root, "." and empty components are dropped; "..", NUL and control characters are
/// refused. Symlinks are confined separately, when the file is opened beneath the root.
std::variant<std::string, PathRefused> confine(std::string_view name);

}  // namespace crossrig::rig::tftp
