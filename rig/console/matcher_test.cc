#include "rig/console/matcher.h"

#include <gtest/gtest.h>

#include <stdexcept>

namespace crossrig::rig::console {
namespace {

TEST(Matcher, FindsThePromptWithoutNewline) {
  Matcher m;
  m.set_patterns({"login: $", "Kernel panic"});
  EXPECT_FALSE(m.feed("Debian GNU/Linux 12 board ttyS0\r\n\r\nboard lo"));
  auto r = m.feed("gin: ");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->pattern, 0u);
  EXPECT_EQ(r->text, "login: ");
  EXPECT_EQ(r->before, "Debian GNU/Linux 12 board ttyS0\n\nboard ");
}

TEST(Matcher, MatchesAcrossChunkBoundariesAndEscapeNoise) {
  Matcher m;
  m.set_patterns({R"(LAVA_SIGNAL_TESTCASE TEST_CASE_ID=(\S+) RESULT=(pass|fail))"});
  std::string stream =
      "\x1b[0mLAVA_SIGNAL_TESTCASE TEST_CASE_ID=ckpt-basic RESU\x1b[1mLT=pass>\r\n";
  std::optional<ExpectMatch> r;
  for (char c : stream) {
    auto got = m.feed(std::string_view(&c, 1));
    if (got) r = got;
  }
  ASSERT_TRUE(r);
  ASSERT_EQ(r->groups.size(), 2u);
  EXPECT_EQ(r->groups[0], "ckpt-basic");
  EXPECT_EQ(r->groups[1], "pass");
}

TEST(Matcher, EarliestMatchWinsAndTheRestStaysForTheNextPatterns) {
  Matcher m;
  m.set_patterns({"B", "A"});
  auto r = m.feed("xx A yy B\nzz C\n");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->pattern, 1u);
  EXPECT_EQ(r->before, "xx ");
  m.set_patterns({"C"});
  r = m.feed({});
  ASSERT_TRUE(r);
  EXPECT_EQ(r->text, "C");
  EXPECT_EQ(r->before, " yy B\nzz ");
  EXPECT_FALSE(m.feed({}));
}

TEST(Matcher, SameLineMatchesTwiceOnlyAfterTheFirstMatch) {
  Matcher m;
  m.set_patterns({"ok"});
  ASSERT_TRUE(m.feed("ok ok\n"));
  ASSERT_TRUE(m.feed({}));
  EXPECT_FALSE(m.feed({}));
}

TEST(Matcher, CaretDoesNotMatchInsideALineAfterAMatch) {
  Matcher m;
  m.set_patterns({"^# "});
  EXPECT_FALSE(m.feed("echo # \n"));
  EXPECT_TRUE(m.feed("# "));
}

TEST(Matcher, RejectsBadAndEmptyMatchingPatterns) {
  Matcher m;
  EXPECT_THROW(m.set_patterns({"("}), std::invalid_argument);
  EXPECT_THROW(m.set_patterns({"x*"}), std::invalid_argument);
  try {
    m.set_patterns({"ok", "a|"});
    FAIL();
  } catch (const std::invalid_argument& e) {
    EXPECT_NE(std::string(e.what()).find("/a|/"), std::string::npos);
  }
}

TEST(Matcher, MemoryStaysBoundedOnEndlessLinesAndText) {
  Matcher m(4096);
  m.set_patterns({"never"});
  std::string junk(100000, 'x');
  EXPECT_FALSE(m.feed(junk));
  for (int i = 0; i < 1000; ++i) EXPECT_FALSE(m.feed("line of boot noise\n"));
  m.set_patterns({"end"});
  auto r = m.feed("the end");
  ASSERT_TRUE(r);
  EXPECT_LE(r->before.size(), 4096u);
  EXPECT_EQ(r->before.substr(r->before.size() - 15), "boot noise\nthe ");
}

TEST(Matcher, RecentLinesEndWithThePartialLine) {
  Matcher m;
  m.set_patterns({"never"});
  for (int i = 0; i < 20; ++i) m.feed("line " + std::to_string(i) + "\r\n");
  m.feed("partial");
  auto lines = m.recent_lines();
  ASSERT_EQ(lines.size(), Matcher::kRecentLines + 1);
  EXPECT_EQ(lines.front(), "line 8");
  EXPECT_EQ(lines[lines.size() - 2], "line 19");
  EXPECT_EQ(lines.back(), "partial");
}

}  // namespace
}  // namespace crossrig::rig::console
