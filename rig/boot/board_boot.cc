#include "rig/boot/board_boot.h"

#include <filesystem>
#include <stdexcept>

namespace crossrig::rig::boot {

BootRequest board_boot_request(const Board& board, const std::string& kernel,
                               const std::string& ramdisk, const std::string& cmdline) {
  if (!board.tftp_dir) {
    throw std::invalid_argument("board '" + board.name + "' has no tftp_dir in the inventory");
  }
  BootRequest r;
  r.method = board.boot;
  r.arch = board.arch;
  r.mac = board.mac.value_or("");
  std::string dir = std::filesystem::path(*board.tftp_dir).lexically_normal().string();
  while (dir.size() > 1 && dir.back() == '/')
    dir.pop_back();
  r.prefix = std::filesystem::path(dir).filename().string() + "/";
  r.kernel = kernel;
  r.ramdisk = ramdisk;
  r.dtb = board.dtb;
  r.cmdline = cmdline;
  return r;
}

std::string cmdline_from_file_text(const std::string& text) {
  std::string line = text.substr(0, text.find('\n'));
  auto begin = line.find_first_not_of(" \t\r");
  if (begin == std::string::npos) return "";
  auto end = line.find_last_not_of(" \t\r");
  return line.substr(begin, end - begin + 1);
}

}  // namespace crossrig::rig::boot
