#pragma once

#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

namespace crossrig::rig {

/// A `<LAVA_SIGNAL_NAME arg ... KEY=VALUE ...>` marker as test shells print it on the console.
struct LavaSignal {
  /// What follows LAVA_SIGNAL_: TESTCASE, STARTRUN, ENDRUN, STARTTC, ENDTC, ...
  std::string name;
  /// Words without '=' in order (STARTRUN's test definition name and id).
  std::vector<std::string> args;
  /// KEY=VALUE words; values may be double-quoted.
  std::map<std::string, std::string> fields;
};

/// One test case result from a TESTCASE signal.
struct TestCaseResult {
  std::string id;
  /// "pass", "fail", "skip" or "unknown".
  std::string result;
  std::optional<std::string> measurement, units;
};

/// The signal in a console line, if any (console noise may precede it on the line); a marker
/// without its '>' or with an empty name is not a signal.
std::optional<LavaSignal> find_lava_signal(std::string_view line);

/// The test case a TESTCASE signal reports, or what is wrong with it (missing TEST_CASE_ID,
/// a RESULT other than pass/fail/skip/unknown).
std::variant<TestCaseResult, std::string> test_case_of(const LavaSignal& signal);

}  // namespace crossrig::rig
