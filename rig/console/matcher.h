#pragma once

#include <cstddef>
#include <deque>
#include <optional>
#include <regex>
#include <string>
#include <string_view>
#include <vector>

#include "rig/console/text_cleaner.h"

namespace crossrig::rig::console {

/// What an expect call matched.
struct ExpectMatch {
  std::size_t pattern = 0;  ///< Index of the pattern that matched.
  std::string text;         ///< The matched text.
  std::vector<std::string> groups;  ///< Capture groups 1..n of the match.
  std::string before;  ///< Text between the previous match and this one (at most the window).
};

/// The pure core of expect: fed console chunks, it finds the first of several ECMAScript
/// regexes in the cleaned text (no CR, no ANSI escapes). A pattern matches within one line;
/// the text after the last newline counts as a line, so prompts without a newline match.
/// Memory is bounded: lines longer than kMaxLine are split, `before` keeps at most the window.
/// Text after a match stays buffered for the next patterns.
class Matcher {
 public:
  /// Longest line searched as one piece; longer lines are cut (this also bounds regex work).
  static constexpr std::size_t kMaxLine = 2048;
  /// Lines remembered for timeout messages.
  static constexpr std::size_t kRecentLines = 12;

  /// window bounds the buffered text (before-text and text not yet searched).
  explicit Matcher(std::size_t window = 64 * 1024) : window_(window) {}

  /// Replaces the patterns; throws std::invalid_argument naming a bad or empty-matching one.
  void set_patterns(const std::vector<std::string>& patterns);
  /// The current patterns as given.
  const std::vector<std::string>& patterns() const { return sources_; }

  /// Adds a chunk and returns the earliest match in it or in text buffered before, if any.
  std::optional<ExpectMatch> feed(std::string_view chunk);

  /// The last lines seen (the current partial line last), for messages.
  std::vector<std::string> recent_lines() const;

 private:
  std::optional<ExpectMatch> search_line();
  void remember_line(const std::string& line);
  void append_before(std::string_view text);

  std::size_t window_;
  std::vector<std::string> sources_;
  std::vector<std::regex> regexes_;
  TextCleaner cleaner_;
  std::string pending_;      // cleaned text not yet split into lines
  std::string line_;         // the current line, without its newline
  std::size_t line_from_ = 0;  // searching in line_ resumes here after a match
  std::string before_;
  std::deque<std::string> recent_;
};

}  // namespace crossrig::rig::console
