#pragma once

#include <functional>
#include <optional>
#include <string>

namespace crossrig::rig {

/// What decides which inventory file rig reads, gathered from the process's surroundings.
struct InventoryLookup {
  /// --inventory FILE, if given.
  std::optional<std::string> flag;
  /// $XDG_RUNTIME_DIR and $RIG_INVENTORY, if set and not empty.
  std::optional<std::string> xdg_runtime_dir, rig_inventory;
  /// Reads a small text file; nullopt when it does not exist.
  std::function<std::optional<std::string>(const std::string&)> read_file;
};

/// The inventory file chosen, and why (for messages and `rig boards --json`).
struct InventoryChoice {
  std::string path;
  std::string reason;
};

/// The state file the running virtual lab writes, holding the path of its inventory:
/// $XDG_RUNTIME_DIR/rig/lab-inventory when XDG_RUNTIME_DIR is set, else /run/rig/lab-inventory.
std::string lab_state_file(const InventoryLookup& lookup);

/// Picks the inventory: --inventory, then the running lab's (the path in lab_state_file()),
/// then $RIG_INVENTORY, then ./inventory.yaml.
InventoryChoice choose_inventory(const InventoryLookup& lookup);

/// The lookup of this process (its environment and files).
InventoryLookup process_inventory_lookup(std::optional<std::string> flag);

}  // namespace crossrig::rig
