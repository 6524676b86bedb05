#include <charconv>
#include <cmath>
#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "rig/matrix/markup_text.h"
#include "rig/matrix/reports.h"

namespace crossrig::rig::matrix {
namespace {

std::string esc(std::string_view s, bool attribute = true) {
  return markup_text(s, attribute);
}

std::string seconds(double s) {
  char buf[32];
  auto end = std::to_chars(buf, buf + sizeof buf, std::isfinite(s) && s > 0 ? s : 0.0,
                           std::chars_format::fixed, 3);
  return std::string(buf, end.ptr);
}

// The shortest text that reads back as v: a measurement as the job reported it.
std::string number(double v) {
  char buf[32];
  auto end = std::to_chars(buf, buf + sizeof buf, v);
  return std::string(buf, end.ptr);
}

std::string link(const Links& links, const std::string& date, const std::string& relative) {
  if (relative.empty()) return "";
  std::string base = links.url_base;
  if (!base.empty() && base.back() != '/') base += '/';
  return base + date + "/" + relative;
}

std::string join(const std::vector<std::string>& parts) {
  std::string out;
  for (const auto& p : parts) {
    if (p.empty()) continue;
    if (!out.empty()) out += "; ";
    out += p;
  }
  return out;
}

// What the cell's history says, as the first words of its message.
std::string history(const Cell& cell) {
  if (cell.regression && !cell.last_pass.empty()) return "regression: passed on " + cell.last_pass;
  if (!cell.failing_since.empty()) return "failing since " + cell.failing_since;
  return "";
}

struct Counts {
  int tests = 0, failures = 0, errors = 0, skipped = 0;
  double time = 0;
  Counts& operator+=(const Counts& o) {
    tests += o.tests;
    failures += o.failures;
    errors += o.errors;
    skipped += o.skipped;
    time += o.time;
    return *this;
  }
};

// One <testsuite>: its cases are written first so the totals in its start tag are theirs.
class Suite {
 public:
  void pass(const std::string& classname, const std::string& name, double time,
            const std::string& out = "") {
    add(classname, name, time, "", out);
  }
  void fail(const std::string& classname, const std::string& name, double time,
            const std::string& message, const std::string& out = "") {
    ++counts_.failures;
    add(classname, name, time, "<failure message=\"" + esc(message) + "\"/>", out);
  }
  void error(const std::string& classname, const std::string& name, double time,
             const std::string& message, const std::string& out = "") {
    ++counts_.errors;
    add(classname, name, time, "<error message=\"" + esc(message) + "\"/>", out);
  }
  void skip(const std::string& classname, const std::string& name, double time) {
    ++counts_.skipped;
    add(classname, name, time, "<skipped/>", "");
  }

  // The suite's element; time is the suite's own (a job's or the builds'), not its cases' sum.
  std::string finish(const std::string& name, double time, const std::string& timestamp,
                     const std::string& hostname,
                     const std::vector<std::pair<std::string, std::string>>& properties,
                     const std::string& out, Counts& totals) {
    counts_.time = std::isfinite(time) && time > 0 ? time : 0;
    totals += counts_;
    std::string xml = "  <testsuite name=\"" + esc(name) + "\" tests=\"" +
                      std::to_string(counts_.tests) + "\" failures=\"" +
                      std::to_string(counts_.failures) + "\" errors=\"" +
                      std::to_string(counts_.errors) + "\" skipped=\"" +
                      std::to_string(counts_.skipped) + "\" time=\"" + seconds(time) + "\"";
    if (!timestamp.empty()) xml += " timestamp=\"" + esc(timestamp) + "\"";
    if (!hostname.empty()) xml += " hostname=\"" + esc(hostname) + "\"";
    xml += ">\n";
    if (!properties.empty()) {
      xml += "    <properties>\n";
      for (const auto& [key, value] : properties) {
        xml += "      <property name=\"" + esc(key) + "\" value=\"" + esc(value) + "\"/>\n";
      }
      xml += "    </properties>\n";
    }
    xml += cases_;
    if (!out.empty()) xml += "    <system-out>" + esc(out, false) + "</system-out>\n";
    xml += "  </testsuite>\n";
    return xml;
  }

 private:
  void add(const std::string& classname, const std::string& name, double time,
           const std::string& outcome, const std::string& out) {
    ++counts_.tests;
    cases_ += "    <testcase classname=\"" + esc(classname) + "\" name=\"" + esc(name) +
              "\" time=\"" + seconds(time) + "\"";
    if (outcome.empty() && out.empty()) {
      cases_ += "/>\n";
      return;
    }
    cases_ += ">";
    cases_ += outcome;
    if (!out.empty()) cases_ += "<system-out>" + esc(out, false) + "</system-out>";
    cases_ += "</testcase>\n";
  }

  Counts counts_;
  std::string cases_;
};

std::string builds_suite(const Night& night, const Links& links, Counts& totals) {
  Suite suite;
  double time = 0;
  for (const auto& b : night.builds) {
    std::string log = link(links, night.date, b.log);
    std::string out = join({log.empty() ? "" : "build log: " + log,
                            b.kernel_release.empty() ? "" : "kernel " + b.kernel_release});
    if (b.ok) {
      suite.pass("builds", b.arch, b.seconds, out);
    } else {
      suite.fail("builds", b.arch, b.seconds,
                 join({"the build failed: " + b.command, log.empty() ? "" : "log: " + log}), out);
    }
    if (std::isfinite(b.seconds) && b.seconds > 0) time += b.seconds;
  }
  return suite.finish("builds", time, night.started, night.host, {}, "", totals);
}

std::string board_suite(const Night& night, const MatrixView& view, const Column& column,
                        const Links& links, Counts& totals) {
  const BoardRun* run = night.find(column.board);
  const std::string classname = column.arch + "." + column.board;
  const std::string console = link(links, night.date, column.console_log);
  const std::string console_note = console.empty() ? "" : "console log: " + console;

  // Jobs report no time per test, so cases carry 0 and the suite carries the job's time.
  Suite suite;
  bool failure_reported = false;
  for (const auto& test : view.tests) {
    const Cell* cell = view.cell(test, column.board);
    if (cell == nullptr) continue;
    const std::string log = link(links, night.date, cell->log);
    const std::string log_note = log.empty() ? "" : "console log: " + log;
    std::string out;
    if (cell->measurement) out = "measurement: " + number(*cell->measurement) + " " + cell->units;
    switch (cell->status) {
      case Status::kPass:
        suite.pass(classname, test, 0, out);
        break;
      case Status::kFail:
        suite.fail(classname, test, 0,
                   join({history(*cell).empty() ? "failed" : history(*cell), log_note}), out);
        failure_reported = true;
        break;
      case Status::kError:
        suite.error(classname, test, 0,
                    join({"the test did not complete", history(*cell), log_note}), out);
        failure_reported = true;
        break;
      case Status::kMiss:
        suite.error(classname, test, 0, join({"not reported tonight", history(*cell), log_note}),
                    out);
        break;
      case Status::kSkip:
        suite.skip(classname, test, 0);
        break;
    }
  }
  // The job's own outcome is a case too, so a job that could not run (or failed without any
  // test saying why) is never a green or empty suite in CI.
  double job_seconds = run ? run->seconds : 0;
  if (column.result == "error") {
    suite.error(
        classname, "job", job_seconds,
        join({column.error.empty() ? "the job did not complete" : column.error, console_note}));
  } else if (column.result == "fail" && !failure_reported) {
    suite.fail(classname, "job", job_seconds,
               join({"the job failed but no test of it failed", console_note}));
  }

  std::vector<std::pair<std::string, std::string>> properties = {
      {"arch", column.arch}, {"boot", column.boot}, {"result", column.result}};
  if (!console.empty()) properties.emplace_back("console_log", console);
  if (run && !run->kernel.empty()) properties.emplace_back("kernel", run->kernel);
  return suite.finish(column.board, job_seconds, run ? run->started : "", night.host, properties,
                      console_note, totals);
}

}  // namespace

std::string junit_xml(const Night& night, const MatrixView& view, const Links& links) {
  Counts totals;
  // A night without builds (no --build) has no builds suite: an empty suite reads as a pass.
  std::string suites = night.builds.empty() ? "" : builds_suite(night, links, totals);
  for (const auto& column : view.columns)
    suites += board_suite(night, view, column, links, totals);
  return "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<testsuites name=\"" +
         esc("crossrig matrix " + night.date) + "\" tests=\"" + std::to_string(totals.tests) +
         "\" failures=\"" + std::to_string(totals.failures) + "\" errors=\"" +
         std::to_string(totals.errors) + "\" skipped=\"" + std::to_string(totals.skipped) +
         "\" time=\"" + seconds(totals.time) + "\"" +
         (night.started.empty() ? "" : " timestamp=\"" + esc(night.started) + "\"") + ">\n" +
         suites + "</testsuites>\n";
}

}  // namespace crossrig::rig::matrix
