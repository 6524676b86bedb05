#include "rig/boot/uboot_image.h"

#include <stdexcept>

#include "rig/boot/crc32.h"

namespace crossrig::rig::boot {

namespace {

constexpr std::uint32_t kMagic = 0x27051956;
constexpr std::uint8_t kOsLinux = 5, kTypeScript = 6, kCompressionNone = 0;
constexpr std::size_t kHeaderSize = 64, kNameSize = 32;

void put_be32(std::string& out, std::size_t at, std::uint32_t value) {
  for (int i = 0; i < 4; ++i)
    out[at + i] = static_cast<char>(value >> (24 - 8 * i));
}

std::string be32(std::uint32_t value) {
  std::string out(4, '\0');
  put_be32(out, 0, value);
  return out;
}

}  // namespace

std::string script_image(std::string_view script, std::string_view name, UbootArch arch,
                         std::uint32_t time) {
  // A script is a multi-file image of one file: its size, a zero ending the table, the bytes.
  std::string data = be32(static_cast<std::uint32_t>(script.size())) + be32(0);
  data += script;
  std::string header(kHeaderSize, '\0');
  put_be32(header, 0, kMagic);
  put_be32(header, 8, time);
  put_be32(header, 12, static_cast<std::uint32_t>(data.size()));
  put_be32(header, 24, crc32(data));
  header[28] = static_cast<char>(kOsLinux);
  header[29] = static_cast<char>(arch);
  header[30] = static_cast<char>(kTypeScript);
  header[31] = static_cast<char>(kCompressionNone);
  header.replace(32, std::min(name.size(), kNameSize), name.substr(0, kNameSize));
  // The header CRC is computed with its own field zero, as U-Boot checks it.
  put_be32(header, 4, crc32(header));
  return header + data;
}

std::string environment_image(const std::map<std::string, std::string>& variables,
                              std::size_t size) {
  std::string data;
  for (const auto& [name, value] : variables) {
    data += name;
    data += '=';
    data += value;
    data += '\0';
  }
  data += '\0';
  if (size < 4 || data.size() > size - 4) {
    throw std::length_error("the U-Boot environment needs " + std::to_string(data.size() + 4) +
                            " bytes but holds " + std::to_string(size));
  }
  data.resize(size - 4, '\xff');
  std::uint32_t crc = crc32(data);
  std::string out(4, '\0');
  for (int i = 0; i < 4; ++i)
    out[i] = static_cast<char>(crc >> (8 * i));
  return out + data;
}

}  // namespace crossrig::rig::boot
