// What the rig/lava unit tests share: a plug-powered U-Boot board, and reading a generated job.
#pragma once

#include <gtest/gtest.h>
#include <yaml-cpp/yaml.h>

#include <string>
#include <variant>
#include <vector>

#include "rig/inventory/board.h"

namespace crossrig::rig::lava::testing {

/// An aarch64 U-Boot board on an HS100 plug with a serial console server, without a job.
inline Board rpi4_board() {
  Board b;
  b.name = "rpi4";
  b.arch = Arch::kAarch64;
  b.boot = BootMethod::kUboot;
  b.power = {"hs100", {{"address", "192.168.50.30"}}};
  b.console = "192.168.50.2:7002";
  return b;
}

/// The job a generator wrote, parsed; an empty node, and a test failure naming the first
/// problem, when it refused.
inline YAML::Node parsed(const std::variant<std::string, std::vector<std::string>>& job) {
  if (job.index() == 1) {
    ADD_FAILURE() << std::get<1>(job).front();
    return {};
  }
  return YAML::Load(std::get<0>(job));
}

/// The job's action of this kind ("deploy", "boot", "test"), or a node that converts to false.
inline YAML::Node action(const YAML::Node& job, const std::string& kind) {
  for (const auto& a : job["actions"]) {
    if (a[kind]) return a[kind];
  }
  return job["no such action"];
}

}  // namespace crossrig::rig::lava::testing
