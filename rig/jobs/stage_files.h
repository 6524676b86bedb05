#pragma once

#include <string>

#include "rig/inventory/board.h"

namespace crossrig::rig {

/// Puts source into dir as name atomically: a hard link (same file system) or a copy to a
/// temporary name in dir, then rename over name, so the board's firmware never fetches a
/// half-written file. Throws std::runtime_error naming both paths.
void stage_file(const std::string& source, const std::string& dir, const std::string& name);

/// Writes text to dir/name atomically (temporary file, fsync, rename).
void write_file_atomically(const std::string& dir, const std::string& name,
                           const std::string& text);

/// Writes the files the board's firmware reads before the kernel (rig/boot: U-Boot script,
/// pxelinux configs, iPXE script) into its tftp_dir for the staged kernel and ramdisk names,
/// with the command line of tftp_dir/cmdline. Throws std::invalid_argument or
/// std::runtime_error.
void stage_boot_files(const Board& board, const std::string& kernel, const std::string& ramdisk);

}  // namespace crossrig::rig
