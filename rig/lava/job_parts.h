#pragma once

#include <yaml-cpp/yaml.h>

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "rig/inventory/board.h"
#include "rig/lava/job_definition.h"

// The parts every exported LAVA job has, whichever device type runs it.
namespace crossrig::rig::lava {

/// Seconds the job's deploy may take: downloading the files to the worker is not part of rig's
/// attempt, so a generous fixed bound.
inline constexpr int kDeploySeconds = 600;

/// Seconds each of the job's boot and test may take: the job's attempt timeout, whole seconds.
int attempt_seconds(const BoardJob& job);

/// Writes `key: {seconds: N}` into the map being emitted.
void emit_timeout(YAML::Emitter& y, const char* key, int seconds);

/// Writes the job's `timeouts`: the whole job, and the monitors' wait for each console line.
void emit_timeouts(YAML::Emitter& y, int job_seconds, int attempt);

/// Writes the rig.* metadata keys every job has (board, arch, boot method, files) into the
/// metadata map being emitted.
void emit_rig_metadata(YAML::Emitter& y, const Board& board);

/// Writes the test action (an item of `actions`) whose monitors read the ramdisk's result lines
/// on the console.
void emit_monitors_test(YAML::Emitter& y, int attempt);

/// The URLs a worker fetches the job's files from, by name: kernel, ramdisk and, with_dtb and
/// if the job has one, dtb. Each file that has none adds "job.NAME: what to fix" to problems.
std::map<std::string, std::string> job_file_urls(const BoardJob& job, const FileSource& source,
                                                 bool with_dtb, std::vector<std::string>& problems);

/// Why LAVA cannot pass this kernel command line (its boot commands carry it quoted), as
/// "job.cmdline: what to fix", or nullopt.
std::optional<std::string> cmdline_problem(const std::string& cmdline);

}  // namespace crossrig::rig::lava
