#pragma once

#include <nlohmann/json.hpp>
#include <string>

#include "rig/matrix/matrix_view.h"
#include "rig/matrix/night.h"

namespace crossrig::rig::matrix {

/// Where the reports point for files of the results tree: url_base + path relative to the
/// results root (the directory holding every night), e.g. "https://lab.example/results/" or
/// "file:///srv/rig/results/".
struct Links {
  std::string url_base;
};

/// JUnit XML as CI systems read it (Jenkins, GitLab): a "builds" suite (a case per arch, a
/// <failure> for a failed build), then a <testsuite> per board of the view with a
/// <testcase classname="ARCH.BOARD"> per cell: <failure> for fail, <error> for error and miss,
/// <skipped/> for skip, each message saying since when it fails and where the console log is.
/// A job whose result is "error", or "fail" with no failing test, adds a case named "job".
/// Text from boards is escaped, with characters XML 1.0 forbids dropped.
std::string junit_xml(const Night& night, const MatrixView& view, const Links& links);

/// KCIDB I/O v5.3: one checkout "crossrig:DATE:COMMIT12" (or ":local"), a build
/// "crossrig:DATE:build:ARCH" per Night.builds entry and a status-less one for a board's arch
/// that has none (kernels made elsewhere), a test "crossrig:DATE:BOARD:TEST" per cell, and a
/// test "crossrig:DATE:BOARD" with path "job" for a job whose result is "error" (or "fail" with
/// no failing test). URLs come from links and are left out unless url_base is an absolute URL.
nlohmann::json kcidb_json(const Night& night, const MatrixView& view, const Links& links);

/// One self-contained HTML page (inline CSS and SVG, no scripts fetched): the arch × test grid
/// with pass/fail/skip, regressions and since when each failure exists, links to console and
/// build logs, and plots of the trends over the nights.
/// Links are relative to the night's directory, where the page is written (report.html). A cell
/// that does not pass links its board's console log, or, when the job made none because its
/// arch did not build, the build's log. For tools that read the page: grid column headers are
/// <th data-arch data-board>, cells <td data-test data-board data-arch data-status>
/// (status_name; no data-status for a test the board did not run), each chart an
/// <svg data-trend> (tests/rig/check_report_page.py).
std::string report_html(const Night& night, const MatrixView& view);

}  // namespace crossrig::rig::matrix
