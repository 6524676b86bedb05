#include "plugctl/sim/device_spec.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

namespace crossrig::plugsim {
namespace {

TEST(DeviceSpec, ModelAddressAndPort) {
  DeviceSpec s = parse_device_spec("HS110:127.0.0.1:9999");
  EXPECT_EQ(s.model, "HS110");
  EXPECT_EQ(s.fixture, "");
  EXPECT_EQ(s.address, "127.0.0.1");
  EXPECT_EQ(s.port, 9999);
  EXPECT_TRUE(s.serve_xor);
  EXPECT_FALSE(s.klap_port);
}

TEST(DeviceSpec, PortZeroFixtureAndIpv6) {
  DeviceSpec s = parse_device_spec("HS100@HS100(UK)_4.1_1.1.0:[::1]:0");
  EXPECT_EQ(s.model, "HS100");
  EXPECT_EQ(s.fixture, "HS100(UK)_4.1_1.1.0");
  EXPECT_EQ(s.address, "::1");
  EXPECT_EQ(s.port, 0);
  EXPECT_EQ(parse_device_spec("KP303:10.1.2.3:0").port, 0);
  EXPECT_EQ(parse_device_spec("KP303@/tmp/x.json:127.0.0.1:20").fixture, "/tmp/x.json");
}

TEST(DeviceSpec, KlapOptions) {
  DeviceSpec s = parse_device_spec(
      "HS100:127.0.0.1:0,klap=8080,klap-version=1,credentials=/run/creds,session-timeout=5,xor=off,"
      "reboot-time=0.5,name=board1,mac=50:C7:BF:00:00:01,alias=Board 1");
  EXPECT_EQ(s.klap_port, 8080);
  EXPECT_EQ(s.klap_version, plugctl::KlapVersion::kV1);
  EXPECT_EQ(s.credentials_file, "/run/creds");
  EXPECT_EQ(s.tdp_port, 20002) << "KLAP devices answer discovery on 20002 unless told";
  EXPECT_EQ(s.session_timeout, std::chrono::seconds(5));
  EXPECT_FALSE(s.serve_xor);
  EXPECT_EQ(s.reboot_time, std::chrono::milliseconds(500));
  EXPECT_EQ(s.name, "board1");
  EXPECT_EQ(s.mac, "50:C7:BF:00:00:01");
  EXPECT_EQ(s.alias, "Board 1");
  EXPECT_EQ(parse_device_spec("HS100:127.0.0.1:0,klap=0,tdp=0").tdp_port, 0);
}

TEST(DeviceSpec, RefusesWhatItCannotServe) {
  for (const char* bad :
       {"HS100", ":127.0.0.1:1", "HS100:127.0.0.1:70000", "HS100:127.0.0.1:1,klap",
        "HS100:127.0.0.1:1,klap=x", "HS100:127.0.0.1:1,klap-version=3", "HS100:127.0.0.1:1,xor=off",
        "HS100:127.0.0.1:1,password=secret", "HS100:127.0.0.1:1,session-timeout=-1"}) {
    EXPECT_THROW(parse_device_spec(bad), std::invalid_argument) << bad;
  }
}

TEST(Credentials, UserOnTheFirstLinePasswordOnTheSecond) {
  auto path =
      std::filesystem::temp_directory_path() / ("plugsim-cred-test-" + std::to_string(::getpid()));
  std::ofstream(path) << "me@example.com\r\npass word\n";
  Credentials c = read_credentials_file(path);
  EXPECT_EQ(c.username, "me@example.com");
  EXPECT_EQ(c.password, "pass word");
  std::filesystem::remove(path);
  EXPECT_THROW(read_credentials_file(path), std::runtime_error);
}

}  // namespace
}  // namespace crossrig::plugsim
