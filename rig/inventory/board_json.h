#pragma once

#include <nlohmann/json.hpp>
#include <string>

#include "rig/inventory/board.h"

namespace crossrig::rig {

/// The board as `rig boards --json` prints it; no credentials, only where they are read from.
nlohmann::json board_json(const Board& board);

/// One line of `rig boards`: how the board's power is switched, e.g. "hs100 10.0.0.5 outlet 2".
std::string power_summary(const Board& board);

/// The inventory chosen by --inventory and the lookup order, loaded; throws InventoryError
/// naming the file and why it was chosen.
Inventory load_chosen_inventory(const std::optional<std::string>& flag);

}  // namespace crossrig::rig
