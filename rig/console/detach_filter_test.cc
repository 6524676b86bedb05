#include "rig/console/detach_filter.h"

#include <gtest/gtest.h>

#include <stdexcept>

namespace crossrig::rig::console {
namespace {

struct Typed {
  std::string forwarded;
  bool detached = false;
};

Typed type(DetachFilter& f, std::string_view keys) {
  Typed t;
  t.detached = f.feed(keys, t.forwarded);
  return t;
}

TEST(DetachFilter, TildeDotAfterEnterDetachesAndIsNotForwarded) {
  DetachFilter f({});
  Typed t = type(f, "ls\r~.more");
  EXPECT_TRUE(t.detached);
  EXPECT_EQ(t.forwarded, "ls\r");
}

TEST(DetachFilter, TildeDotAtTheVeryStartDetaches) {
  DetachFilter f({});
  EXPECT_TRUE(type(f, "~.").detached);
}

TEST(DetachFilter, SequenceSplitAcrossReadsDetaches) {
  DetachFilter f({});
  EXPECT_EQ(type(f, "x\n~").forwarded, "x\n");
  Typed t = type(f, ".");
  EXPECT_TRUE(t.detached);
  EXPECT_EQ(t.forwarded, "");
}

TEST(DetachFilter, TildeInsideALineAndOtherKeysAfterTildePassThrough) {
  DetachFilter f({});
  EXPECT_EQ(type(f, "cd ~.\r").forwarded, "cd ~.\r");
  EXPECT_EQ(type(f, "~x").forwarded, "~x");
  EXPECT_EQ(type(f, "\r~~.").forwarded, "\r~.");
}

TEST(DetachFilter, ConfiguredKeysReplaceTheDefault) {
  DetachFilter f({std::nullopt, '\x1d'});
  Typed t = type(f, "~.abc\x1dzz");
  EXPECT_TRUE(t.detached);
  EXPECT_EQ(t.forwarded, "~.abc");
}

TEST(DetachFilter, ParsesKeys) {
  EXPECT_EQ(parse_key("^]"), '\x1d');
  EXPECT_EQ(parse_key("^a"), '\x01');
  EXPECT_EQ(parse_key("%"), '%');
  EXPECT_EQ(parse_key("none"), std::nullopt);
  EXPECT_THROW(parse_key("ctrl-x"), std::invalid_argument);
}

}  // namespace
}  // namespace crossrig::rig::console
