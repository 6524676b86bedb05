#include "rig/inventory/inventory_path.h"

#include <cstdlib>
#include <fstream>

namespace crossrig::rig {

namespace {

std::optional<std::string> env(const char* name) {
  const char* value = std::getenv(name);
  if (!value || !*value) return std::nullopt;
  return std::string(value);
}

std::optional<std::string> read_small_file(const std::string& path) {
  std::ifstream in(path);
  if (!in) return std::nullopt;
  std::string text(4096, '\0');
  in.read(text.data(), static_cast<std::streamsize>(text.size()));
  text.resize(static_cast<std::size_t>(in.gcount()));
  return text;
}

std::string trimmed(const std::string& text) {
  auto begin = text.find_first_not_of(" \t\r\n");
  if (begin == std::string::npos) return "";
  auto end = text.find_last_not_of(" \t\r\n");
  return text.substr(begin, end - begin + 1);
}

}  // namespace

std::string lab_state_file(const InventoryLookup& lookup) {
  if (lookup.xdg_runtime_dir) return *lookup.xdg_runtime_dir + "/rig/lab-inventory";
  return "/run/rig/lab-inventory";
}

InventoryChoice choose_inventory(const InventoryLookup& lookup) {
  if (lookup.flag) return {*lookup.flag, "--inventory"};
  std::string state = lab_state_file(lookup);
  if (auto text = lookup.read_file(state)) {
    std::string path = trimmed(*text);
    // An empty state file is a lab being torn down: fall through as if it were gone.
    if (!path.empty()) return {path, "the running lab (" + state + ")"};
  }
  if (lookup.rig_inventory) return {*lookup.rig_inventory, "$RIG_INVENTORY"};
  return {"inventory.yaml", "the default ./inventory.yaml"};
}

InventoryLookup process_inventory_lookup(std::optional<std::string> flag) {
  return {std::move(flag), env("XDG_RUNTIME_DIR"), env("RIG_INVENTORY"), read_small_file};
}

}  // namespace crossrig::rig
