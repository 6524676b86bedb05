#pragma once

#include <optional>
#include <string>
#include <vector>

#include "rig/inventory/board.h"
#include "rig/lava/job_definition.h"

namespace crossrig::rig::lava {

/// One file `rig lava export` writes.
struct ExportFile {
  /// What it is: "device-type", "device" or "job".
  std::string kind;
  /// Relative to the output directory: device-types/T.jinja2, devices/B.jinja2, jobs/B-J.yaml.
  std::string path;
  std::string text;
  /// The board (devices, jobs) or device type (device types) it is for.
  std::string name;
  /// For devices and jobs: the board's device type.
  std::string device_type;
};

/// Everything an export writes, or why it cannot.
struct ExportPlan {
  std::vector<ExportFile> files;
  /// One per problem, as "SOURCE:LINE: board 'NAME': FIELD: what to fix"; files is empty when
  /// there are any.
  std::vector<std::string> problems;
};

/// What runs the exported jobs.
enum class ExportTarget {
  /// The boards themselves: their firmware, power and console.
  kBoards,
  /// LAVA's qemu device type, emulating each board as the virtual lab does (`--qemu`).
  kQemu,
};

/// The files of an export of boards (every board of the inventory when empty): for kBoards a
/// device type per boot method in use, and for both a device dictionary per board and a job per
/// board with a default job.
ExportPlan plan_export(const Inventory& inventory, const std::vector<std::string>& boards,
                       const FileSource& source, ExportTarget target = ExportTarget::kBoards);

}  // namespace crossrig::rig::lava
