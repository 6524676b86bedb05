#pragma once

#include <map>
#include <nlohmann/json.hpp>
#include <span>
#include <string>
#include <vector>

#include "rig/lab/board_types.h"

namespace crossrig::rig::lab {

/// One virtual board of a lab: its name, network identity and files.
struct LabBoard {
  std::string name;  ///< "qemu-" + arch
  const BoardType* type = nullptr;
  std::string mac;
  std::string ip;
  std::string tap;       ///< Its tap interface inside the lab's namespace.
  std::string tftp_dir;  ///< Absolute: STATE/tftp/NAME.
  std::string run_dir;   ///< Absolute: STATE/boards/NAME (QMP socket, QEMU log, flash).
  /// Loopback ports, known once the plug emulator and the console sockets are bound.
  int plug_port = 0, console_port = 0;
  /// The default job's files (absolute, from toolchains/lab-images' manifest), if known.
  std::string kernel_file, ramdisk_file;
};

/// Everything about a lab that follows from its state directory and its boards.
struct LabPlan {
  std::string state_dir;
  std::string netns;
  std::string bridge = "rigbr0";
  std::string server_ip = "10.99.0.1";
  int prefix_length = 24;
  std::vector<LabBoard> boards;

  std::string tftp_root() const { return state_dir + "/tftp"; }
  std::string inventory_path() const { return state_dir + "/inventory.yaml"; }
  std::string control_socket() const { return state_dir + "/control.sock"; }
  const LabBoard* find(const std::string& name) const;
};

/// The lab of these architectures' boards. Each arch keeps the same MAC, address and name in
/// every lab: qemu-ARCH, 52:54:00:72:69:1N and 10.99.0.1N, N its row in board_types().
LabPlan plan_lab(const std::string& state_dir, const std::string& netns,
                 std::span<const Arch> arches);

/// dnsmasq's configuration: DHCP only (no DNS, no TFTP) on the lab's bridge, one fixed address
/// per board's MAC and the boot file its firmware asks for, nothing for unknown clients.
std::string dnsmasq_config(const LabPlan& plan);

/// The lab's inventory (rig/inventory's format): hs100 power at each board's plug, console at
/// its loopback port, MAC, tftp_dir, boot method and the kernel and ramdisk names.
std::string inventory_yaml(const LabPlan& plan);

/// QEMU's command line for a board whose tap and console listening socket are the given
/// inherited descriptors. A SLOF board carries `cmdline` in its NVRAM (boot-file): SLOF as
/// QEMU 7.2 ships it puts a pxelinux APPEND into /chosen and then restores the boot command's
/// arguments over it, so the NVRAM is where its kernel command line has to come from.
std::vector<std::string> qemu_args(const LabBoard& board, int tap_fd, int console_fd,
                                   const std::string& cmdline);

/// The U-Boot environment saved in an aarch64 board's flash: its MAC, load addresses, and a
/// boot command that takes the DHCP boot file (the board's script image) and runs it.
std::map<std::string, std::string> uboot_environment(const LabBoard& board);

/// The kernel command line of a lab job unless the job gives one: the board's serial console
/// and the ramdisk's /init.
std::string default_cmdline(const BoardType& type);

/// What `rig lab status` reports besides power: the lab's namespace, files and supervisor, and
/// per board its name, arch, boot method, MAC, address, console, plug and default job files.
nlohmann::json lab_json(const LabPlan& plan, int supervisor_pid);

/// The ramdisk's file name in every board's TFTP directory.
inline constexpr const char* kRamdiskName = "ramdisk.cpio.gz";

}  // namespace crossrig::rig::lab
