#pragma once

#include <optional>
#include <string>
#include <vector>

#include "rig/inventory/board.h"

namespace crossrig::rig::boot {

/// What a board's firmware has to find over TFTP to boot one kernel and ramdisk.
struct BootRequest {
  BootMethod method = BootMethod::kIpxe;
  Arch arch = Arch::kX86_64;
  /// The board's netboot MAC, "aa:bb:cc:dd:ee:ff".
  std::string mac;
  /// The board's tftp_dir as the TFTP server names it: "" or a relative path ending in '/'.
  std::string prefix;
  /// File names inside tftp_dir.
  std::string kernel, ramdisk;
  std::optional<std::string> dtb;
  /// The kernel command line; no newline, no single quote.
  std::string cmdline;
  /// The TFTP server's address for iPXE's URLs; without it iPXE uses DHCP's next-server.
  std::optional<std::string> server;
};

/// One file to put into the board's tftp_dir.
struct BootFile {
  /// Relative to tftp_dir, e.g. "pxelinux.cfg/01-52-54-00-12-34-56".
  std::string path;
  std::string bytes;
};

/// The files the board's firmware reads before the kernel, per boot method: a U-Boot script
/// image (boot.scr.uimg), SLOF's pxelinux.cfg/01-MAC (for a board with a MAC) and
/// pxelinux.cfg/default, the s390
/// netboot config (s390-netboot.cfg, "# pxelinux" first) or an iPXE script (boot.ipxe).
/// Throws std::invalid_argument for a command line or name the formats cannot carry.
std::vector<BootFile> boot_files(const BootRequest& request);

/// The file name DHCP hands the board (relative to the TFTP root): what boot_files() makes
/// for it, or for SLOF the directory holding pxelinux.cfg/.
std::string dhcp_bootfile(BootMethod method, const std::string& prefix);

}  // namespace crossrig::rig::boot
