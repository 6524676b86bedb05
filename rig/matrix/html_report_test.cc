#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "rig/matrix/reports.h"
#include "rig/matrix/sample_nights.h"

namespace crossrig::rig::matrix {
namespace {

bool has(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

std::size_t occurrences(const std::string& text, const std::string& part) {
  std::size_t n = 0;
  for (auto at = text.find(part); at != std::string::npos; at = text.find(part, at + 1))
    ++n;
  return n;
}

// The element that starts with `start` (a unique prefix of its start tag) up to its end tag.
std::string element(const std::string& page, const std::string& start, const std::string& end) {
  auto from = page.find(start);
  if (from == std::string::npos) return "";
  return page.substr(from, page.find(end, from) + end.size() - from);
}

std::string grid_cell(const std::string& page, const std::string& test, const std::string& board) {
  return element(page, "<td data-test=\"" + test + "\" data-board=\"" + board + "\"", "</td>");
}

// Every href="..." of the page.
std::vector<std::string> hrefs(const std::string& page) {
  std::vector<std::string> out;
  const std::string key = "href=\"";
  for (auto at = page.find(key); at != std::string::npos; at = page.find(key, at + 1)) {
    auto from = at + key.size();
    out.push_back(page.substr(from, page.find('"', from) - from));
  }
  return out;
}

class SamplePage : public ::testing::Test {
 protected:
  std::vector<Night> nights_ = testing::sample_nights();
  MatrixView view_ = analyze(nights_.back(), std::span(nights_).first(2));
  std::string page_ = report_html(nights_.back(), view_);
};

TEST_F(SamplePage, IsOneSelfContainedDocument) {
  EXPECT_EQ(page_.rfind("<!DOCTYPE html>", 0), 0u);
  EXPECT_TRUE(page_.ends_with("</html>\n"));
  EXPECT_TRUE(has(page_, "<style>"));
  for (const char* fetch : {"<script", "<link", "<img", "<iframe", " src=", "@import", "url("}) {
    EXPECT_FALSE(has(page_, fetch)) << fetch;
  }
  // The repository's URL appears as text; nothing links off the results directory.
  ASSERT_FALSE(hrefs(page_).empty());
  for (const auto& href : hrefs(page_)) {
    EXPECT_FALSE(has(href, "http://") || has(href, "https://") || has(href, ":")) << href;
    EXPECT_NE(href.front(), '/') << href;
  }
}

TEST_F(SamplePage, HeaderAnswersWhatBrokeFirst) {
  EXPECT_TRUE(has(page_, "2026-12-03"));
  EXPECT_TRUE(has(page_, "host <b>lab1</b>"));
  EXPECT_TRUE(has(page_, "v0.9-12-gaaaa"));
  EXPECT_TRUE(has(page_, std::string(40, 'a')));
  EXPECT_TRUE(has(page_, "branch <code>main</code>"));
  EXPECT_TRUE(has(page_, "data-count=\"regressions\">" + std::to_string(view_.regressions) +
                             " regressions</span>"));
  for (auto [n, label] : {std::pair{view_.passed, "passed"},
                          {view_.failed, "failed"},
                          {view_.errors, "errors"},
                          {view_.skipped, "skipped"},
                          {view_.missing, "missing"}}) {
    EXPECT_TRUE(has(page_, ">" + std::to_string(n) + " " + label + "</span>")) << label;
  }

  std::string list = element(page_, "<ul class=\"regressions\">", "</ul>");
  EXPECT_TRUE(has(list,
                  "<b>ckpt/restore_threads</b> on qemu-x86_64 (x86_64): passed 2026-12-02, "
                  "fails tonight — <a href=\"qemu-x86_64/console.log\">console log</a>"))
      << list;
  EXPECT_TRUE(has(list,
                  "<b>ckpt/lazy</b> on qemu-aarch64 (aarch64): passed 2026-12-02, is "
                  "missing tonight"))
      << list;
  // The board whose build failed is one line with its error, its lost tests and the build log.
  std::string s390x = element(list, "<li data-board=\"qemu-s390x\">", "</li>");
  EXPECT_TRUE(has(s390x, "the s390x build failed")) << s390x;
  EXPECT_TRUE(has(s390x, "3 tests that passed have no result tonight")) << s390x;
  EXPECT_TRUE(has(s390x, "<a href=\"build-s390x.log\">build log</a>")) << s390x;
  EXPECT_FALSE(has(list, "<b>uname</b>")) << list;
  EXPECT_TRUE(has(page_, "Fixed tonight: <b>ckpt/lazy</b> on qemu-x86_64 (x86_64), was fail"));

  EXPECT_LT(page_.find("id=\"regressions\""), page_.find("id=\"builds\""));
  EXPECT_LT(page_.find("id=\"builds\""), page_.find("id=\"grid\""));
  EXPECT_LT(page_.find("id=\"grid\""), page_.find("id=\"trends\""));
}

TEST_F(SamplePage, BuildsHaveARowPerArchWithItsLog) {
  std::string builds = element(page_, "<table class=\"builds\">", "</table>");
  EXPECT_TRUE(has(builds, "<tr data-arch=\"x86_64\" data-status=\"ok\">")) << builds;
  EXPECT_TRUE(has(builds, "6.1.0-x86_64"));
  EXPECT_TRUE(has(builds, "<a href=\"build-x86_64.log\">"));
  std::string s390x = element(builds, "<tr data-arch=\"s390x\"", "</tr>");
  EXPECT_TRUE(has(s390x, "data-status=\"failed\"")) << s390x;
  EXPECT_TRUE(has(s390x, ">failed<")) << s390x;
  EXPECT_TRUE(has(s390x, "<a href=\"build-s390x.log\">")) << s390x;
}

TEST_F(SamplePage, GridHasAColumnPerBoardHeadedByItsArchInArchOrder) {
  std::string head = element(page_, "<table class=\"grid\">", "</thead>");
  std::size_t last = 0;
  for (const std::string th :
       {"<th scope=\"col\" data-arch=\"x86_64\" data-board=\"qemu-x86_64\">x86_64<br><small>"
        "qemu-x86_64 · ipxe</small></th>",
        "<th scope=\"col\" data-arch=\"aarch64\" data-board=\"qemu-aarch64\">aarch64<br><small>"
        "qemu-aarch64 · uboot</small></th>",
        "<th scope=\"col\" data-arch=\"ppc64\" data-board=\"cell\">ppc64<br><small>cell · slof"
        "</small></th>",
        "<th scope=\"col\" data-arch=\"s390x\" data-board=\"qemu-s390x\">s390x<br><small>"
        "qemu-s390x · s390-netboot</small></th>"}) {
    auto at = head.find(th);
    ASSERT_NE(at, std::string::npos) << th << "\n" << head;
    EXPECT_GT(at, last) << th;
    last = at;
  }
  EXPECT_EQ(occurrences(head, "<th scope=\"col\" data-arch="), 4u);
}

TEST_F(SamplePage, JobRowShowsBootTimesAndWhyAJobDidNotRun) {
  std::string x86 = element(page_, "<td class=\"job fail\" data-board=\"qemu-x86_64\"", "</td>");
  EXPECT_TRUE(has(x86, "boot 7.5 s")) << x86;
  EXPECT_TRUE(has(x86, "<a href=\"qemu-x86_64/console.log\">console log</a>")) << x86;
  std::string s390x = element(page_, "<td class=\"job error\" data-board=\"qemu-s390x\"", "</td>");
  EXPECT_TRUE(has(s390x, "job error")) << s390x;
  EXPECT_TRUE(has(s390x, "the s390x build failed (see build-s390x.log); the job did not run"))
      << s390x;
  EXPECT_TRUE(has(s390x, "<a href=\"build-s390x.log\">build log</a>")) << s390x;
}

TEST_F(SamplePage, FailingCellsSayHowAndSinceWhenAndLinkTheirLog) {
  std::string regression = grid_cell(page_, "ckpt/restore_threads", "qemu-x86_64");
  EXPECT_TRUE(has(regression, "data-status=\"fail\"")) << regression;
  EXPECT_TRUE(has(regression, "class=\"fail regression\"")) << regression;
  EXPECT_TRUE(has(regression, ">fail</span> <span class=\"mark new\">▼ new</span>")) << regression;
  EXPECT_TRUE(has(regression, "since 2026-12-03")) << regression;
  EXPECT_TRUE(has(regression, "title=\"the night before: pass; last passed 2026-12-02\""))
      << regression;
  EXPECT_TRUE(has(regression, "<a href=\"qemu-x86_64/console.log\">")) << regression;

  std::string old = grid_cell(page_, "ckpt/restore_threads", "cell");
  EXPECT_TRUE(has(old, "data-status=\"fail\"")) << old;
  EXPECT_TRUE(has(old, "since 2026-12-01")) << old;
  EXPECT_TRUE(has(old, "never passed in the nights read")) << old;
  EXPECT_TRUE(has(old, "<a href=\"cell/console.log\">")) << old;
  EXPECT_FALSE(has(old, "▼")) << old;

  std::string missing = grid_cell(page_, "ckpt/lazy", "qemu-aarch64");
  EXPECT_TRUE(has(missing, "data-status=\"miss\"")) << missing;
  EXPECT_TRUE(has(missing, ">missing</span>")) << missing;
  EXPECT_TRUE(has(missing, "▼ new")) << missing;
  EXPECT_TRUE(has(missing, "<a href=\"qemu-aarch64/console.log\">")) << missing;

  // A job that made no console log because its arch did not build points at the build's log.
  std::string unbuilt = grid_cell(page_, "uname", "qemu-s390x");
  EXPECT_TRUE(has(unbuilt, "data-status=\"miss\"")) << unbuilt;
  EXPECT_TRUE(has(unbuilt, "<a href=\"build-s390x.log\">build log</a>")) << unbuilt;

  std::string skipped = grid_cell(page_, "ckpt/lazy", "cell");
  EXPECT_TRUE(has(skipped, "data-status=\"skip\"")) << skipped;
  EXPECT_TRUE(has(skipped, ">skip</span>")) << skipped;
}

TEST_F(SamplePage, EveryNotPassingCellLinksALog) {
  std::size_t checked = 0;
  for (const auto& [key, cell] : view_.cells) {
    if (cell.status == Status::kPass) continue;
    std::string td = grid_cell(page_, key.first, key.second);
    EXPECT_TRUE(has(td, "<a href=\"")) << td;
    ++checked;
  }
  EXPECT_EQ(checked, 7u);
}

TEST_F(SamplePage, PassingCellsShowFixesAndMeasurements) {
  std::string fixed = grid_cell(page_, "ckpt/lazy", "qemu-x86_64");
  EXPECT_TRUE(has(fixed, "data-status=\"pass\"")) << fixed;
  EXPECT_TRUE(has(fixed, "▲ fixed")) << fixed;
  EXPECT_FALSE(has(fixed, "since")) << fixed;

  EXPECT_TRUE(has(grid_cell(page_, "ckpt/bench_dump_rate_64MiB", "qemu-x86_64"), "870 MiB/s"));
  EXPECT_TRUE(has(grid_cell(page_, "ckpt/bench_dump_64MiB", "qemu-aarch64"), "2.1 x_dd"));
  std::string plain = grid_cell(page_, "uname", "cell");
  EXPECT_TRUE(has(plain, ">pass</span></td>")) << plain;
}

TEST_F(SamplePage, TestsABoardDidNotRunAreEmptyCells) {
  std::string empty = grid_cell(page_, "ckpt/lazy", "qemu-s390x");
  EXPECT_TRUE(has(empty, "class=\"empty\"></td>")) << empty;
  EXPECT_FALSE(has(empty, "data-status")) << empty;
  EXPECT_EQ(occurrences(page_, "class=\"empty\""), 2u);
}

TEST_F(SamplePage, PlotsOneChartPerTrendWithALinePerArch) {
  ASSERT_FALSE(view_.trends.empty());
  // In the view's order; titles with quotes are escaped, so find each chart by its place.
  std::size_t at = 0;
  for (const auto& trend : view_.trends) {
    at = page_.find("<svg class=\"trend\"", at);
    ASSERT_NE(at, std::string::npos) << trend.title;
    std::string svg = page_.substr(at, page_.find("</svg>", at) - at);
    ++at;
    EXPECT_TRUE(has(svg, " (" + trend.units + ")</title>")) << svg;
    for (const auto& [arch, points] : trend.series) {
      std::string series = element(svg, "<g class=\"series\" data-series=\"" + arch + "\"", "</g>");
      EXPECT_EQ(occurrences(series, "<circle"), points.size()) << series;
      EXPECT_TRUE(has(svg, ">" + arch + "</text>")) << "legend of " << arch;
    }
  }
  EXPECT_EQ(occurrences(page_, "<svg "), view_.trends.size());
  EXPECT_TRUE(has(page_,
                  "<svg class=\"trend\" data-trend=\"boot time (power-on to the "
                  "job&#39;s start)\""));
  std::string rate =
      element(page_, "<svg class=\"trend\" data-trend=\"ckpt/bench_dump_rate_64MiB\"", "</svg>");
  EXPECT_TRUE(has(rate, "<title>x86_64 2026-12-03: 870 MiB/s</title>")) << rate;
  EXPECT_TRUE(has(rate, ">2026-12-01</text>")) << rate;
  EXPECT_TRUE(has(rate, ">2026-12-03</text>")) << rate;
  EXPECT_TRUE(has(rate, ">1000</text>")) << rate;
  // s390x has no value tonight: its line stops at the night before.
  std::string s390x = element(rate, "<g class=\"series\" data-series=\"s390x\"", "</g>");
  EXPECT_EQ(occurrences(s390x, "<polyline"), 1u) << s390x;
  EXPECT_FALSE(has(s390x, "2026-12-03")) << s390x;
}

// A view made by hand for what the sample nights do not have.
struct Handmade {
  Night night;
  MatrixView view;

  Handmade() {
    night.date = view.date = "2026-12-09";
    night.host = "lab<2>";
    night.source.describe = "v1 & \"friends\"";
    view.nights = {"2026-12-09"};
  }
  Column& add_column(const std::string& board, const std::string& arch) {
    Column c;
    c.board = board;
    c.arch = arch;
    c.result = "fail";
    return view.columns.emplace_back(c);
  }
  std::string page() const { return report_html(night, view); }
};

TEST(HtmlReport, EscapesEverythingFromTheData) {
  Handmade h;
  Column& c = h.add_column("b'd <x>", "x86_64");
  c.error = "<script>alert(1)</script>";
  c.console_log = "we ird/con#sole?.log";
  h.view.tests = {"a<b&\"c"};
  Cell cell;
  cell.status = Status::kFail;
  cell.failing_since = "2026-12-09";
  cell.log = c.console_log;
  h.view.cells[{"a<b&\"c", "b'd <x>"}] = cell;
  std::string page = h.page();

  EXPECT_FALSE(has(page, "a<b&\"c"));
  EXPECT_FALSE(has(page, "<x>"));
  EXPECT_FALSE(has(page, "<script>"));
  EXPECT_TRUE(has(page, "<td data-test=\"a&lt;b&amp;&quot;c\" data-board=\"b&#39;d &lt;x&gt;\""))
      << page;
  EXPECT_TRUE(has(page, "<th scope=\"row\">a&lt;b&amp;&quot;c</th>"));
  EXPECT_TRUE(has(page, "&lt;script&gt;alert(1)&lt;/script&gt;"));
  EXPECT_TRUE(has(page, "host <b>lab&lt;2&gt;</b>"));
  EXPECT_TRUE(has(page, "v1 &amp; &quot;friends&quot;"));
  EXPECT_TRUE(has(page, "<a href=\"we%20ird/con%23sole%3F.log\">"));
}

TEST(HtmlReport, ControlCharactersDoNotReachThePage) {
  Handmade h;
  h.add_column("b1", "x86_64").error = std::string("bad\x1b[0m byte\x01");
  std::string page = h.page();
  EXPECT_TRUE(has(page, "bad\uFFFD[0m byte\uFFFD"));
  EXPECT_FALSE(has(page, "\x1b"));
}

TEST(HtmlReport, AJobWithoutAnyLogShowsItsErrorAndLinksNothing) {
  Handmade h;
  Column& c = h.add_column("b1", "riscv64");
  c.result = "error";
  c.error = "board b1: power plug 10.0.0.9 did not answer";
  std::string page = h.page();
  std::string job = element(page, "<td class=\"job error\" data-board=\"b1\"", "</td>");
  EXPECT_TRUE(has(job, "power plug 10.0.0.9 did not answer")) << job;
  EXPECT_FALSE(has(job, "href")) << job;
  EXPECT_TRUE(has(page, "<b>b1</b> (riscv64): the job did not complete — board b1"));
}

TEST(HtmlReport, NoRegressionsSaysSo) {
  Handmade h;
  std::string page = h.page();
  EXPECT_TRUE(has(page, ">0 regressions</span>"));
  EXPECT_TRUE(has(page, "Nothing that passed the night before broke."));
  EXPECT_TRUE(has(page, "No measurements to plot."));
  EXPECT_FALSE(has(page, "<svg"));
}

TEST(HtmlReport, PlotsCopeWithFewAndMissingValues) {
  Handmade h;
  h.view.nights = {"2026-12-07", "2026-12-08", "2026-12-09"};
  Trend gaps{"gaps", "MiB/s", {}};
  gaps.series["x86_64"] = {{"2026-12-07", 5}, {"2026-12-09", 5}};  // a night missing
  gaps.series["aarch64"] = {{"2026-12-08", 7}};                    // a single point
  gaps.series["ppc64"] = {{"2026-12-07", 1}, {"2026-12-08", 2}};   // stops before tonight
  Trend flat{"flat", "s", {}};
  flat.series["x86_64"] = {{"2026-12-07", 0}, {"2026-12-08", 0}, {"2026-12-09", 0}};
  Trend empty{"empty", "s", {}};
  empty.series["x86_64"] = {};
  h.view.trends = {gaps, flat, empty};
  std::string page = h.page();

  EXPECT_EQ(occurrences(page, "<svg "), 3u);
  for (const char* bad : {"nan", "inf", "NaN"})
    EXPECT_FALSE(has(page, bad)) << bad;
  std::string g = element(page, "<svg class=\"trend\" data-trend=\"gaps\"", "</svg>");
  auto series = [&](const std::string& svg, const std::string& arch) {
    return element(svg, "<g class=\"series\" data-series=\"" + arch + "\"", "</g>");
  };
  EXPECT_EQ(occurrences(series(g, "x86_64"), "<polyline"), 0u) << g;
  EXPECT_EQ(occurrences(series(g, "x86_64"), "<circle"), 2u) << g;
  EXPECT_EQ(occurrences(series(g, "aarch64"), "<polyline"), 0u) << g;
  EXPECT_EQ(occurrences(series(g, "aarch64"), "<circle"), 1u) << g;
  EXPECT_EQ(occurrences(series(g, "ppc64"), "<polyline"), 1u) << g;
  EXPECT_TRUE(has(g, ">2026-12-08</text>")) << g;

  // All zero: the axis still has a range and ticks.
  std::string f = element(page, "<svg class=\"trend\" data-trend=\"flat\"", "</svg>");
  EXPECT_TRUE(has(f, ">0</text>")) << f;
  EXPECT_TRUE(has(f, ">1</text>")) << f;
  EXPECT_EQ(occurrences(series(f, "x86_64"), "<polyline"), 1u) << f;

  std::string e = element(page, "<svg class=\"trend\" data-trend=\"empty\"", "</svg>");
  EXPECT_TRUE(has(e, "no values")) << e;
}

TEST(HtmlReport, ManyNightsLabelTonightAndSomeBefore) {
  Handmade h;
  Trend month{"boot time", "s", {}};
  h.view.nights.clear();
  for (int day = 1; day <= 30; ++day) {
    std::string date = "2026-11-" + std::string(day < 10 ? "0" : "") + std::to_string(day);
    h.view.nights.push_back(date);
    month.series["x86_64 board-with-a-long-name"].push_back({date, 10.0 + day % 3});
  }
  h.view.trends = {month};
  std::string svg = element(h.page(), "<svg ", "</svg>");
  EXPECT_TRUE(has(svg, ">2026-11-30</text>")) << svg;
  EXPECT_FALSE(has(svg, ">2026-11-29</text>")) << svg;
  EXPECT_LT(occurrences(svg, ">2026-11-"), 10u) << svg;
  EXPECT_EQ(occurrences(svg, "<circle"), 30u) << svg;
  EXPECT_TRUE(has(svg, ">x86_64 board-with-a-long-name</text>")) << svg;
}

TEST(HtmlReport, ASingleNightPlotsItsPointAboveItsDate) {
  Handmade h;
  Trend one{"boot time", "s", {}};
  one.series["x86_64"] = {{"2026-12-09", 7.5}};
  h.view.trends = {one};
  std::string svg = element(h.page(), "<svg ", "</svg>");
  // The point sits above tonight's date label.
  auto cx = svg.find("<circle cx=\"");
  ASSERT_NE(cx, std::string::npos) << svg;
  std::string x = svg.substr(cx + 12, svg.find('"', cx + 12) - cx - 12);
  auto label = svg.find(">2026-12-09</text>");
  EXPECT_EQ(svg.rfind("<text x=\"" + x + "\"", label), svg.rfind("<text x=\"", label)) << svg;
  EXPECT_TRUE(has(svg, "<title>x86_64 2026-12-09: 7.5 s</title>")) << svg;
  EXPECT_FALSE(has(svg, "<polyline")) << svg;
}

}  // namespace
}  // namespace crossrig::rig::matrix
