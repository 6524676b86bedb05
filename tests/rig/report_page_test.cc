// report.html as a person sees it: the sample nights' page written beside its logs, rendered
// by headless Chromium through tests/rig/check_report_page.py.

#include <gtest/gtest.h>
#include <sys/wait.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "rig/matrix/reports.h"
#include "rig/matrix/sample_nights.h"
#include "tests/support/temp_dir.h"

namespace crossrig::rig::matrix {
namespace {

namespace fs = std::filesystem;

const std::string kScript = CROSSRIG_SOURCE_DIR "/tests/rig/check_report_page.py";

struct ScriptResult {
  int exit_code = -1;
  std::string output;  // stdout and stderr
};

std::string quoted(const std::string& word) {
  std::string q = "'";
  for (char c : word)
    q += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return q + "'";
}

ScriptResult check_page(const fs::path& report, const std::vector<std::string>& archs) {
  std::string command = "python3 " + quoted(kScript) + " " + quoted(report.string());
  for (const auto& arch : archs)
    command += " " + quoted(arch);
  ScriptResult r;
  FILE* pipe = ::popen((command + " 2>&1").c_str(), "r");
  if (pipe == nullptr) return r;
  char buf[4096];
  while (std::size_t n = std::fread(buf, 1, sizeof buf, pipe))
    r.output.append(buf, n);
  int status = ::pclose(pipe);
  r.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return r;
}

void write(const fs::path& path, const std::string& text) {
  fs::create_directories(path.parent_path());
  std::ofstream(path) << text;
}

// Tonight's results directory as `rig matrix` leaves it: the page, each board's console log
// and each arch's build log.
class ReportPage : public ::testing::Test {
 protected:
  void SetUp() override {
    auto nights = testing::sample_nights();
    const Night& tonight = nights.back();
    write(report_, report_html(tonight, analyze(tonight, std::span(nights).first(2))));
    for (const auto& board : tonight.boards) {
      if (!board.console_log.empty()) write(dir_.path() / board.console_log, "boot\n");
    }
    for (const auto& build : tonight.builds)
      write(dir_.path() / build.log, "build\n");
  }

  test_support::TempDir dir_{"report-page"};
  fs::path report_ = dir_.path() / "report.html";
  const std::vector<std::string> archs_{"x86_64", "aarch64", "ppc64", "s390x"};
};

TEST_F(ReportPage, ChromiumShowsEveryArchAndEveryFailureLinksItsLog) {
  auto r = check_page(report_, archs_);
  EXPECT_EQ(r.exit_code, 0) << r.output;
  EXPECT_NE(r.output.find("x86_64 (qemu-x86_64), aarch64 (qemu-aarch64), ppc64 (cell), s390x "
                          "(qemu-s390x)"),
            std::string::npos)
      << r.output;
  EXPECT_NE(r.output.find("not passing: 6"), std::string::npos) << r.output;
}

TEST_F(ReportPage, AFailingCellsMissingLogFailsTheCheck) {
  fs::remove(dir_.path() / "qemu-x86_64/console.log");
  auto r = check_page(report_, archs_);
  EXPECT_EQ(r.exit_code, 1) << r.output;
  EXPECT_NE(r.output.find("ckpt/restore_threads on qemu-x86_64 (fail) links "
                          "qemu-x86_64/console.log, but"),
            std::string::npos)
      << r.output;
}

TEST_F(ReportPage, AnArchWithoutAColumnFailsTheCheck) {
  auto r = check_page(report_, {"x86_64", "riscv64"});
  EXPECT_EQ(r.exit_code, 1) << r.output;
  EXPECT_NE(r.output.find("no grid column for arch riscv64"), std::string::npos) << r.output;
}

// A board that errored before it made a console log, with its arch built: the page has nothing
// to link, and the check says so rather than passing a failure no one can look into.
TEST(ReportPageCheck, AFailingCellWithoutAnyLogFailsTheCheck) {
  test_support::TempDir dir("report-page");
  Night night;
  night.date = "2026-12-09";
  MatrixView view;
  view.date = night.date;
  view.nights = {night.date};
  view.columns.push_back({"b1", "x86_64", "ipxe", "error", "power plug did not answer", "", {}});
  view.tests = {"uname"};
  Cell cell;
  cell.status = Status::kError;
  cell.failing_since = night.date;
  view.cells[{"uname", "b1"}] = cell;
  write(dir.path() / "report.html", report_html(night, view));

  auto r = check_page(dir.path() / "report.html", {"x86_64"});
  EXPECT_EQ(r.exit_code, 1) << r.output;
  EXPECT_NE(r.output.find("uname on b1 (error) links no log"), std::string::npos) << r.output;
}

}  // namespace
}  // namespace crossrig::rig::matrix
