#include "engine/config_file.h"

#include <gtest/gtest.h>

namespace crossrig::engine {
namespace {

TEST(ConfigToArgs, OptionsValuesAndComments) {
  auto a = config_to_args(
      "# ckpt defaults\nleave-running\n  log-file /tmp/ckpt.log  \n\n--shell-job # "
      "tty\nimages-dir=/x\n");
  std::vector<std::string> want = {"--leave-running", "--log-file",   "/tmp/ckpt.log",
                                   "--shell-job",     "--images-dir", "/x"};
  EXPECT_EQ(a, want);
}

TEST(ConfigToArgs, EmptyFileGivesNothing) {
  EXPECT_TRUE(config_to_args("\n# only a comment\n").empty());
}

}  // namespace
}  // namespace crossrig::engine
