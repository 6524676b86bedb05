#include "rig/tftp/tftp_log.h"

#include <fmt/core.h>

#include <nlohmann/json.hpp>

namespace crossrig::rig::tftp {

double megabytes_per_second(const TransferRecord& r) {
  return r.seconds > 0 ? static_cast<double>(r.bytes) / r.seconds / 1e6 : 0.0;
}

std::string format_text(const TransferRecord& r) {
  std::string options;
  for (const auto& [name, value] : r.options)
    options += fmt::format(" {}={}", name, value);
  if (options.empty()) options = " -";
  std::string path = r.path == r.file || r.path.empty() ? "" : " -> " + r.path;
  std::string outcome = r.ok ? "ok" : "FAILED: " + r.error;
  return fmt::format("{} {}{} options:{} {} bytes {:.3f} s {:.1f} MB/s retransmits {} {}", r.client,
                     r.file, path, options, r.bytes, r.seconds, megabytes_per_second(r),
                     r.retransmits, outcome);
}

std::string format_json(const TransferRecord& r) {
  nlohmann::json options = nlohmann::json::object();
  for (const auto& [name, value] : r.options)
    options[name] = value;
  nlohmann::json j = {{"event", "transfer"},
                      {"client", r.client},
                      {"file", r.file},
                      {"path", r.path},
                      {"options", options},
                      {"bytes", r.bytes},
                      {"seconds", r.seconds},
                      {"mb_per_s", megabytes_per_second(r)},
                      {"retransmits", r.retransmits},
                      {"ok", r.ok}};
  if (!r.ok) j["error"] = r.error;
  // Names come from the network: invalid UTF-8 must not throw.
  return j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

}  // namespace crossrig::rig::tftp
