#include "rig/lava/job_parts.h"

#include <algorithm>
#include <cmath>

#include "rig/inventory/vocabulary.h"

namespace crossrig::rig::lava {

namespace {

// rig run's default attempt timeout, for a job that names none.
constexpr double kDefaultAttemptSeconds = 600;

}  // namespace

int attempt_seconds(const BoardJob& job) {
  return std::max(1, static_cast<int>(std::ceil(job.timeout_s.value_or(kDefaultAttemptSeconds))));
}

std::map<std::string, std::string> job_file_urls(const BoardJob& job, const FileSource& source,
                                                 bool with_dtb,
                                                 std::vector<std::string>& problems) {
  std::vector<std::pair<std::string, std::string>> files{{"kernel", job.kernel},
                                                         {"ramdisk", job.ramdisk}};
  if (with_dtb && job.dtb) files.emplace_back("dtb", *job.dtb);
  std::map<std::string, std::string> urls;
  for (const auto& [key, path] : files) {
    auto url = file_url(path, source);
    if (url.index() == 1) {
      problems.push_back("job." + key + ": " + std::get<1>(url));
    } else {
      urls[key] = std::get<0>(url);
    }
  }
  return urls;
}

void emit_timeout(YAML::Emitter& y, const char* key, int seconds) {
  y << YAML::Key << key << YAML::Value << YAML::Flow << YAML::BeginMap << YAML::Key << "seconds"
    << YAML::Value << seconds << YAML::EndMap;
}

void emit_timeouts(YAML::Emitter& y, int job_seconds, int attempt) {
  y << YAML::Key << "timeouts" << YAML::Value << YAML::BeginMap;
  emit_timeout(y, "job", job_seconds);
  // The monitors wait on the console for the start and then each result line with the
  // connection timeout, 30 s unless set: shorter than a board's boot or a long test case.
  y << YAML::Key << "connections" << YAML::Value << YAML::BeginMap;
  emit_timeout(y, "lava-test-monitor", attempt);
  y << YAML::EndMap << YAML::EndMap;
}

void emit_rig_metadata(YAML::Emitter& y, const Board& board) {
  const BoardJob& job = *board.job;
  y << YAML::Key << "rig.board" << YAML::Value << board.name;
  y << YAML::Key << "rig.arch" << YAML::Value << std::string(arch_name(board.arch));
  y << YAML::Key << "rig.boot" << YAML::Value << std::string(boot_method_name(board.boot));
  y << YAML::Key << "rig.kernel" << YAML::Value << job.kernel;
  y << YAML::Key << "rig.ramdisk" << YAML::Value << job.ramdisk;
  if (job.dtb) y << YAML::Key << "rig.dtb" << YAML::Value << *job.dtb;
}

void emit_monitors_test(YAML::Emitter& y, int attempt) {
  const MonitorPatterns& patterns = monitor_patterns();
  y << YAML::BeginMap << YAML::Key << "test" << YAML::Value << YAML::BeginMap;
  emit_timeout(y, "timeout", attempt);
  y << YAML::Key << "monitors" << YAML::Value << YAML::BeginSeq << YAML::BeginMap;
  y << YAML::Key << "name" << YAML::Value << "rig";
  y << YAML::Key << "start" << YAML::Value << std::string(patterns.start);
  y << YAML::Key << "end" << YAML::Value << std::string(patterns.end);
  y << YAML::Key << "pattern" << YAML::Value << std::string(patterns.test_case);
  y << YAML::EndMap << YAML::EndSeq;
  y << YAML::EndMap << YAML::EndMap;
}

// The command line reaches U-Boot inside `setenv bootargs '...'`, LAVA's templates inside a
// double-quoted YAML string and QEMU inside `-append "..."`, so it cannot hold either quote, a
// backslash or a control character.
std::optional<std::string> cmdline_problem(const std::string& cmdline) {
  auto bad = std::find_if(cmdline.begin(), cmdline.end(), [](unsigned char c) {
    return c == '\'' || c == '"' || c == '\\' || c < 0x20 || c == 0x7f;
  });
  if (bad == cmdline.end()) return std::nullopt;
  return "job.cmdline: LAVA's boot commands cannot carry quotes, backslashes or control "
         "characters; write the command line without them";
}

}  // namespace crossrig::rig::lava
