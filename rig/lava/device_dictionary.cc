#include "rig/lava/device_dictionary.h"

#include <sstream>
#include <stdexcept>

#include "common/host_port.h"
#include "rig/inventory/board_fields.h"
#include "rig/inventory/vocabulary.h"
#include "rig/lava/device_types.h"
#include "rig/lava/lava_text.h"

namespace crossrig::rig::lava {

namespace {

std::optional<std::string> setting(const Board& board, const std::string& key) {
  auto it = board.power.settings.find(key);
  if (it == board.power.settings.end()) return std::nullopt;
  return it->second;
}

std::string plugctl(const Board& board, std::string_view action) {
  std::string command = "plugctl -H " + command_word(*setting(board, "address"));
  // Flags of plugctl's own command line, one per power setting the hs100 driver reads.
  constexpr std::pair<const char*, const char*> kFlags[] = {{"transport", "--transport"},
                                                            {"outlet", "--child"},
                                                            {"username", "--username"},
                                                            {"password_file", "--password-file"},
                                                            {"timeout", "--timeout"}};
  for (const auto& [key, flag] : kFlags) {
    if (auto value = setting(board, key))
      command += std::string(" ") + flag + " " + command_word(*value);
  }
  return command + " " + std::string(action);
}

std::string seconds_text(double seconds) {
  std::ostringstream out;
  out << seconds;
  return out.str();
}

// The problem of a field, or the field's value.
using Checked = std::variant<std::string, std::string>;

Checked shell_command(const Board& board, const std::string& key) {
  auto pattern = setting(board, key);
  if (!pattern) {
    return Checked(std::in_place_index<1>, "power." + key + ": the command driver needs it");
  }
  auto expanded = expand_command(*pattern, board_fields(board));
  if (expanded.index() == 1) {
    return Checked(std::in_place_index<1>, "power." + key + ": " + std::get<1>(expanded));
  }
  // rig runs these through /bin/sh; LAVA runs commands without a shell.
  return Checked(std::in_place_index<0>, "sh -c " + shell_quote(std::get<0>(expanded)));
}

}  // namespace

std::variant<PowerCommands, std::string> power_commands(const Board& board) {
  PowerCommands c;
  if (board.power.driver == "hs100") {
    if (!setting(board, "address")) return "power.address: an hs100 plug needs its address";
    c.on = plugctl(board, "on");
    c.off = plugctl(board, "off");
  } else if (board.power.driver == "command") {
    Checked on = shell_command(board, "on"), off = shell_command(board, "off");
    if (on.index() == 1) return std::get<1>(on);
    if (off.index() == 1) return std::get<1>(off);
    c.on = std::get<0>(on);
    c.off = std::get<0>(off);
  } else {
    return "power.driver: LAVA export knows hs100 and command, not '" + board.power.driver +
           "'; add the driver to rig/lava/device_dictionary.cc";
  }
  c.reset = {c.off, "sleep " + seconds_text(board.off_time_s), c.on};
  return c;
}

std::variant<std::string, std::string> connection_command(const Board& board) {
  using Result = std::variant<std::string, std::string>;
  if (!board.console) {
    return Result(std::in_place_index<1>,
                  "console: LAVA drives a board through its serial console; add console: "
                  "HOST:PORT (ser2net, conmux...) or leave the board out with --boards");
  }
  try {
    HostPort hp = parse_host_port(*board.console, 0);
    if (hp.port == 0) {
      return Result(std::in_place_index<1>,
                    "console: '" + *board.console + "' has no port; write HOST:PORT");
    }
    return Result(std::in_place_index<0>,
                  "telnet " + command_word(hp.host) + " " + std::to_string(hp.port));
  } catch (const std::invalid_argument& e) {
    return Result(std::in_place_index<1>, std::string("console: ") + e.what());
  }
}

std::variant<std::string, std::vector<std::string>> device_dictionary(const Board& board,
                                                                      std::string_view inventory) {
  std::vector<std::string> problems;
  auto power = power_commands(board);
  if (power.index() == 1) problems.push_back(std::get<1>(power));
  auto connect = connection_command(board);
  if (connect.index() == 1) problems.push_back(std::get<1>(connect));
  if (!problems.empty()) return problems;

  const LavaDeviceType& type = lava_device_type(board.boot);
  const auto& p = std::get<PowerCommands>(power);
  // Each value is a YAML scalar inside a Jinja string: the templates paste it after `key: `.
  auto set = [](std::string_view name, const std::string& yaml) {
    return "{% set " + std::string(name) + " = " + jinja_string(yaml) + " %}\n";
  };
  std::string out = "{# LAVA device dictionary of board '" + board.name + "' (" +
                    std::string(arch_name(board.arch)) + ", " +
                    std::string(boot_method_name(board.boot)) + "), written by `rig lava export`\n";
  out += "   from " + std::string(inventory) + " line " + std::to_string(board.line) + ". #}\n";
  out += "{% extends '" + std::string(type.name) + ".jinja2' %}\n";
  out += set("connection_command", yaml_scalar(std::get<0>(connect)));
  out += set("power_on_command", yaml_scalar(p.on));
  out += set("power_off_command", yaml_scalar(p.off));
  out += set("hard_reset_command", yaml_flow_list(p.reset));
  if (board.mac) out += set("device_mac", *board.mac);
  if (board.boot == BootMethod::kUboot) {
    out += set("uboot_mkimage_arch", std::string(mkimage_arch(board.arch)));
  }
  return out;
}

}  // namespace crossrig::rig::lava
