#include "rig/lava/lava_text.h"

#include <gtest/gtest.h>
#include <yaml-cpp/yaml.h>

namespace crossrig::rig::lava {
namespace {

// Strings a command or path may hold that YAML or Jinja would otherwise read differently.
const std::vector<std::string> kAwkward = {
    "plugctl -H 192.168.50.30 on",
    "sh -c 'pdu-ctl --host '\\''pdu1.lab'\\'' on'",
    "key: value # not a comment",
    "- a list?",
    "{braces} [brackets], commas",
    "\"double\" and 'single' quotes",
    "back\\slash",
    "yes",
    "null",
    "123",
    "",
    "tab\there",
    "a {% raw %} and {{ jinja }}",
    "caf\xc3\xa9",
};

TEST(LavaText, JinjaStringEscapesItsQuoteAndBackslash) {
  EXPECT_EQ(jinja_string("plain"), "'plain'");
  EXPECT_EQ(jinja_string("it's"), "\"it's\"");
  EXPECT_EQ(jinja_string("say \"a\" \"b\" 'c'"), "'say \"a\" \"b\" \\'c\\''");
  EXPECT_EQ(jinja_string("a\\b"), "'a\\\\b'");
}

TEST(LavaText, YamlScalarReadsBackAsTheSameString) {
  for (const auto& text : kAwkward) {
    std::string scalar = yaml_scalar(text);
    EXPECT_EQ(scalar.find('\n'), std::string::npos) << scalar;
    YAML::Node node = YAML::Load("key: " + scalar);
    EXPECT_EQ(node["key"].as<std::string>(), text) << scalar;
  }
}

TEST(LavaText, YamlScalarIsPlainWhenItCanBe) {
  EXPECT_EQ(yaml_scalar("telnet 192.168.50.2 7002"), "telnet 192.168.50.2 7002");
}

TEST(LavaText, YamlFlowListReadsBackAsTheSameItems) {
  std::string list = yaml_flow_list(kAwkward);
  EXPECT_EQ(list.find('\n'), std::string::npos) << list;
  YAML::Node node = YAML::Load("key: " + list);
  ASSERT_TRUE(node["key"].IsSequence()) << list;
  ASSERT_EQ(node["key"].size(), kAwkward.size());
  for (std::size_t i = 0; i < kAwkward.size(); ++i)
    EXPECT_EQ(node["key"][i].as<std::string>(), kAwkward[i]);
}

TEST(LavaText, CommandWordQuotesOnlyWhatShlexWouldSplitOrInterpret) {
  EXPECT_EQ(command_word("192.168.50.30:9999"), "192.168.50.30:9999");
  EXPECT_EQ(command_word("/etc/rig/kasa-password"), "/etc/rig/kasa-password");
  EXPECT_EQ(command_word("lab@example.com"), "lab@example.com");
  EXPECT_EQ(command_word("Plug 3"), "'Plug 3'");
  EXPECT_EQ(command_word("it's"), "'it'\\''s'");
  EXPECT_EQ(command_word(""), "''");
}

}  // namespace
}  // namespace crossrig::rig::lava
