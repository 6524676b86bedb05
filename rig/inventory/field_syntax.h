#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <string_view>

namespace crossrig::rig {

// Checks of single inventory values. Each returns the problem as text a human can act on, or
// nullopt when the value is fine.

/// A board name: letters, digits, '.', '_' and '-' (it names lock files and directories).
std::optional<std::string> check_board_name(std::string_view name);
/// "aa:bb:cc:dd:ee:ff" (either case, ':' or '-'), returned normalized to lower case with ':'.
std::optional<std::string> normalize_mac(std::string_view text);
/// "host:port" (IPv6 in brackets); the port is required when port_required.
std::optional<std::string> check_address(std::string_view text, bool port_required);
/// A file name inside a directory: no '/', not "." or "..".
std::optional<std::string> check_file_name(std::string_view name);
/// An absolute directory path.
std::optional<std::string> check_absolute_path(std::string_view path);
/// Seconds as a decimal number from 0 to 3600; nullopt if it is not one.
std::optional<double> parse_seconds(std::string_view text);
/// Seconds as parse_seconds() takes them, rounded to milliseconds.
std::optional<std::chrono::milliseconds> parse_duration(std::string_view text);
/// A whole number from low to high; nullopt if it is not one.
std::optional<int> parse_int_in(std::string_view text, int low, int high);

}  // namespace crossrig::rig
