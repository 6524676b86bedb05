#pragma once

#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "rig/inventory/board.h"

namespace crossrig::rig {

/// An inventory that cannot be used; what() lists every problem found, one per line, each as
/// "FILE:LINE: board 'NAME': FIELD: what is wrong and what to write instead".
class InventoryError : public std::runtime_error {
 public:
  /// problems: one message per problem, in file order.
  explicit InventoryError(const std::vector<std::string>& problems);
  /// The problems, one per entry.
  const std::vector<std::string>& problems() const { return problems_; }

 private:
  std::vector<std::string> problems_;
};

/// Inventory files larger than this are refused (a lab has at most a few hundred boards).
inline constexpr std::size_t kMaxInventoryBytes = 1 << 20;

/// Parses and validates inventory YAML; source names it in messages. Throws InventoryError.
Inventory parse_inventory(std::string_view yaml, const std::string& source);

/// Reads and parses the inventory file at path. Throws InventoryError (also when unreadable).
Inventory load_inventory(const std::string& path);

}  // namespace crossrig::rig
