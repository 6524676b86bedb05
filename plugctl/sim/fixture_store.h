#pragma once

#include <nlohmann/json.hpp>
#include <span>
#include <string>
#include <string_view>

namespace crossrig::plugsim {

/// A fixture compiled into the binary: its file name without ".json", and its text.
struct EmbeddedFixture {
  std::string_view name;
  std::string_view text;
};

/// Every fixture of plugctl/fixtures/, generated at build time.
std::span<const EmbeddedFixture> embedded_fixtures();

/// The fixture for MODEL[@FIXTURE]: FIXTURE is an embedded name (with or without ".json") or a
/// file path; without it, the embedded fixture of that model (e.g. HS110 or "HS110(EU)"),
/// preferring XOR-era firmware (no discovery_result). Throws std::invalid_argument naming the
/// model or file and what exists.
nlohmann::json load_fixture(std::string_view model, std::string_view fixture);

}  // namespace crossrig::plugsim
