#include "rig/lava/job_definition.h"

#include <yaml-cpp/yaml.h>

#include <filesystem>
#include <stdexcept>

#include "common/percent_encode.h"
#include "rig/inventory/vocabulary.h"
#include "rig/lava/device_types.h"
#include "rig/lava/job_parts.h"
#include "rig/lava/lava_text.h"

namespace crossrig::rig::lava {

namespace fs = std::filesystem;

namespace {

// A units group that matches "" when the line has no UNITS, never "not taking part": LAVA
// passes a missing group on as None, and lava-server stores a test case's units in a column
// that may not be NULL. A missing measurement stays None, which lava-server stores as NULL.
constexpr MonitorPatterns kPatterns{
    "<LAVA_SIGNAL_STARTRUN",
    "<LAVA_SIGNAL_ENDRUN",
    R"(<LAVA_SIGNAL_TESTCASE TEST_CASE_ID=(?P<test_case_id>[^\s>]+) RESULT=(?P<result>[^\s>]+))"
    R"((?: MEASUREMENT=(?P<measurement>[^\s>]+))?(?: UNITS=)?(?P<units>(?<=UNITS=)[^\s>]+|)>)",
};

}  // namespace

std::variant<std::string, std::string> file_url(const std::string& path, const FileSource& source) {
  using Result = std::variant<std::string, std::string>;
  fs::path file = fs::path(path).lexically_normal();
  if (!source.files_url)
    return Result(std::in_place_index<0>, "file://" + percent_encode_path(file.string()));
  fs::path relative = file.lexically_relative(source.inventory_dir);
  if (relative.empty() || *relative.begin() == "..") {
    return Result(std::in_place_index<1>,
                  file.string() + " is outside " + source.inventory_dir +
                      ", the directory --files-url serves; move the file under it or leave "
                      "--files-url out for file:// URLs");
  }
  std::string base = *source.files_url;
  while (!base.empty() && base.back() == '/')
    base.pop_back();
  return Result(std::in_place_index<0>, base + "/" + percent_encode_path(relative.string()));
}

const MonitorPatterns& monitor_patterns() {
  return kPatterns;
}

std::variant<std::string, std::vector<std::string>> job_definition(const Board& board,
                                                                   const FileSource& source,
                                                                   std::string_view inventory) {
  if (!board.job)
    throw std::logic_error("job_definition() of board '" + board.name + "' without a job");
  const BoardJob& job = *board.job;
  const LavaDeviceType& type = lava_device_type(board.boot);
  std::vector<std::string> problems;

  std::map<std::string, std::string> urls;
  if (type.tftp_deploy) {
    urls = job_file_urls(job, source, true, problems);
    if (job.cmdline) {
      if (auto problem = cmdline_problem(*job.cmdline)) problems.push_back(*problem);
    }
  }
  if (!problems.empty()) return problems;

  const int attempt = attempt_seconds(job);
  YAML::Emitter y;
  auto comment = [&y](const std::string& text) { y << YAML::Comment(text) << YAML::Newline; };
  comment("LAVA job: the default job of board '" + board.name + "', written by `rig lava export`");
  comment("from " + std::string(inventory) + ".");
  if (!type.tftp_deploy) {
    comment("LAVA has no boot method for " + std::string(boot_method_name(board.boot)) +
            " firmware: this job power-cycles the board and watches its");
    comment("console. The firmware netboots what is in the board's tftp_dir (" +
            board.tftp_dir.value_or("none") + "):");
    comment("stage the metadata's kernel and ramdisk there first, as rig run does.");
  }
  y << YAML::BeginMap;
  y << YAML::Key << "device_type" << YAML::Value << std::string(type.name);
  y << YAML::Key << "job_name" << YAML::Value << board.name + " default job";
  y << YAML::Key << "visibility" << YAML::Value << "public";
  y << YAML::Key << "priority" << YAML::Value << "medium";
  // Devices are chosen by type; the tag, set on the board's device only, pins the job to it.
  y << YAML::Key << "tags" << YAML::Value << YAML::Flow << YAML::BeginSeq << board.name
    << YAML::EndSeq;
  emit_timeouts(y, (type.tftp_deploy ? kDeploySeconds : 0) + 2 * attempt, attempt);

  if (type.tftp_deploy && (job.cmdline || (board.boot == BootMethod::kUboot && !job.dtb))) {
    y << YAML::Key << "context" << YAML::Value << YAML::BeginMap;
    if (job.cmdline) y << YAML::Key << "extra_kernel_args" << YAML::Value << *job.cmdline;
    // Without a dtb of its own the kernel gets the one U-Boot runs on, as rig's script does.
    if (board.boot == BootMethod::kUboot && !job.dtb) {
      y << YAML::Key << "booti_dtb_addr" << YAML::Value << "${fdtcontroladdr}";
    }
    y << YAML::EndMap;
  }

  y << YAML::Key << "metadata" << YAML::Value << YAML::BeginMap;
  emit_rig_metadata(y, board);
  if (!type.tftp_deploy && board.tftp_dir) {
    y << YAML::Key << "rig.tftp_dir" << YAML::Value << *board.tftp_dir;
    if (job.cmdline) y << YAML::Key << "rig.cmdline" << YAML::Value << *job.cmdline;
  }
  y << YAML::EndMap;

  y << YAML::Key << "actions" << YAML::Value << YAML::BeginSeq;
  if (type.tftp_deploy) {
    y << YAML::BeginMap << YAML::Key << "deploy" << YAML::Value << YAML::BeginMap;
    y << YAML::Key << "to" << YAML::Value << "tftp";
    emit_timeout(y, "timeout", kDeploySeconds);
    y << YAML::Key << "kernel" << YAML::Value << YAML::BeginMap;
    y << YAML::Key << "url" << YAML::Value << urls["kernel"];
    // rig's U-Boot script boots with booti.
    if (board.boot == BootMethod::kUboot) y << YAML::Key << "type" << YAML::Value << "image";
    y << YAML::EndMap;
    y << YAML::Key << "ramdisk" << YAML::Value << YAML::BeginMap;
    y << YAML::Key << "url" << YAML::Value << urls["ramdisk"];
    // The ramdisk runs as built, as under rig run: no LAVA overlay or modules added.
    y << YAML::Key << "install_modules" << YAML::Value << false;
    y << YAML::Key << "install_overlay" << YAML::Value << false;
    y << YAML::EndMap;
    if (job.dtb) {
      y << YAML::Key << "dtb" << YAML::Value << YAML::BeginMap << YAML::Key << "url" << YAML::Value
        << urls["dtb"] << YAML::EndMap;
    }
    y << YAML::EndMap << YAML::EndMap;
  }

  y << YAML::BeginMap << YAML::Key << "boot" << YAML::Value << YAML::BeginMap;
  y << YAML::Key << "method" << YAML::Value << std::string(type.boot_method);
  if (type.tftp_deploy) y << YAML::Key << "commands" << YAML::Value << "ramdisk";
  emit_timeout(y, "timeout", attempt);
  y << YAML::EndMap << YAML::EndMap;

  emit_monitors_test(y, attempt);

  y << YAML::EndSeq << YAML::EndMap;
  if (!y.good()) throw std::logic_error("job_definition(): " + y.GetLastError());
  return std::string(y.c_str()) + "\n";
}

}  // namespace crossrig::rig::lava
