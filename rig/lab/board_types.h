#pragma once

#include <optional>
#include <span>
#include <string_view>

#include "rig/inventory/board.h"

namespace crossrig::rig::lab {

/// One kind of virtual board: how QEMU emulates it and how its firmware netboots. A row per
/// architecture; everything arch-specific about the lab lives in this table.
struct BoardType {
  Arch arch;
  std::string_view qemu;     ///< QEMU binary.
  std::string_view machine;  ///< -machine.
  std::string_view cpu;      ///< -cpu, or "" for the machine's default.
  int memory_mib;
  /// The firmware: "" for the machine's own (SeaBIOS + iPXE, SLOF, s390-ccw), else -bios FILE.
  std::string_view bios;
  /// U-Boot keeps its environment (MAC, boot command) in the second flash bank, this big.
  bool uboot_env_flash;
  std::string_view nic;      ///< QEMU network device.
  bool nic_bootindex;        ///< Whether the firmware picks its boot device by bootindex.
  std::string_view console;  ///< The kernel's console device.
  BootMethod boot;
  std::string_view kernel_name;  ///< The kernel's file name in the board's TFTP directory.
};

/// Every board type, in the order the lab lists its boards.
std::span<const BoardType> board_types();

/// The board type of an architecture.
const BoardType& board_type(Arch arch);

/// The U-Boot flash bank holding the environment: its size, and the environment's size at its
/// start (qemu_arm64_defconfig's CONFIG_ENV_SIZE).
inline constexpr std::size_t kUbootFlashBytes = 64u << 20, kUbootEnvBytes = 0x40000;

}  // namespace crossrig::rig::lab
