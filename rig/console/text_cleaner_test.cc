#include "rig/console/text_cleaner.h"

#include <gtest/gtest.h>

namespace crossrig::rig::console {
namespace {

std::string clean(std::string_view in) {
  TextCleaner c;
  std::string out;
  c.feed(in, out);
  return out;
}

TEST(TextCleaner, DropsCarriageReturnsAndKeepsNewlinesAndTabs) {
  EXPECT_EQ(clean("login:\r\nroot\tx\r\n"), "login:\nroot\tx\n");
}

TEST(TextCleaner, DropsColourAndCursorSequences) {
  EXPECT_EQ(clean("\x1b[0;32m  OK  \x1b[0m Started\x1b[2J\x1b[1;1H udev"), "  OK   Started udev");
  EXPECT_EQ(clean("\x1b[?25lGRUB\x1b[?25h"), "GRUB");
}

TEST(TextCleaner, DropsOscTitlesAndCharsetSelection) {
  EXPECT_EQ(clean("\x1b]0;root@board: ~\x07# "), "# ");
  EXPECT_EQ(clean("\x1b]2;title\x1b\\ok"), "ok");
  EXPECT_EQ(clean("\x1b(Bplain\x1b" "7x\x1b" "8"), "plainx");
}

TEST(TextCleaner, SequencesSplitAcrossChunksAreRemoved) {
  TextCleaner c;
  std::string out;
  for (char ch : std::string("a\x1b[1;3") + "4mb\x1b]0;t\x1b" + "\\c\r\n") {
    c.feed(std::string_view(&ch, 1), out);
  }
  EXPECT_EQ(out, "abc\n");
}

TEST(TextCleaner, UnterminatedStringGivesUpSoTextIsNotLost) {
  std::string in = "\x1b]" + std::string(TextCleaner::kMaxStringBytes, 'x') + "Linux version";
  EXPECT_EQ(clean(in), "Linux version");
}

TEST(TextCleaner, BrokenCsiEndsAtTextAndKeepsUtf8) {
  EXPECT_EQ(clean("\x1b[12\nnext"), "\nnext");
  EXPECT_EQ(clean("caf\xc3\xa9\x00\x08"), "caf\xc3\xa9");
}

}  // namespace
}  // namespace crossrig::rig::console
