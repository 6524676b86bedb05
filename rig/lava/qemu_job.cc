#include "rig/lava/qemu_job.h"

#include <yaml-cpp/yaml.h>

#include <array>
#include <stdexcept>

#include "rig/inventory/vocabulary.h"
#include "rig/lab/board_types.h"
#include "rig/lab/lab_plan.h"
#include "rig/lava/job_parts.h"

namespace crossrig::rig::lava {

namespace {

// How qemu.jinja2 takes each arch: its name for it in the job's `arch` (which picks
// qemu-system-ARCH; both pseries arches run qemu-system-ppc64), and whether the template puts
// the job's `machine` and `cpu` on QEMU's command line. Where it does not, they go in
// `extra_options`; where it does, passing them there too would leave two of each.
struct QemuArch {
  Arch arch;
  std::string_view lava_arch;
  bool template_machine, template_cpu;
};

constexpr std::array<QemuArch, 5> kQemuArches{{
    {Arch::kX86_64, "amd64", false, false},
    {Arch::kAarch64, "arm64", true, true},
    {Arch::kPpc64, "ppc64", true, false},
    {Arch::kPpc64le, "ppc64", true, false},
    {Arch::kS390x, "s390x", false, false},
}};

const QemuArch& qemu_arch(Arch arch) {
  for (const auto& a : kQemuArches) {
    if (a.arch == arch) return a;
  }
  throw std::logic_error("no LAVA qemu arch for an arch; add a row to kQemuArches");
}

}  // namespace

std::string qemu_device_dictionary(const Board& board, std::string_view inventory) {
  return "{# LAVA device dictionary: a QEMU on a worker, for the jobs of board '" + board.name +
         "' (" + std::string(arch_name(board.arch)) +
         ")\n   that `rig lava export --qemu` wrote from " + std::string(inventory) + " line " +
         std::to_string(board.line) +
         ".\n   The jobs set machine, CPU and memory. #}\n{% extends '" +
         std::string(kQemuDeviceType) + ".jinja2' %}\n";
}

std::variant<std::string, std::vector<std::string>> qemu_job_definition(
    const Board& board, const FileSource& source, std::string_view inventory) {
  if (!board.job)
    throw std::logic_error("qemu_job_definition() of board '" + board.name + "' without a job");
  const BoardJob& job = *board.job;
  const lab::BoardType& machine = lab::board_type(board.arch);
  const QemuArch& arch = qemu_arch(board.arch);
  std::vector<std::string> problems;

  auto urls = job_file_urls(job, source, false, problems);
  const std::string cmdline = job.cmdline.value_or(lab::default_cmdline(machine));
  if (auto problem = cmdline_problem(cmdline)) problems.push_back(*problem);
  if (!problems.empty()) return problems;

  const int attempt = attempt_seconds(job);
  YAML::Emitter y;
  auto comment = [&y](const std::string& text) { y << YAML::Comment(text) << YAML::Newline; };
  comment("LAVA job: the default job of board '" + board.name + "', run in QEMU as rig's");
  comment("virtual lab emulates a board of its arch (" + std::string(arch_name(board.arch)) +
          "). Written by `rig lava export --qemu`");
  comment("from " + std::string(inventory) + ".");
  y << YAML::BeginMap;
  y << YAML::Key << "device_type" << YAML::Value << std::string(kQemuDeviceType);
  y << YAML::Key << "job_name" << YAML::Value << board.name + " default job in QEMU";
  y << YAML::Key << "visibility" << YAML::Value << "public";
  y << YAML::Key << "priority" << YAML::Value << "medium";
  emit_timeouts(y, kDeploySeconds + 2 * attempt, attempt);

  std::vector<std::string> extra{"-no-reboot"};
  y << YAML::Key << "context" << YAML::Value << YAML::BeginMap;
  y << YAML::Key << "arch" << YAML::Value << std::string(arch.lava_arch);
  y << YAML::Key << "memory" << YAML::Value << machine.memory_mib;
  // TCG as in the lab, even on a worker with KVM: the test cases see the CPU features of the
  // lab's CPU model, not the worker's.
  y << YAML::Key << "no_kvm" << YAML::Value << true;
  if (arch.template_machine) {
    y << YAML::Key << "machine" << YAML::Value << std::string(machine.machine);
  } else {
    extra.push_back("-machine " + std::string(machine.machine));
  }
  if (!machine.cpu.empty()) {
    if (arch.template_cpu) {
      y << YAML::Key << "cpu" << YAML::Value << std::string(machine.cpu);
    } else {
      extra.push_back("-cpu " + std::string(machine.cpu));
    }
  }
  y << YAML::Key << "extra_options" << YAML::Value << YAML::Flow << extra;
  y << YAML::EndMap;

  y << YAML::Key << "metadata" << YAML::Value << YAML::BeginMap;
  emit_rig_metadata(y, board);
  y << YAML::EndMap;

  y << YAML::Key << "actions" << YAML::Value << YAML::BeginSeq;
  y << YAML::BeginMap << YAML::Key << "deploy" << YAML::Value << YAML::BeginMap;
  y << YAML::Key << "to" << YAML::Value << "tmpfs";
  emit_timeout(y, "timeout", kDeploySeconds);
  y << YAML::Key << "images" << YAML::Value << YAML::BeginMap;
  // LAVA splits QEMU's command line as a shell would, without running one: the quotes keep the
  // command line one argument.
  y << YAML::Key << "kernel" << YAML::Value << YAML::BeginMap;
  y << YAML::Key << "url" << YAML::Value << urls["kernel"];
  y << YAML::Key << "image_arg" << YAML::Value << "-kernel {kernel} -append \"" + cmdline + "\"";
  y << YAML::EndMap;
  y << YAML::Key << "initrd" << YAML::Value << YAML::BeginMap;
  y << YAML::Key << "url" << YAML::Value << urls["ramdisk"];
  y << YAML::Key << "image_arg" << YAML::Value << "-initrd {initrd}";
  y << YAML::EndMap;
  y << YAML::EndMap << YAML::EndMap << YAML::EndMap;

  y << YAML::BeginMap << YAML::Key << "boot" << YAML::Value << YAML::BeginMap;
  y << YAML::Key << "method" << YAML::Value << "qemu";
  y << YAML::Key << "media" << YAML::Value << "tmpfs";
  emit_timeout(y, "timeout", attempt);
  y << YAML::EndMap << YAML::EndMap;

  emit_monitors_test(y, attempt);
  y << YAML::EndSeq << YAML::EndMap;
  if (!y.good()) throw std::logic_error("qemu_job_definition(): " + y.GetLastError());
  return std::string(y.c_str()) + "\n";
}

}  // namespace crossrig::rig::lava
