#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <string_view>

namespace crossrig::rig::boot {

/// U-Boot's architecture numbers (include/image.h) for the legacy image header.
enum class UbootArch : std::uint8_t { kPowerPc = 7, kArm64 = 22 };

/// A U-Boot script as a legacy image (what `mkimage -T script -C none` makes and `source`
/// runs): the 64-byte big-endian header with its header and data CRCs, then the one-entry size
/// table of a multi-file image, then the script. `time` is the header's creation time (seconds
/// since the epoch); name is cut to the header's 32 bytes.
std::string script_image(std::string_view script, std::string_view name, UbootArch arch,
                         std::uint32_t time);

/// A saved U-Boot environment of `size` bytes (what `mkenvimage -s SIZE` makes): the CRC-32 of
/// the rest in little-endian, then NAME=VALUE strings each ended by a NUL, an empty string, and
/// 0xff padding. Throws std::length_error when the variables do not fit.
std::string environment_image(const std::map<std::string, std::string>& variables,
                              std::size_t size);

}  // namespace crossrig::rig::boot
