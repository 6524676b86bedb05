#include <gtest/gtest.h>

#include <cctype>
#include <cstdint>
#include <map>
#include <memory>
#include <span>
#include <stdexcept>
#include <string>
#include <vector>

#include "rig/matrix/matrix_view.h"
#include "rig/matrix/reports.h"
#include "rig/matrix/sample_nights.h"

namespace crossrig::rig::matrix {
namespace {

// A strict reader for the XML subset junit_xml writes (a declaration, elements, attributes,
// character data, the five entities and character references). It throws on anything that is
// not well-formed XML 1.0, so tests see the document as a CI system's parser would.
struct Element {
  std::string name;
  std::map<std::string, std::string> attrs;
  std::vector<std::unique_ptr<Element>> children;
  std::string text;

  std::vector<const Element*> all(const std::string& child) const {
    std::vector<const Element*> out;
    for (const auto& c : children) {
      if (c->name == child) out.push_back(c.get());
    }
    return out;
  }
  const Element* first(const std::string& child) const {
    auto found = all(child);
    return found.empty() ? nullptr : found.front();
  }
  std::string attr(const std::string& key) const {
    auto it = attrs.find(key);
    return it == attrs.end() ? "<absent>" : it->second;
  }
};

class XmlReader {
 public:
  explicit XmlReader(std::string_view doc) : s_(doc) {}

  std::unique_ptr<Element> document() {
    check_chars();
    if (s_.starts_with("<?xml")) {
      auto end = s_.find("?>");
      if (end == std::string_view::npos) fail("unterminated declaration");
      pos_ = end + 2;
    }
    skip_space();
    auto root = element();
    skip_space();
    if (pos_ != s_.size()) fail("content after the root element");
    return root;
  }

 private:
  [[noreturn]] void fail(const std::string& why) const {
    throw std::runtime_error(why + " at byte " + std::to_string(pos_));
  }

  // Every character must be XML 1.0's Char, in well-formed UTF-8.
  void check_chars() const {
    for (std::size_t i = 0; i < s_.size();) {
      auto b = static_cast<unsigned char>(s_[i]);
      std::size_t n = b < 0x80 ? 1 : b >= 0xF0 ? 4 : b >= 0xE0 ? 3 : b >= 0xC0 ? 2 : 0;
      if (n == 0 || i + n > s_.size())
        throw std::runtime_error("bad UTF-8 at " + std::to_string(i));
      std::uint32_t c = n == 1 ? b : b & (0x7F >> n);
      for (std::size_t k = 1; k < n; ++k) {
        auto cont = static_cast<unsigned char>(s_[i + k]);
        if ((cont & 0xC0) != 0x80) throw std::runtime_error("bad UTF-8 at " + std::to_string(i));
        c = (c << 6) | (cont & 0x3F);
      }
      bool ok = c == 0x9 || c == 0xA || c == 0xD || (c >= 0x20 && c <= 0xD7FF) ||
                (c >= 0xE000 && c <= 0xFFFD) || (c >= 0x10000 && c <= 0x10FFFF);
      if (!ok) throw std::runtime_error("character XML forbids at " + std::to_string(i));
      i += n;
    }
  }

  void skip_space() {
    while (pos_ < s_.size() && std::string_view(" \t\r\n").find(s_[pos_]) != std::string_view::npos)
      ++pos_;
  }

  std::string name() {
    std::size_t start = pos_;
    while (pos_ < s_.size() && (std::isalnum(static_cast<unsigned char>(s_[pos_])) ||
                                s_[pos_] == '-' || s_[pos_] == '_' || s_[pos_] == ':'))
      ++pos_;
    if (pos_ == start) fail("expected a name");
    return std::string(s_.substr(start, pos_ - start));
  }

  void expect(char c) {
    if (pos_ >= s_.size() || s_[pos_] != c) fail(std::string("expected '") + c + "'");
    ++pos_;
  }

  // Character data up to stop, with references decoded; a raw '<' or '&' is an error.
  std::string chars(char stop) {
    std::string out;
    while (pos_ < s_.size() && s_[pos_] != stop) {
      char c = s_[pos_];
      if (c == '<') fail("raw '<' in text");
      if (c != '&') {
        out += c;
        ++pos_;
        continue;
      }
      auto end = s_.find(';', pos_);
      if (end == std::string_view::npos) fail("unterminated reference");
      std::string ref(s_.substr(pos_ + 1, end - pos_ - 1));
      static const std::map<std::string, std::string> kEntities = {
          {"amp", "&"}, {"lt", "<"}, {"gt", ">"}, {"quot", "\""}, {"apos", "'"}};
      if (auto it = kEntities.find(ref); it != kEntities.end()) {
        out += it->second;
      } else if (ref.size() > 1 && ref[0] == '#' && ref[1] != 'x' &&
                 ref.find_first_not_of("0123456789", 1) == std::string::npos) {
        int code = std::stoi(ref.substr(1));
        if (code != 9 && code != 10 && code != 13 && (code < 0x20 || code > 0x7E))
          fail("reference outside what the test decodes");
        out += static_cast<char>(code);
      } else {
        fail("unknown reference &" + ref + ";");
      }
      pos_ = end + 1;
    }
    return out;
  }

  std::unique_ptr<Element> element() {
    expect('<');
    auto e = std::make_unique<Element>();
    e->name = name();
    for (;;) {
      std::size_t before = pos_;
      skip_space();
      if (pos_ < s_.size() && (s_[pos_] == '/' || s_[pos_] == '>')) break;
      if (pos_ == before) fail("attributes must be separated by space");
      std::string key = name();
      expect('=');
      expect('"');
      std::string value = chars('"');
      expect('"');
      if (!e->attrs.emplace(key, value).second) fail("duplicate attribute " + key);
    }
    if (s_.substr(pos_).starts_with("/>")) {
      pos_ += 2;
      return e;
    }
    expect('>');
    for (;;) {
      e->text += chars('<');
      if (s_.substr(pos_).starts_with("</")) break;
      e->children.push_back(element());
    }
    pos_ += 2;
    if (name() != e->name) fail("mismatched end tag for <" + e->name + ">");
    skip_space();
    expect('>');
    return e;
  }

  std::string_view s_;
  std::size_t pos_ = 0;
};

std::unique_ptr<Element> parse(const std::string& xml) {
  return XmlReader(xml).document();
}

const Links kLinks{"https://lab.example/results/"};

std::unique_ptr<Element> sample_junit() {
  auto nights = testing::sample_nights();
  const Night& tonight = nights.back();
  auto view = analyze(tonight, std::span(nights).first(nights.size() - 1));
  return parse(junit_xml(tonight, view, kLinks));
}

const Element& suite(const Element& root, const std::string& name) {
  for (const Element* s : root.all("testsuite")) {
    if (s->attr("name") == name) return *s;
  }
  throw std::runtime_error("no testsuite " + name);
}

const Element& testcase(const Element& suite, const std::string& name) {
  for (const Element* c : suite.all("testcase")) {
    if (c->attr("name") == name) return *c;
  }
  throw std::runtime_error("no testcase " + name + " in " + suite.attr("name"));
}

std::string property(const Element& suite, const std::string& name) {
  if (const Element* props = suite.first("properties")) {
    for (const Element* p : props->all("property")) {
      if (p->attr("name") == name) return p->attr("value");
    }
  }
  return "<absent>";
}

TEST(JunitXml, ASuiteForBuildsThenOnePerBoardWithItsCounts) {
  auto root = sample_junit();
  ASSERT_EQ(root->name, "testsuites");
  ASSERT_EQ(root->all("testsuite").size(), 5u);
  EXPECT_EQ(root->all("testsuite").front()->attr("name"), "builds");

  struct Expected {
    const char* suite;
    int tests, failures, errors, skipped;
  };
  // qemu-aarch64 misses ckpt/lazy; qemu-s390x's job did not run: three tests missing and the job.
  for (auto [name, tests, failures, errors, skipped] :
       {Expected{"builds", 4, 1, 0, 0}, Expected{"qemu-x86_64", 5, 1, 0, 0},
        Expected{"qemu-aarch64", 5, 0, 1, 0}, Expected{"cell", 5, 1, 0, 1},
        Expected{"qemu-s390x", 4, 0, 4, 0}}) {
    const Element& s = suite(*root, name);
    EXPECT_EQ(s.attr("tests"), std::to_string(tests)) << name;
    EXPECT_EQ(s.all("testcase").size(), static_cast<std::size_t>(tests)) << name;
    EXPECT_EQ(s.attr("failures"), std::to_string(failures)) << name;
    EXPECT_EQ(s.attr("errors"), std::to_string(errors)) << name;
    EXPECT_EQ(s.attr("skipped"), std::to_string(skipped)) << name;
    EXPECT_EQ(s.attr("hostname"), "lab1") << name;
  }
  EXPECT_EQ(root->attr("tests"), "23");
  EXPECT_EQ(root->attr("failures"), "3");
  EXPECT_EQ(root->attr("errors"), "5");
  EXPECT_EQ(root->attr("skipped"), "1");
}

TEST(JunitXml, BoardSuiteCarriesItsPropertiesAndClassname) {
  auto root = sample_junit();
  const Element& x86 = suite(*root, "qemu-x86_64");
  EXPECT_EQ(property(x86, "arch"), "x86_64");
  EXPECT_EQ(property(x86, "boot"), "ipxe");
  EXPECT_EQ(property(x86, "result"), "fail");
  EXPECT_EQ(property(x86, "console_log"),
            "https://lab.example/results/2026-12-03/qemu-x86_64/console.log");
  EXPECT_EQ(property(x86, "kernel"), "/srv/kernels/qemu-x86_64/vmlinux");
  EXPECT_EQ(x86.attr("timestamp"), "2026-12-01T02:00:00Z");
  for (const Element* c : x86.all("testcase"))
    EXPECT_EQ(c->attr("classname"), "x86_64.qemu-x86_64");
  EXPECT_EQ(testcase(x86, "ckpt/bench_dump_rate_64MiB").first("system-out")->text,
            "measurement: 870 MiB/s");
}

TEST(JunitXml, FailuresSayWhenTheyLastPassedAndWhereTheLogIs) {
  auto root = sample_junit();
  const Element* regression =
      testcase(suite(*root, "qemu-x86_64"), "ckpt/restore_threads").first("failure");
  ASSERT_NE(regression, nullptr);
  EXPECT_NE(regression->attr("message").find("regression: passed on 2026-12-02"), std::string::npos)
      << regression->attr("message");
  EXPECT_NE(regression->attr("message").find(
                "https://lab.example/results/2026-12-03/qemu-x86_64/console.log"),
            std::string::npos)
      << regression->attr("message");

  const Element* old = testcase(suite(*root, "cell"), "ckpt/restore_threads").first("failure");
  ASSERT_NE(old, nullptr);
  EXPECT_NE(old->attr("message").find("failing since 2026-12-01"), std::string::npos)
      << old->attr("message");
  EXPECT_EQ(old->attr("message").find("regression"), std::string::npos) << old->attr("message");

  const Element* missing = testcase(suite(*root, "qemu-aarch64"), "ckpt/lazy").first("error");
  ASSERT_NE(missing, nullptr);
  EXPECT_TRUE(missing->attr("message").starts_with("not reported tonight"))
      << missing->attr("message");
  EXPECT_NE(missing->attr("message").find("regression: passed on 2026-12-02"), std::string::npos)
      << missing->attr("message");
}

TEST(JunitXml, AJobThatDidNotRunIsAnErrorCaseWithItsReason) {
  auto root = sample_junit();
  const Element& s390x = suite(*root, "qemu-s390x");
  const Element* error = testcase(s390x, "job").first("error");
  ASSERT_NE(error, nullptr);
  EXPECT_NE(error->attr("message").find("the s390x build failed"), std::string::npos)
      << error->attr("message");
  EXPECT_EQ(property(s390x, "result"), "error");
  EXPECT_EQ(property(s390x, "console_log"), "<absent>") << "the job made no console log";

  const Element* build = testcase(suite(*root, "builds"), "s390x").first("failure");
  ASSERT_NE(build, nullptr);
  EXPECT_NE(build->attr("message").find("https://lab.example/results/2026-12-03/build-s390x.log"),
            std::string::npos)
      << build->attr("message");
  EXPECT_EQ(testcase(suite(*root, "builds"), "x86_64").first("failure"), nullptr);
}

Night night_of(const std::string& date, std::vector<TestResult> tests, std::string result) {
  Night n;
  n.date = date;
  n.host = "lab1";
  BoardRun run;
  run.board = "b1";
  run.arch = "x86_64";
  run.boot = "ipxe";
  run.result = std::move(result);
  run.console_log = "b1/console.log";
  run.tests = std::move(tests);
  n.boards.push_back(std::move(run));
  return n;
}

TEST(JunitXml, EveryStatusHasItsElement) {
  Night earlier = night_of("2026-01-01", {{"gone", Status::kPass, std::nullopt, ""}}, "pass");
  Night tonight = night_of("2026-01-02",
                           {{"p", Status::kPass, std::nullopt, ""},
                            {"f", Status::kFail, std::nullopt, ""},
                            {"s", Status::kSkip, std::nullopt, ""},
                            {"e", Status::kError, std::nullopt, ""}},
                           "fail");
  auto view = analyze(tonight, std::span(&earlier, 1));
  auto root = parse(junit_xml(tonight, view, kLinks));
  const Element& b1 = suite(*root, "b1");
  EXPECT_TRUE(testcase(b1, "p").children.empty());
  EXPECT_NE(testcase(b1, "f").first("failure"), nullptr);
  EXPECT_NE(testcase(b1, "s").first("skipped"), nullptr);
  EXPECT_NE(testcase(b1, "e").first("error"), nullptr);
  ASSERT_NE(testcase(b1, "gone").first("error"), nullptr);
  EXPECT_TRUE(
      testcase(b1, "gone").first("error")->attr("message").starts_with("not reported tonight"));
  EXPECT_EQ(b1.all("testcase").size(), 5u) << "the failing test explains the job's result";
}

TEST(JunitXml, AJobThatFailedWithoutAFailingTestIsAFailure) {
  Night tonight = night_of("2026-01-02", {{"p", Status::kPass, std::nullopt, ""}}, "fail");
  auto view = analyze(tonight, {});
  auto root = parse(junit_xml(tonight, view, kLinks));
  const Element& b1 = suite(*root, "b1");
  EXPECT_EQ(b1.attr("failures"), "1");
  EXPECT_NE(testcase(b1, "job").first("failure"), nullptr);
}

TEST(JunitXml, TextFromTheBoardsStaysWellFormed) {
  const std::string tricky = "a<&\"'>b";
  Night tonight = night_of("2026-01-02", {{tricky, Status::kFail, std::nullopt, ""}}, "error");
  tonight.boards[0].error = std::string("console said \x01\x1b[0m") + '\0' + "bad \xff byte\nend";
  tonight.host = "lab&1";
  auto view = analyze(tonight, {});
  const std::string xml = junit_xml(tonight, view, kLinks);
  for (char c : xml) {
    EXPECT_TRUE(static_cast<unsigned char>(c) >= 0x20 || c == '\n')
        << "control byte " << int(c) << " written raw";
  }

  std::unique_ptr<Element> root;
  ASSERT_NO_THROW(root = parse(xml)) << xml;
  const Element& b1 = suite(*root, "b1");
  EXPECT_EQ(b1.attr("hostname"), "lab&1");
  EXPECT_EQ(testcase(b1, tricky).attr("name"), tricky);
  const Element* error = testcase(b1, "job").first("error");
  ASSERT_NE(error, nullptr);
  // Each byte XML cannot carry shows as U+FFFD, so the reader sees that something was there.
  const std::string r = "\xEF\xBF\xBD";
  EXPECT_TRUE(error->attr("message").starts_with("console said " + r + r + "[0m" + r + "bad " + r +
                                                 " byte\nend"))
      << error->attr("message");
}

}  // namespace
}  // namespace crossrig::rig::matrix
