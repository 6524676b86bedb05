#pragma once

#include <nlohmann/json.hpp>
#include <ostream>
#include <string>
#include <vector>

namespace crossrig::engine {

/// One kernel feature ckpt relies on, whether this system has it, and what follows.
struct Finding {
  std::string feature;
  bool ok = false;
  bool required = false;    ///< dump/restore cannot work without it.
  std::string detail;       ///< What was observed.
  std::string consequence;  ///< What ckpt does, or cannot do, as a result.
};

/// Probes this kernel and process: ptrace, clone3 set_tid, userfaultfd, what lazy restore needs
/// of it, PAGEMAP_SCAN, soft-dirty, the dirty tracking pre-dumps get, socket diagnostics.
std::vector<Finding> check_kernel();

/// True when every required feature is present.
bool all_required_ok(const std::vector<Finding>& findings);

nlohmann::json findings_to_json(const std::vector<Finding>& findings);
void print_findings(const std::vector<Finding>& findings, std::ostream& out);

}  // namespace crossrig::engine
