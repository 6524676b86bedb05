#pragma once

#include <optional>
#include <string>
#include <vector>

#include "rig/inventory/board.h"

namespace crossrig::rig {

/// The files one job boots with: absolute paths of the kernel, ramdisk and dtb, and the
/// kernel command line.
struct JobFiles {
  std::string kernel, ramdisk;
  std::optional<std::string> dtb, cmdline;
};

/// Throws std::runtime_error saying what to do when the board has no tftp_dir or it is not an
/// existing directory.
void check_tftp_dir(const Board& board);

/// The staging step of `rig run`: puts a job's files into the board's tftp_dir, under the
/// inventory's kernel/ramdisk/dtb names (else their own) and the command line as `cmdline`.
/// The one place a per-boot-method step (firmware configs, boot scripts) is added. Returns the
/// names written, in order. Throws std::runtime_error saying what to fix, e.g. when the
/// tftp_dir does not exist.
std::vector<std::string> stage_job(const Board& board, const JobFiles& files);

/// Puts source into dir as name atomically: a hard link (same file system) or a copy to a
/// temporary name in dir, then rename over name, so the board's firmware never fetches a
/// half-written file. Throws std::runtime_error naming both paths.
void stage_file(const std::string& source, const std::string& dir, const std::string& name);

/// Writes text to dir/name atomically (temporary file, fsync, rename).
void write_file_atomically(const std::string& dir, const std::string& name,
                           const std::string& text);

/// Writes the files the board's firmware reads before the kernel (rig/boot: U-Boot script,
/// pxelinux configs, iPXE script) into its tftp_dir for the staged kernel, ramdisk and dtb
/// names, with the command line of tftp_dir/cmdline. Throws std::invalid_argument or
/// std::runtime_error.
void stage_boot_files(const Board& board, const std::string& kernel, const std::string& ramdisk,
                      const std::optional<std::string>& dtb);

}  // namespace crossrig::rig
