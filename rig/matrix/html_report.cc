// report.html: the page read in the morning. Plain HTML with inline CSS and SVG so that it
// opens from the results directory (file://, a static web server, an archive) with nothing
// else to fetch; every link is relative to the night's directory.

#include <algorithm>
#include <charconv>
#include <cmath>
#include <iterator>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "common/percent_encode.h"
#include "rig/matrix/markup_text.h"
#include "rig/matrix/reports.h"

namespace crossrig::rig::matrix {
namespace {

// --- Text ------------------------------------------------------------------------------------

// One escape for text and attribute values alike: every attribute below is double-quoted.
std::string esc(std::string_view text) {
  return markup_text(text);
}

// Enough digits to tell nights apart, no trailing zeros: 870, 15.5, 1.4, 0.25.
std::string number(double v) {
  double magnitude = std::fabs(v);
  int decimals = magnitude >= 100 ? 0 : magnitude >= 10 ? 1 : 2;
  char buf[400];  // the longest double in fixed notation fits
  std::string s(buf, std::to_chars(buf, std::end(buf), v, std::chars_format::fixed, decimals).ptr);
  if (s.find('.') != std::string::npos) {
    s.erase(s.find_last_not_of('0') + 1);
    if (s.back() == '.') s.pop_back();
  }
  return s == "-0" ? "0" : s;
}

std::string with_units(double v, const std::string& units) {
  return units.empty() ? number(v) : number(v) + " " + units;
}

std::string counted(int n, const std::string& singular, const std::string& plural) {
  return std::to_string(n) + " " + (n == 1 ? singular : plural);
}

// Adds name="value" (escaped) to a start tag being written.
std::string attr(std::string_view name, std::string_view value) {
  return " " + std::string(name) + "=\"" + esc(value) + "\"";
}

// --- Logs ------------------------------------------------------------------------------------

struct LogLink {
  std::string path;  // relative to the night's directory
  std::string label;
};

std::string anchor(const LogLink& link) {
  return "<a href=\"" + percent_encode_path(link.path) + "\">" + esc(link.label) + "</a>";
}

const Build* build_of(const Night& night, const std::string& arch) {
  for (const auto& b : night.builds) {
    if (b.arch == arch) return &b;
  }
  return nullptr;
}

// The log that explains a column's results: its console, or, for a job that made none because
// its arch did not build, the build's log.
std::optional<LogLink> column_log(const Night& night, const Column& column) {
  if (!column.console_log.empty()) return LogLink{column.console_log, "console log"};
  const Build* build = build_of(night, column.arch);
  if (build != nullptr && !build->ok && !build->log.empty()) {
    return LogLink{build->log, "build log"};
  }
  return std::nullopt;
}

std::optional<LogLink> cell_log(const Night& night, const Column& column, const Cell& cell) {
  if (!cell.log.empty()) return LogLink{cell.log, "console log"};
  return column_log(night, column);
}

// --- Header and the morning's list -----------------------------------------------------------

std::string_view status_label(Status s) {
  return s == Status::kMiss ? "missing" : status_name(s);
}

// What a regressed cell does tonight, as the list says it.
std::string_view tonight_phrase(Status s) {
  switch (s) {
    case Status::kFail:
      return "fails tonight";
    case Status::kError:
      return "errors tonight";
    case Status::kSkip:
      return "is skipped tonight";
    case Status::kMiss:
      return "is missing tonight";
    case Status::kPass:
      break;
  }
  return "passes tonight";
}

std::string header_section(const Night& night, const MatrixView& view) {
  const Source& src = night.source;
  std::string h = "<header>\n<h1>crossrig test matrix · " + esc(view.date) + "</h1>\n";
  h += "<p class=\"meta\">host <b>" + esc(night.host) + "</b> · started " + esc(night.started) +
       " · finished " + esc(night.finished) + " · " +
       counted(int(view.nights.size()), "night", "nights") + " of history read</p>\n";
  h += "<p class=\"meta\">source <b><code>" + esc(src.describe) + "</code></b>";
  if (!src.branch.empty()) h += " · branch <code>" + esc(src.branch) + "</code>";
  if (!src.commit.empty()) h += " · commit <code>" + esc(src.commit) + "</code>";
  if (!src.repository.empty()) h += " · <code>" + esc(src.repository) + "</code>";
  h += "</p>\n<p class=\"totals\">";
  h += "<span class=\"count regressions" + std::string(view.regressions > 0 ? " bad" : "") +
       "\" data-count=\"regressions\">" + counted(view.regressions, "regression", "regressions") +
       "</span>";
  struct Total {
    int n;
    const char *cls, *label;
  };
  for (const Total& t :
       {Total{view.fixes, "fixed", "fixed"}, Total{view.passed, "pass", "passed"},
        Total{view.failed, "fail", "failed"}, Total{view.errors, "error", "errors"},
        Total{view.skipped, "skip", "skipped"}, Total{view.missing, "miss", "missing"}}) {
    h += " <span class=\"count " + std::string(t.cls) + "\" data-count=\"" + t.label + "\">" +
         std::to_string(t.n) + " " + t.label + "</span>";
  }
  h += "</p>\n</header>\n";
  return h;
}

bool job_incomplete(const Column& column) {
  return column.result == "error";
}

std::string regression_item(const Night& night, const Column& column, const std::string& test,
                            const Cell& cell) {
  std::string li = "<li" + attr("data-test", test) + attr("data-board", column.board) + "><b>" +
                   esc(test) + "</b> on " + esc(column.board) + " (" + esc(column.arch) + "): ";
  li += cell.last_pass.empty() ? "passed the night before" : "passed " + esc(cell.last_pass);
  li += ", " + std::string(tonight_phrase(cell.status));
  if (auto log = cell_log(night, column, cell)) li += " — " + anchor(*log);
  return li + "</li>\n";
}

// A job that did not complete takes all its tests with it: one line for the board, not one per
// test, so the list still reads as what broke.
std::string incomplete_job_item(const Night& night, const MatrixView& view, const Column& column) {
  std::vector<std::string> lost;
  for (const auto& test : view.tests) {
    const Cell* cell = view.cell(test, column.board);
    if (cell != nullptr && cell->regression) lost.push_back(test);
  }
  std::string li = "<li" + attr("data-board", column.board) + "><b>" + esc(column.board) +
                   "</b> (" + esc(column.arch) + "): the job did not complete";
  if (!column.error.empty()) li += " — " + esc(column.error);
  if (!lost.empty()) {
    li += "; " + counted(int(lost.size()), "test that passed has", "tests that passed have") +
          " no result tonight: ";
    for (std::size_t i = 0; i < lost.size(); ++i)
      li += (i ? ", " : "") + esc(lost[i]);
  }
  if (auto log = column_log(night, column)) li += " — " + anchor(*log);
  return li + "</li>\n";
}

std::string attention_section(const Night& night, const MatrixView& view) {
  std::string items;
  for (const auto& column : view.columns) {
    if (job_incomplete(column)) items += incomplete_job_item(night, view, column);
  }
  for (const auto& test : view.tests) {
    for (const auto& column : view.columns) {
      const Cell* cell = view.cell(test, column.board);
      if (cell != nullptr && cell->regression && !job_incomplete(column)) {
        items += regression_item(night, column, test, *cell);
      }
    }
  }
  std::string fixed;
  for (const auto& test : view.tests) {
    for (const auto& column : view.columns) {
      const Cell* cell = view.cell(test, column.board);
      if (cell == nullptr || !cell->fixed) continue;
      fixed += std::string(fixed.empty() ? "" : "; ") + "<b>" + esc(test) + "</b> on " +
               esc(column.board) + " (" + esc(column.arch) + ")";
      if (cell->previous) fixed += ", was " + std::string(status_label(*cell->previous));
    }
  }
  std::string s = "<section id=\"regressions\">\n<h2>Regressions</h2>\n";
  s += items.empty() ? "<p class=\"none\">Nothing that passed the night before broke.</p>\n"
                     : "<ul class=\"regressions\">\n" + items + "</ul>\n";
  if (!fixed.empty()) s += "<p class=\"fixed-list\">Fixed tonight: " + fixed + ".</p>\n";
  return s + "</section>\n";
}

// --- Builds ----------------------------------------------------------------------------------

std::string builds_section(const Night& night) {
  std::string s =
      "<section id=\"builds\">\n<h2>Builds</h2>\n<table class=\"builds\">\n<thead><tr><th>arch</th>"
      "<th>result</th><th>seconds</th><th>kernel release</th><th>log</th></tr></thead>\n<tbody>\n";
  for (const auto& b : night.builds) {
    const char* result = b.ok ? "ok" : "failed";
    s += "<tr" + attr("data-arch", b.arch) + attr("data-status", result) + "><th>" + esc(b.arch) +
         "</th><td class=\"" + (b.ok ? "pass" : "fail") + "\">" + result +
         "</td><td class=\"num\">" + number(b.seconds) + "</td><td>" + esc(b.kernel_release) +
         "</td><td>" + (b.log.empty() ? "" : anchor({b.log, "build log"})) + "</td></tr>\n";
  }
  return s + "</tbody>\n</table>\n</section>\n";
}

// --- The grid --------------------------------------------------------------------------------

std::string column_header(const Column& c) {
  return "<th scope=\"col\"" + attr("data-arch", c.arch) + attr("data-board", c.board) + ">" +
         esc(c.arch) + "<br><small>" + esc(c.board) + (c.boot.empty() ? "" : " · " + esc(c.boot)) +
         "</small></th>";
}

// The job's own row: how it ended, how long the board took to boot, and why it did not run.
std::string job_cell(const Night& night, const Column& c) {
  std::string cls = c.result == "pass" || c.result == "fail" ? c.result : "error";
  std::string td = "<td class=\"job " + cls + "\"" + attr("data-board", c.board) +
                   attr("data-arch", c.arch) + attr("data-result", c.result) + ">job " +
                   esc(c.result);
  if (c.boot_seconds) td += "<br><small>boot " + number(*c.boot_seconds) + " s</small>";
  if (!c.error.empty()) td += "<br><span class=\"job-error\">" + esc(c.error) + "</span>";
  if (auto log = column_log(night, c)) td += "<br><small>" + anchor(*log) + "</small>";
  return td + "</td>";
}

std::string cell_title(const Cell& cell) {
  std::string t;
  if (cell.previous) t = "the night before: " + std::string(status_label(*cell.previous));
  if (cell.status != Status::kPass) {
    t += std::string(t.empty() ? "" : "; ") + (cell.last_pass.empty()
                                                   ? "never passed in the nights read"
                                                   : "last passed " + cell.last_pass);
  }
  return t;
}

std::string grid_cell(const Night& night, const Column& column, const std::string& test,
                      const Cell* cell) {
  std::string td = "<td" + attr("data-test", test) + attr("data-board", column.board) +
                   attr("data-arch", column.arch);
  if (cell == nullptr) return td + " class=\"empty\"></td>";
  std::string_view status = status_name(cell->status);
  std::string cls =
      std::string(status) + (cell->regression ? " regression" : "") + (cell->fixed ? " fixed" : "");
  td += attr("class", cls) + attr("data-status", status);
  if (cell->regression) td += " data-regression=\"\"";
  if (cell->fixed) td += " data-fixed=\"\"";
  std::string title = cell_title(*cell);
  if (!title.empty()) td += attr("title", title);
  td += "><span class=\"status\">" + std::string(status_label(cell->status)) + "</span>";
  if (cell->regression) td += " <span class=\"mark new\">▼ new</span>";
  if (cell->fixed) td += " <span class=\"mark fixed\">▲ fixed</span>";
  if (cell->measurement) {
    td +=
        "<br><span class=\"value\">" + esc(with_units(*cell->measurement, cell->units)) + "</span>";
  }
  if (cell->status != Status::kPass) {
    td += "<br><small>";
    if (!cell->failing_since.empty()) td += "since " + esc(cell->failing_since);
    if (auto log = cell_log(night, column, *cell)) {
      td += (cell->failing_since.empty() ? "" : " · ") + anchor(*log);
    }
    td += "</small>";
  }
  return td + "</td>";
}

std::string grid_section(const Night& night, const MatrixView& view) {
  std::string s =
      "<section id=\"grid\">\n<h2>Tests</h2>\n<div class=\"grid-wrap\">\n<table class=\"grid\">\n"
      "<thead><tr><th scope=\"col\" class=\"corner\">test</th>";
  for (const auto& c : view.columns)
    s += column_header(c);
  s += "</tr></thead>\n<tbody>\n<tr class=\"jobs\"><th scope=\"row\">job</th>";
  for (const auto& c : view.columns)
    s += job_cell(night, c);
  s += "</tr>\n";
  for (const auto& test : view.tests) {
    s += "<tr" + attr("data-test", test) + "><th scope=\"row\">" + esc(test) + "</th>";
    for (const auto& c : view.columns)
      s += grid_cell(night, c, test, view.cell(test, c.board));
    s += "</tr>\n";
  }
  return s + "</tbody>\n</table>\n</div>\n</section>\n";
}

// --- Plots -----------------------------------------------------------------------------------

// Colour-blind-safe (Okabe & Ito), fixed per series name across every plot of the page.
constexpr const char* kPalette[] = {"#0072B2", "#D55E00", "#009E73", "#CC79A7",
                                    "#E69F00", "#56B4E9", "#000000", "#999999"};

// The drawing area of every chart; the legend to its right is as wide as its longest name.
constexpr double kLeft = 56, kTop = 22, kPlotW = 454, kPlotH = 194, kBottom = 34;
constexpr double kLegendX = kLeft + kPlotW + 14, kLegendRow = 16;

std::string coord(double v) {
  char buf[400];
  return {buf, std::to_chars(buf, std::end(buf), v, std::chars_format::fixed, 1).ptr};
}

struct Axis {
  double lo, hi, step;
};

// From zero (times and rates read best against it) to a round number above the largest
// value, in steps of 1, 2 or 5 × 10^k; equal values still get a range.
Axis y_axis(double lo, double hi) {
  lo = std::min(lo, 0.0);
  hi = std::max(hi, 0.0);
  if (hi - lo <= 0) hi = lo + 1;
  double raw = (hi - lo) / 5;
  double magnitude = std::pow(10, std::floor(std::log10(raw)));
  double r = raw / magnitude;
  double step = magnitude * (r <= 1 ? 1 : r <= 2 ? 2 : r <= 5 ? 5 : 10);
  return {std::floor(lo / step) * step, std::ceil(hi / step) * step, step};
}

// Where nights and values land in the drawing area.
struct Frame {
  std::vector<std::string> dates;  // every night of the plot, oldest first
  Axis axis;

  double x(std::size_t i) const {
    return dates.size() == 1 ? kLeft + kPlotW / 2
                             : kLeft + kPlotW * double(i) / double(dates.size() - 1);
  }
  double y(double v) const { return kTop + kPlotH * (1 - (v - axis.lo) / (axis.hi - axis.lo)); }
  std::size_t index(const std::string& date) const {
    return std::size_t(std::lower_bound(dates.begin(), dates.end(), date) - dates.begin());
  }
};

// The nights read and any other night a value has, and an axis over the finite values;
// nullopt when there is nothing to draw.
std::optional<Frame> frame_of(const Trend& trend, const std::vector<std::string>& nights) {
  std::set<std::string> dates(nights.begin(), nights.end());
  std::optional<std::pair<double, double>> range;
  for (const auto& [name, points] : trend.series) {
    for (const auto& p : points) {
      if (!std::isfinite(p.value)) continue;
      dates.insert(p.date);
      range = range ? std::pair{std::min(range->first, p.value), std::max(range->second, p.value)}
                    : std::pair{p.value, p.value};
    }
  }
  if (!range) return std::nullopt;
  return Frame{{dates.begin(), dates.end()}, y_axis(range->first, range->second)};
}

// Series in the order of the columns' arches, then any other name (a series per board where
// several boards share an arch), so that one name has one colour on the whole page.
std::vector<std::string> series_order(const MatrixView& view) {
  std::vector<std::string> order;
  auto add = [&](const std::string& name) {
    if (std::find(order.begin(), order.end(), name) == order.end()) order.push_back(name);
  };
  for (const auto& c : view.columns)
    add(c.arch);
  for (const auto& t : view.trends) {
    for (const auto& [name, points] : t.series)
      add(name);
  }
  return order;
}

std::string colour_of(const std::vector<std::string>& order, const std::string& name) {
  auto i = std::size_t(std::find(order.begin(), order.end(), name) - order.begin());
  return kPalette[i % std::size(kPalette)];
}

std::string axes_svg(const Frame& f, const std::string& units) {
  std::string g = "<g class=\"axis\">";
  auto ticks = std::lround((f.axis.hi - f.axis.lo) / f.axis.step);
  for (long k = 0; k <= ticks; ++k) {
    double v = f.axis.lo + double(k) * f.axis.step;
    g += "<line x1=\"" + coord(kLeft) + "\" x2=\"" + coord(kLeft + kPlotW) + "\" y1=\"" +
         coord(f.y(v)) + "\" y2=\"" + coord(f.y(v)) + "\"/><text x=\"" + coord(kLeft - 6) +
         "\" y=\"" + coord(f.y(v) + 4) + "\" text-anchor=\"end\">" + number(v) + "</text>";
  }
  g += "<text x=\"" + coord(kLeft - 6) + "\" y=\"" + coord(kTop - 8) + "\" text-anchor=\"end\">" +
       esc(units) + "</text>";
  // A date label is about 64 px wide: label every stride-th night, counting back from tonight
  // so the newest is always named.
  std::size_t n = f.dates.size();
  auto stride = std::max<std::size_t>(1, std::size_t(std::ceil(64.0 * double(n) / kPlotW)));
  for (std::size_t back = 0; back < n; back += stride) {
    std::size_t i = n - 1 - back;
    g += "<text x=\"" + coord(f.x(i)) + "\" y=\"" + coord(kTop + kPlotH + 18) +
         "\" text-anchor=\"middle\">" + esc(f.dates[i]) + "</text>";
  }
  return g + "</g>\n";
}

std::string point_svg(const std::string& cx, const std::string& cy, const std::string& tooltip) {
  return "<circle cx=\"" + cx + "\" cy=\"" + cy + "\" r=\"3.5\"><title>" + esc(tooltip) +
         "</title></circle>";
}

// One series: a line through consecutive nights (broken where a night has no value) and a
// point with a tooltip for each value.
std::string series_svg(const Frame& f, const std::string& name,
                       const std::vector<TrendPoint>& points, const std::string& units,
                       const std::string& colour) {
  std::string lines, dots, run;
  std::size_t next = 0;  // the night after the run's last point
  auto flush = [&] {
    if (run.find(' ') != std::string::npos) lines += "<polyline points=\"" + run + "\"/>";
    run.clear();
  };
  for (const auto& p : points) {
    if (!std::isfinite(p.value)) continue;
    std::size_t i = f.index(p.date);
    if (i != next) flush();
    next = i + 1;
    std::string cx = coord(f.x(i)), cy = coord(f.y(p.value));
    run.append(run.empty() ? "" : " ").append(cx).append(",").append(cy);
    dots += point_svg(cx, cy, name + " " + p.date + ": " + with_units(p.value, units));
  }
  flush();
  return "<g class=\"series\"" + attr("data-series", name) + " stroke=\"" + colour + "\" fill=\"" +
         colour + "\">" + lines + dots + "</g>\n";
}

std::string trend_svg(const Trend& trend, const std::vector<std::string>& nights,
                      const std::vector<std::string>& order) {
  std::size_t longest = 0;
  for (const auto& [name, points] : trend.series)
    longest = std::max(longest, name.size());
  double width = std::max(kLegendX + 40 + 6.5 * double(longest), kLeft + kPlotW + 110);
  double height =
      std::max(kTop + kPlotH + kBottom, kTop + kLegendRow * double(trend.series.size()) + 8);
  std::string name = trend.title + (trend.units.empty() ? "" : " (" + trend.units + ")");
  std::string svg = "<svg class=\"trend\"" + attr("data-trend", trend.title) + " viewBox=\"0 0 " +
                    coord(width) + " " + coord(height) + "\" width=\"" + coord(width) +
                    "\" height=\"" + coord(height) + "\" role=\"img\"" + attr("aria-label", name) +
                    ">\n<title>" + esc(name) + "</title>\n";
  std::optional<Frame> frame = frame_of(trend, nights);
  if (!frame) {
    return svg + "<text x=\"" + coord(kLeft + kPlotW / 2) + "\" y=\"" + coord(kTop + kPlotH / 2) +
           "\" text-anchor=\"middle\">no values</text>\n</svg>";
  }
  svg += axes_svg(*frame, trend.units);
  std::string legend = "<g class=\"legend\">";
  double row = kTop + 4;
  for (const auto& series : order) {
    auto it = trend.series.find(series);
    if (it == trend.series.end()) continue;
    std::string colour = colour_of(order, series);
    svg += series_svg(*frame, series, it->second, trend.units, colour);
    legend += "<line x1=\"" + coord(kLegendX) + "\" x2=\"" + coord(kLegendX + 20) + "\" y1=\"" +
              coord(row) + "\" y2=\"" + coord(row) + "\" stroke=\"" + colour + "\"/><text x=\"" +
              coord(kLegendX + 26) + "\" y=\"" + coord(row + 4) + "\">" + esc(series) + "</text>";
    row += kLegendRow;
  }
  return svg + legend + "</g>\n</svg>";
}

std::string trends_section(const MatrixView& view) {
  std::string s = "<section id=\"trends\">\n<h2>Trends</h2>\n";
  if (view.trends.empty()) s += "<p class=\"none\">No measurements to plot.</p>\n";
  std::vector<std::string> order = series_order(view);
  for (const auto& trend : view.trends) {
    s += "<figure" + attr("data-trend", trend.title) + "><figcaption>" + esc(trend.title) +
         (trend.units.empty() ? "" : " <small>(" + esc(trend.units) + ")</small>") +
         "</figcaption>\n" + trend_svg(trend, view.nights, order) + "\n</figure>\n";
  }
  return s + "</section>\n";
}

// --- Page ------------------------------------------------------------------------------------

constexpr std::string_view kStyle = R"css(
:root { --pass:#1a7f37; --pass-bg:#dcf5e3; --fail:#b42318; --fail-bg:#fde2df;
  --error:#9a3412; --error-bg:#ffe8cc; --skip:#57606a; --skip-bg:#eef0f2;
  --miss:#6d28d9; --miss-bg:#ece6fd; --line:#d0d7de; --muted:#57606a; }
body { font: 14px/1.4 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif;
  margin: 0 1.5rem 2rem; color: #1f2328; background: #fff; }
h1 { font-size: 1.45rem; margin: 1rem 0 .3rem; }
h2 { font-size: 1.1rem; margin: 1.6rem 0 .5rem; padding-bottom: .2rem;
  border-bottom: 1px solid var(--line); }
code { font: 12.5px ui-monospace, "DejaVu Sans Mono", monospace; }
small, .meta { color: var(--muted); }
.meta { margin: .1rem 0; }
a { color: #0550ae; }
.totals { margin: .6rem 0; }
.count { display: inline-block; padding: .1rem .55rem; border-radius: 1rem; margin: 0 .2rem .2rem 0;
  background: var(--skip-bg); }
.count.regressions { font-size: 1.15rem; font-weight: 700; border-radius: .3rem;
  background: var(--pass-bg); color: var(--pass); }
.count.regressions.bad { background: var(--fail); color: #fff; }
.count.pass, .count.fixed { color: var(--pass); } .count.fail { color: var(--fail); }
.count.error { color: var(--error); } .count.miss { color: var(--miss); }
ul.regressions { margin: 0; padding-left: 1.2rem; } ul.regressions li { margin: .15rem 0; }
.fixed-list { color: var(--pass); }
table { border-collapse: collapse; }
th, td { border: 1px solid var(--line); padding: .2rem .45rem; text-align: left;
  vertical-align: top; }
.builds td.num { text-align: right; font-variant-numeric: tabular-nums; }
.grid-wrap { overflow: auto; max-height: 85vh; }
.grid thead th { position: sticky; top: 0; z-index: 2; background: #f6f8fa; min-width: 9rem; }
.grid thead th.corner { left: 0; z-index: 3; min-width: 0; }
.grid tbody th { position: sticky; left: 0; z-index: 1; background: #fff; font-weight: 500;
  font-family: ui-monospace, "DejaVu Sans Mono", monospace; font-size: 12.5px;
  white-space: nowrap; }
.grid td { max-width: 16rem; }
.grid tr.jobs td, .grid tr.jobs th { background: #f6f8fa; border-bottom: 2px solid #8c959f; }
.job-error { color: var(--error); font-size: 12.5px; }
td.pass { background: var(--pass-bg); } td.fail { background: var(--fail-bg); }
td.error { background: var(--error-bg); } td.skip { background: var(--skip-bg); }
td.miss { background: var(--miss-bg); }
td .status { font-weight: 600; }
td.pass .status { color: var(--pass); } td.fail .status { color: var(--fail); }
td.error .status { color: var(--error); } td.skip .status { color: var(--skip); }
td.miss .status { color: var(--miss); }
td.regression { box-shadow: inset 0 0 0 3px var(--fail); }
td.fixed { box-shadow: inset 0 0 0 3px var(--pass); }
.mark { font-size: 12px; font-weight: 700; white-space: nowrap; }
.mark.new { color: var(--fail); } .mark.fixed { color: var(--pass); }
.value { font-variant-numeric: tabular-nums; }
figure { display: inline-block; margin: 0 1rem 1rem 0; vertical-align: top; }
figcaption { font-weight: 600; margin-bottom: .2rem; }
svg.trend { border: 1px solid var(--line); background: #fff; }
svg text { font: 11px system-ui, sans-serif; fill: #1f2328; }
svg .axis line { stroke: #e5e7eb; }
svg .series polyline { fill: none; stroke-width: 2; }
svg .legend line { stroke-width: 3; }
footer { margin-top: 2rem; color: var(--muted); font-size: 12.5px; }
)css";

}  // namespace

std::string report_html(const Night& night, const MatrixView& view) {
  std::string page =
      "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
      "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
      "<title>crossrig matrix " +
      esc(view.date) + " · " + counted(view.regressions, "regression", "regressions") +
      "</title>\n<style>" + std::string(kStyle) + "</style>\n</head>\n<body>\n";
  page += header_section(night, view);
  page += attention_section(night, view);
  page += builds_section(night);
  page += grid_section(night, view);
  page += trends_section(view);
  page +=
      "<footer>Also in this directory: <a href=\"results.json\">results.json</a> · "
      "<a href=\"junit.xml\">junit.xml</a> · <a href=\"kcidb.json\">kcidb.json</a></footer>\n";
  return page + "</body>\n</html>\n";
}

}  // namespace crossrig::rig::matrix
