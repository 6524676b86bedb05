#include "rig/console/console_paths.h"

#include <gtest/gtest.h>
#include <stdlib.h>

#include <stdexcept>

namespace crossrig::rig::console {
namespace {

TEST(ConsolePaths, SocketUnderTheRuntimeDir) {
  ::setenv("CROSSRIG_RUNTIME_DIR", "/tmp/rt", 1);
  EXPECT_EQ(mux_socket_path("qemu-arm64"), "/tmp/rt/console/qemu-arm64.sock");
  ::unsetenv("CROSSRIG_RUNTIME_DIR");
}

TEST(ConsolePaths, BoardNamesThatCouldEscapeTheDirectoryAreRefused) {
  EXPECT_THROW(check_board_name("../etc"), std::invalid_argument);
  EXPECT_THROW(check_board_name(".hidden"), std::invalid_argument);
  EXPECT_THROW(check_board_name(""), std::invalid_argument);
  EXPECT_THROW(check_board_name(std::string(65, 'a')), std::invalid_argument);
  EXPECT_NO_THROW(check_board_name("cell_qs22.lab-2"));
}

TEST(ConsolePaths, LogNameSaysBoardStartAndBoot) {
  std::chrono::system_clock::time_point t{std::chrono::milliseconds(1796110430123)};
  EXPECT_EQ(log_base_name("s390x-1", t, 3), "s390x-1-20261201T073350.123Z-boot3");
}

}  // namespace
}  // namespace crossrig::rig::console
