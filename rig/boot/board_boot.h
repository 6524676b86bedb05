#pragma once

#include <string>
#include <vector>

#include "rig/boot/boot_files.h"
#include "rig/inventory/board.h"

namespace crossrig::rig::boot {

/// The boot request for an inventory board. Names in the boot files are relative to the TFTP
/// root, which is taken to be tftp_dir's parent (as in rig's lab and /srv/tftp/BOARD labs), so
/// the prefix is tftp_dir's last component. Throws std::invalid_argument when the board lacks
/// tftp_dir.
BootRequest board_boot_request(const Board& board, const std::string& kernel,
                               const std::string& ramdisk, const std::string& cmdline);

/// The command line in the text of a tftp_dir/cmdline file: its first line, trimmed.
std::string cmdline_from_file_text(const std::string& text);

}  // namespace crossrig::rig::boot
