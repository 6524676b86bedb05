#pragma once

#include <span>
#include <string_view>

#include "rig/inventory/board.h"

namespace crossrig::rig::lava {

/// How LAVA drives a board of one rig boot method: the device type rig writes for it (a
/// template extending one of LAVA's base templates) and the job's deploy and boot.
struct LavaDeviceType {
  BootMethod boot;
  /// The device type's name, and its template's file name without ".jinja2".
  std::string_view name;
  /// The job's boot action method: "u-boot", "ipxe" or "minimal".
  std::string_view boot_method;
  /// Whether jobs deploy the files over the LAVA worker's TFTP server; when not, the board's
  /// firmware fetches what rig staged in its tftp_dir.
  bool tftp_deploy;
  /// The template, a Jinja2 file for the server's device-types directory.
  std::string_view template_text;
};

/// The device type of boards of this boot method.
const LavaDeviceType& lava_device_type(BootMethod boot);

/// Every device type rig writes, one per boot method, in the order of BootMethod.
std::span<const LavaDeviceType> lava_device_types();

/// The architecture name U-Boot's mkimage uses for arch (`mkimage -A`), which LAVA needs to
/// wrap a ramdisk in a U-Boot header.
std::string_view mkimage_arch(Arch arch);

}  // namespace crossrig::rig::lava
