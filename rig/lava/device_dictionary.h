#pragma once

#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "rig/inventory/board.h"

namespace crossrig::rig::lava {

/// The commands a LAVA worker runs to switch a board's power. LAVA splits each with Python's
/// shlex and runs it without a shell.
struct PowerCommands {
  std::string on, off;
  /// A power cycle: off, a pause of the board's off_time, on.
  std::vector<std::string> reset;
};

/// The board's power commands: `plugctl -H ADDRESS ... on|off` for an hs100 plug, the board's
/// own on/off commands (placeholders filled in) under `sh -c` for the command driver. Returns
/// the commands, or the problem as "FIELD: what to fix".
std::variant<PowerCommands, std::string> power_commands(const Board& board);

/// The command that connects a LAVA worker to the board's serial console (`telnet HOST PORT`),
/// or the problem as "FIELD: what to fix".
std::variant<std::string, std::string> connection_command(const Board& board);

/// The board's LAVA device dictionary (`devices/NAME.jinja2` on a lava-server): its device
/// type, console and power; inventory names the file the board came from, for a reader.
/// Returns the text, or every problem as "FIELD: what to fix".
std::variant<std::string, std::vector<std::string>> device_dictionary(const Board& board,
                                                                      std::string_view inventory);

}  // namespace crossrig::rig::lava
