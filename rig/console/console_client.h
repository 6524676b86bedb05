#pragma once

#include <filesystem>
#include <optional>
#include <string>

#include "common/host_port.h"
#include "common/net_io.h"
#include "common/unique_fd.h"
#include "rig/console/mux_protocol.h"

namespace crossrig::rig::console {

/// Where a board's console can be reached: its multiplexer socket, else its TCP address.
struct ConsoleTarget {
  std::string board;                   ///< For messages.
  std::filesystem::path socket;        ///< The multiplexer socket tried first.
  std::optional<HostPort> address;     ///< The console's TCP address, used when no mux runs.
};

/// An open console connection.
struct ConsoleConnection {
  UniqueFd fd;                ///< Non-blocking; bytes both ways.
  bool via_mux = false;       ///< False: a direct TCP connection, exclusive on most servers.
  std::string description;    ///< "multiplexer /run/crossrig/console/b.sock" or "127.0.0.1:5000".
};

/// Connects to the multiplexer at socket and sends hello; nullopt when none listens there.
std::optional<UniqueFd> connect_mux(const std::filesystem::path& socket, const Hello& hello);

/// Opens the board's console: its multiplexer when one runs, else the TCP address directly.
/// Throws NetError (kUnreachable) saying what was tried when neither works.
ConsoleConnection open_console(const ConsoleTarget& target, const Hello& hello,
                               const Deadline& deadline);

}  // namespace crossrig::rig::console
