#pragma once

#include <map>
#include <optional>
#include <string>
#include <vector>

namespace crossrig::rig {

/// A CPU architecture, spelled as `uname -m` prints it.
enum class Arch { kX86_64, kAarch64, kPpc64, kPpc64le, kS390x };

/// How a board's firmware fetches what it boots.
enum class BootMethod { kUboot, kSlof, kS390Netboot, kIpxe };

/// How a board's power is switched: a driver name from the power driver table and the driver's
/// settings as the inventory gives them (validated against that driver's schema).
struct PowerSpec {
  std::string driver;
  std::map<std::string, std::string> settings;
};

/// A board's default test job (`rig run --board NAME` without files): absolute paths, made
/// so from the inventory file's directory.
struct BoardJob {
  std::string kernel, ramdisk;
  std::optional<std::string> dtb;
  /// Kernel command line, staged as tftp_dir/cmdline.
  std::optional<std::string> cmdline;
  /// Seconds each attempt may take.
  std::optional<double> timeout_s;
};

/// One board of the lab, as the inventory describes it.
struct Board {
  std::string name;
  Arch arch = Arch::kX86_64;
  BootMethod boot = BootMethod::kUboot;
  PowerSpec power;
  /// "host:port" of the serial console server (ser2net, conmux...), if any.
  std::optional<std::string> console;
  /// The MAC address the board netboots with, lower case "aa:bb:cc:dd:ee:ff".
  std::optional<std::string> mac;
  /// Absolute path of the directory the board's firmware fetches files from over TFTP.
  std::optional<std::string> tftp_dir;
  /// File names inside tftp_dir.
  std::optional<std::string> kernel, ramdisk, dtb, boot_script;
  /// How long the board stays off during a power cycle.
  double off_time_s = 2.0;
  /// The job `rig run --board NAME` runs when given no files.
  std::optional<BoardJob> job;
  /// Line of the board's entry in the inventory file (1-based), for messages.
  int line = 0;
};

/// An optional text field of Board by its inventory name.
struct OptionalField {
  const char* key;
  std::optional<std::string> Board::*member;
};

/// Every optional text field of Board, as data for the code that lists or fills them.
inline constexpr OptionalField kOptionalFields[] = {
    {"console", &Board::console},        {"mac", &Board::mac},
    {"tftp_dir", &Board::tftp_dir},      {"kernel", &Board::kernel},
    {"ramdisk", &Board::ramdisk},        {"dtb", &Board::dtb},
    {"boot_script", &Board::boot_script}};

/// The boards of a lab, in the order the file lists them.
struct Inventory {
  /// Where the inventory was read from, for messages.
  std::string source;
  std::vector<Board> boards;

  /// The board with this name, or nullptr.
  const Board* find(const std::string& name) const;
};

}  // namespace crossrig::rig
