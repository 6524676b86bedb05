#include "rig/jobs/lava_signal.h"

#include <array>

namespace crossrig::rig {

namespace {

constexpr std::string_view kMarker = "<LAVA_SIGNAL_";
// Longer markers are console garbage, not something a test shell printed.
constexpr std::size_t kMaxSignal = 4096;
constexpr std::array<std::string_view, 4> kResults{"pass", "fail", "skip", "unknown"};

bool is_space(char c) {
  return c == ' ' || c == '\t';
}

// Splits the body into words; a double-quoted part of a word may hold spaces.
std::vector<std::string> words(std::string_view body) {
  std::vector<std::string> out;
  std::string word;
  bool quoted = false, in_word = false;
  for (char c : body) {
    if (c == '"') {
      quoted = !quoted;
      in_word = true;
      continue;
    }
    if (is_space(c) && !quoted) {
      if (in_word) out.push_back(word);
      word.clear();
      in_word = false;
      continue;
    }
    word += c;
    in_word = true;
  }
  if (in_word) out.push_back(word);
  return out;
}

}  // namespace

std::optional<LavaSignal> find_lava_signal(std::string_view line) {
  auto start = line.find(kMarker);
  if (start == std::string_view::npos) return std::nullopt;
  auto rest = line.substr(start + kMarker.size());
  auto end = rest.find('>');
  if (end == std::string_view::npos || end > kMaxSignal) return std::nullopt;
  auto body = rest.substr(0, end);
  auto name_end = body.find_first_of(" \t");
  LavaSignal signal;
  signal.name = std::string(body.substr(0, name_end));
  if (signal.name.empty()) return std::nullopt;
  if (name_end == std::string_view::npos) return signal;
  for (auto& w : words(body.substr(name_end))) {
    auto eq = w.find('=');
    if (eq == std::string::npos || eq == 0) {
      signal.args.push_back(w);
    } else {
      signal.fields[w.substr(0, eq)] = w.substr(eq + 1);
    }
  }
  return signal;
}

std::variant<TestCaseResult, std::string> test_case_of(const LavaSignal& signal) {
  using Out = std::variant<TestCaseResult, std::string>;
  auto field = [&](const char* key) -> std::optional<std::string> {
    auto it = signal.fields.find(key);
    if (it == signal.fields.end()) return std::nullopt;
    return it->second;
  };
  auto id = field("TEST_CASE_ID");
  if (!id || id->empty()) return Out(std::in_place_index<1>, "TESTCASE without TEST_CASE_ID");
  auto result = field("RESULT");
  if (!result) return Out(std::in_place_index<1>, "TESTCASE '" + *id + "' without RESULT");
  bool known = false;
  for (auto r : kResults)
    known = known || r == *result;
  if (!known) {
    return Out(std::in_place_index<1>, "TESTCASE '" + *id + "' has RESULT=" + *result +
                                           "; a result is pass, fail, skip or unknown");
  }
  return Out(std::in_place_index<0>,
             TestCaseResult{*id, *result, field("MEASUREMENT"), field("UNITS")});
}

}  // namespace crossrig::rig
