#pragma once

#include <optional>
#include <span>
#include <string>
#include <string_view>

#include "rig/inventory/board.h"

namespace crossrig::rig {

/// The `uname -m` spelling of an arch.
std::string_view arch_name(Arch arch);
/// The arch spelled name, or nullopt.
std::optional<Arch> parse_arch(std::string_view name);
/// Every arch spelling, comma-separated, for messages.
std::string arch_names();

/// The inventory spelling of a boot method (uboot, slof, s390-netboot, ipxe).
std::string_view boot_method_name(BootMethod boot);
/// The boot method spelled name, or nullopt.
std::optional<BootMethod> parse_boot_method(std::string_view name);
/// Every boot method spelling, comma-separated, for messages.
std::string boot_method_names();

/// What the inventory may say in a power section for one driver.
struct PowerDriverSchema {
  std::string_view driver;
  /// Keys the section must have besides `driver`.
  std::span<const std::string_view> required;
  /// Keys it may have.
  std::span<const std::string_view> optional;
};

/// The schemas of every power driver the inventory knows, as data.
std::span<const PowerDriverSchema> power_driver_schemas();
/// The schema of driver, or nullptr.
const PowerDriverSchema* find_power_driver_schema(std::string_view driver);

}  // namespace crossrig::rig
