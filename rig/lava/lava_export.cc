#include "rig/lava/lava_export.h"

#include <set>

#include "rig/lava/device_dictionary.h"
#include "rig/lava/device_types.h"
#include "rig/lava/qemu_job.h"

namespace crossrig::rig::lava {

ExportPlan plan_export(const Inventory& inventory, const std::vector<std::string>& boards,
                       const FileSource& source, ExportTarget target) {
  ExportPlan plan;
  std::vector<const Board*> chosen;
  if (boards.empty()) {
    for (const auto& b : inventory.boards)
      chosen.push_back(&b);
  } else {
    for (const auto& name : boards) {
      const Board* b = inventory.find(name);
      if (b) {
        chosen.push_back(b);
      } else {
        plan.problems.push_back(inventory.source + ": no board '" + name +
                                "' (rig boards lists them)");
      }
    }
  }

  std::set<BootMethod> boot_methods;
  std::vector<ExportFile> boards_files;
  for (const Board* b : chosen) {
    auto where = inventory.source + ":" + std::to_string(b->line) + ": board '" + b->name + "': ";
    const bool qemu = target == ExportTarget::kQemu;
    std::string type(qemu ? kQemuDeviceType : lava_device_type(b->boot).name);
    // A qemu device needs nothing of the board, so it is never a problem.
    using TextOrProblems = std::variant<std::string, std::vector<std::string>>;
    TextOrProblems device = qemu ? TextOrProblems(qemu_device_dictionary(*b, inventory.source))
                                 : device_dictionary(*b, inventory.source);
    if (device.index() == 1) {
      for (const auto& p : std::get<1>(device))
        plan.problems.push_back(where + p);
    } else {
      boards_files.push_back(
          {"device", "devices/" + b->name + ".jinja2", std::get<0>(device), b->name, type});
    }
    if (b->job) {
      auto job = qemu ? qemu_job_definition(*b, source, inventory.source)
                      : job_definition(*b, source, inventory.source);
      if (job.index() == 1) {
        for (const auto& p : std::get<1>(job))
          plan.problems.push_back(where + p);
      } else {
        boards_files.push_back({"job",
                                "jobs/" + b->name + "-" + std::string(kDefaultJobName) + ".yaml",
                                std::get<0>(job), b->name, type});
      }
    }
    boot_methods.insert(b->boot);
  }
  if (!plan.problems.empty()) return plan;

  // LAVA's qemu type is its own; rig writes only the types of its boards' firmware.
  for (const auto& type : lava_device_types()) {
    if (target == ExportTarget::kBoards && boot_methods.count(type.boot)) {
      plan.files.push_back({"device-type", "device-types/" + std::string(type.name) + ".jinja2",
                            std::string(type.template_text), std::string(type.name),
                            std::string(type.name)});
    }
  }
  plan.files.insert(plan.files.end(), boards_files.begin(), boards_files.end());
  return plan;
}

}  // namespace crossrig::rig::lava
