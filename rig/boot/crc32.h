#pragma once

#include <cstdint>
#include <string_view>

namespace crossrig::rig::boot {

/// The CRC-32 of IEEE 802.3 and zlib (reflected, polynomial 0xEDB88320), which U-Boot uses for
/// its image headers and saved environments.
std::uint32_t crc32(std::string_view bytes);

}  // namespace crossrig::rig::boot
