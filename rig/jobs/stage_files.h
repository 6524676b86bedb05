#pragma once

#include <string>

namespace crossrig::rig {

/// Puts source into dir as name atomically: a hard link (same file system) or a copy to a
/// temporary name in dir, then rename over name, so the board's firmware never fetches a
/// half-written file. Throws std::runtime_error naming both paths.
void stage_file(const std::string& source, const std::string& dir, const std::string& name);

/// Writes text to dir/name atomically (temporary file, fsync, rename).
void write_file_atomically(const std::string& dir, const std::string& name,
                           const std::string& text);

}  // namespace crossrig::rig
