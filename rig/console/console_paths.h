#pragma once

#include <chrono>
#include <filesystem>
#include <string>
#include <string_view>

namespace crossrig::rig::console {

/// Throws std::invalid_argument unless name is a usable board name ([A-Za-z0-9._-], no
/// leading dot, at most 64 bytes): it becomes part of socket and log file names.
void check_board_name(std::string_view name);

/// Where multiplexer sockets live: $CROSSRIG_RUNTIME_DIR, else $XDG_RUNTIME_DIR/crossrig,
/// else /run/crossrig for root, else /tmp/crossrig-UID.
std::filesystem::path runtime_dir();

/// The multiplexer socket of a board: runtime_dir()/console/BOARD.sock.
std::filesystem::path mux_socket_path(std::string_view board);

/// Where console logs go by default: $CROSSRIG_LOG_DIR/console, else /var/log/crossrig/console
/// for root, else $XDG_STATE_HOME (or ~/.local/state)/crossrig/console.
std::filesystem::path default_log_dir();

/// "BOARD-20261201T073350.123Z-boot3": the log name of a board's boot (connection) number boot.
std::string log_base_name(std::string_view board, std::chrono::system_clock::time_point start,
                          unsigned boot);

}  // namespace crossrig::rig::console
