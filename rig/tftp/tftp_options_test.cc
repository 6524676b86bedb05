#include "rig/tftp/tftp_options.h"

#include <gtest/gtest.h>

namespace crossrig::rig::tftp {
namespace {

Negotiated ok(const std::vector<Option>& options, std::uint64_t size = 1000,
              OptionLimits limits = {}) {
  auto n = negotiate(options, size, limits);
  EXPECT_TRUE(std::holds_alternative<Negotiated>(n));
  return std::get<Negotiated>(n);
}

std::string refused(const std::vector<Option>& options) {
  auto n = negotiate(options, 1000, {});
  return std::holds_alternative<std::string>(n) ? std::get<std::string>(n) : "(accepted)";
}

TEST(TftpOptions, NoOptionsMeansRfc1350Defaults) {
  auto n = ok({});
  EXPECT_EQ(n.blksize, 512);
  EXPECT_EQ(n.windowsize, 1);
  EXPECT_EQ(n.timeout, std::chrono::seconds(1));
  EXPECT_TRUE(n.oack.empty());
}

TEST(TftpOptions, AcceptsAllFourAndAnswersTsizeWithTheFileSize) {
  auto n =
      ok({{"blksize", "1468"}, {"tsize", "0"}, {"timeout", "3"}, {"windowsize", "16"}}, 123456);
  EXPECT_EQ(n.blksize, 1468);
  EXPECT_EQ(n.windowsize, 16);
  EXPECT_EQ(n.timeout, std::chrono::seconds(3));
  EXPECT_EQ(n.oack,
            (std::vector<Option>{
                {"blksize", "1468"}, {"tsize", "123456"}, {"timeout", "3"}, {"windowsize", "16"}}));
}

TEST(TftpOptions, LowersValuesAboveTheLimits) {
  auto n = ok({{"blksize", "65535"}, {"windowsize", "1000"}}, 1, {1468, 32, 0});
  EXPECT_EQ(n.blksize, 1468);
  EXPECT_EQ(n.windowsize, 32);
  EXPECT_EQ(n.oack, (std::vector<Option>{{"blksize", "1468"}, {"windowsize", "32"}}));
  EXPECT_EQ(ok({{"blksize", "99999999999"}}).blksize, 65464);
}

TEST(TftpOptions, WindowsAreCutToTheByteLimitWhateverTheOptionOrder) {
  auto big = ok({{"windowsize", "16"}, {"blksize", "65464"}});
  EXPECT_EQ(big.windowsize, 2);
  EXPECT_EQ(big.oack, (std::vector<Option>{{"windowsize", "2"}, {"blksize", "65464"}}));
  EXPECT_EQ(ok({{"blksize", "1468"}, {"windowsize", "16"}}).windowsize, 16);
  EXPECT_EQ(ok({{"windowsize", "64"}}).windowsize, 64);  // 64 x 512 bytes fit
  EXPECT_EQ(ok({{"blksize", "65464"}, {"windowsize", "1"}}).windowsize, 1);
  EXPECT_EQ(ok({{"blksize", "65464"}, {"windowsize", "16"}}, 1, {65464, 64, 0}).windowsize, 16);
}

TEST(TftpOptions, IgnoresUnknownOptions) {
  auto n = ok({{"multicast", ""}, {"rollover", "0"}});
  EXPECT_TRUE(n.oack.empty());
}

TEST(TftpOptions, RefusesMalformedAndTooSmallValues) {
  EXPECT_EQ(refused({{"blksize", "7"}}), "blksize '7' is not a number from 8 to 65464");
  EXPECT_EQ(refused({{"blksize", "-1"}}), "blksize '-1' is not a number from 8 to 65464");
  EXPECT_EQ(refused({{"blksize", "12ab"}}), "blksize '12ab' is not a number from 8 to 65464");
  EXPECT_EQ(refused({{"windowsize", "0"}}), "windowsize '0' is not a number from 1 to 65535");
  EXPECT_EQ(refused({{"timeout", "0"}}), "timeout '0' is not a number of seconds from 1 to 255");
  EXPECT_EQ(refused({{"timeout", "256"}}),
            "timeout '256' is not a number of seconds from 1 to 255");
  EXPECT_EQ(refused({{"tsize", ""}}), "tsize '' is not a number");
}

}  // namespace
}  // namespace crossrig::rig::tftp
