#include "plugctl/sim/state_file.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

namespace crossrig::plugsim {
namespace {

std::filesystem::path scratch() {
  auto dir =
      std::filesystem::temp_directory_path() / ("plugsim-state-test-" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  return dir;
}

TEST(StateFile, MissingFileIsAFreshStart) {
  EXPECT_TRUE(load_state_file(scratch() / "none.json").empty());
}

TEST(StateFile, RoundTripsAndLeavesNoTemporary) {
  auto path = (scratch() / "relays.json").string();
  RelayStates states = {{"strip", {true, false, true}}, {"plug", {false}}};
  save_state_file(path, states);
  EXPECT_EQ(load_state_file(path), states);
  states["plug"] = {true};
  save_state_file(path, states);
  EXPECT_EQ(load_state_file(path), states);
  EXPECT_FALSE(std::filesystem::exists(path + ".tmp"));
  std::filesystem::remove_all(scratch());
}

TEST(StateFile, RefusesAForeignFile) {
  auto path = (scratch() / "other.json").string();
  std::ofstream(path) << "[1,2,3]";
  EXPECT_THROW(load_state_file(path), std::runtime_error);
  std::filesystem::remove_all(scratch());
}

}  // namespace
}  // namespace crossrig::plugsim
