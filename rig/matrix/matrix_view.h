#pragma once

#include <map>
#include <optional>
#include <span>
#include <string>
#include <utility>
#include <vector>

#include "rig/matrix/night.h"

namespace crossrig::rig::matrix {

/// One board's column of the grid.
struct Column {
  std::string board, arch, boot;
  std::string result;  ///< The job's: pass, fail, error.
  std::string error;
  std::string console_log;  ///< Relative to the night's directory, or empty.
  /// Power-on to the start of the job (firmware + kernel), when both were seen.
  std::optional<double> boot_seconds;
};

/// One test on one board tonight, against the board's earlier nights.
struct Cell {
  Status status = Status::kError;
  /// The same test on the same board in the latest earlier night that has the board.
  std::optional<Status> previous;
  /// Passed the previous night, does not pass tonight.
  bool regression = false;
  /// Did not pass the previous night, passes tonight.
  bool fixed = false;
  /// For a cell that does not pass: the first night of the unbroken run of nights in which it
  /// did not pass (tonight's date for a new failure).
  std::string failing_since;
  /// The date of the last night it passed, empty if it never did in the history read.
  std::string last_pass;
  std::string log;  ///< The board's console log, relative to tonight's directory, or empty.
  std::optional<double> measurement;
  std::string units;
};

struct TrendPoint {
  std::string date;
  double value = 0;
};

/// One plot: a series per arch over the nights, oldest first.
struct Trend {
  std::string title;  ///< "boot time" or the test's name.
  std::string units;  ///< "s", "MiB/s" ...
  /// Series name → points: the arch, or "ARCH BOARD" where tonight has several boards of one
  /// arch.
  std::map<std::string, std::vector<TrendPoint>> series;
};

/// What the reports show: tonight's grid of boards × tests with each cell against history,
/// and the trends over every night read.
struct MatrixView {
  std::string date;
  std::vector<std::string> nights;  ///< Every night's date read, oldest first, tonight last.
  std::vector<Column> columns;      ///< Boards in the order of the arch table, then by name.
  std::vector<std::string> tests;   ///< Row names, sorted.
  /// (test, board) → cell; a board that never reported a test has no cell for it.
  std::map<std::pair<std::string, std::string>, Cell> cells;
  /// Boot time per arch, then one per measured test whose units are a rate (ending "/s").
  std::vector<Trend> trends;
  int passed = 0, failed = 0, skipped = 0, errors = 0, missing = 0;
  int regressions = 0, fixes = 0;

  const Cell* cell(const std::string& test, const std::string& board) const;
};

/// Tonight against the earlier nights (any order; nights dated on or after tonight are
/// ignored). A test an earlier night of a board reported and tonight's job of that board did
/// not is a kMiss cell.
MatrixView analyze(const Night& tonight, std::span<const Night> earlier);

}  // namespace crossrig::rig::matrix
