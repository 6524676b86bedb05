#pragma once

#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <variant>

#include "rig/inventory/board.h"

namespace crossrig::rig {

/// The board's fields by the names the inventory uses (name, arch, boot, mac, console,
/// tftp_dir, kernel, ramdisk, dtb, boot_script, address, outlet); absent ones are left out.
std::map<std::string, std::string> board_fields(const Board& board);

/// A shell command with {field} placeholders replaced by the fields' values, each quoted for
/// /bin/sh so a value is always one word and never code; "{{" and "}}" stand for braces.
/// Returns the command, or the problem (unknown or absent field, unbalanced brace) as text.
std::variant<std::string, std::string> expand_command(
    std::string_view pattern, const std::map<std::string, std::string>& fields);

/// text quoted for /bin/sh: in single quotes, with embedded ones escaped.
std::string shell_quote(std::string_view text);

}  // namespace crossrig::rig
