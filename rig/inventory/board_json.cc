#include "rig/inventory/board_json.h"

#include <filesystem>

#include "rig/inventory/inventory.h"
#include "rig/inventory/inventory_path.h"
#include "rig/inventory/vocabulary.h"

namespace crossrig::rig {

nlohmann::json board_json(const Board& board) {
  nlohmann::json power = {{"driver", board.power.driver}};
  for (const char* key : {"address", "outlet", "transport"}) {
    auto it = board.power.settings.find(key);
    if (it != board.power.settings.end()) power[key] = it->second;
  }
  nlohmann::json j = {{"name", board.name},
                      {"arch", arch_name(board.arch)},
                      {"boot", boot_method_name(board.boot)},
                      {"power", power},
                      {"off_time_s", board.off_time_s}};
  for (const auto& [key, member] : kOptionalFields) {
    const auto& value = board.*member;
    j[key] = value ? nlohmann::json(*value) : nlohmann::json(nullptr);
  }
  j["job"] = nullptr;
  if (const auto& job = board.job) {
    auto or_null = [](const auto& v) { return v ? nlohmann::json(*v) : nlohmann::json(nullptr); };
    j["job"] = {{"kernel", job->kernel},
                {"ramdisk", job->ramdisk},
                {"dtb", or_null(job->dtb)},
                {"cmdline", or_null(job->cmdline)},
                {"timeout_s", or_null(job->timeout_s)}};
  }
  return j;
}

std::string power_summary(const Board& board) {
  std::string out = board.power.driver;
  const auto& s = board.power.settings;
  if (auto it = s.find("address"); it != s.end()) out += " " + it->second;
  if (auto it = s.find("outlet"); it != s.end()) out += " outlet " + it->second;
  return out;
}

Inventory load_chosen_inventory(const std::optional<std::string>& flag) {
  InventoryChoice choice = choose_inventory(process_inventory_lookup(flag));
  std::error_code ec;
  auto absolute = std::filesystem::absolute(choice.path, ec);
  std::string path = ec ? choice.path : absolute.lexically_normal().string();
  if (!std::filesystem::exists(path, ec)) {
    throw InventoryError({path + ": no inventory file here (chosen by " + choice.reason +
                          "); give --inventory FILE or set RIG_INVENTORY"});
  }
  return load_inventory(path);
}

}  // namespace crossrig::rig
