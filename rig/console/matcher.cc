#include "rig/console/matcher.h"

#include <stdexcept>

namespace crossrig::rig::console {

void Matcher::set_patterns(const std::vector<std::string>& patterns) {
  std::vector<std::regex> compiled;
  for (const std::string& p : patterns) {
    try {
      compiled.emplace_back(p, std::regex::ECMAScript);
    } catch (const std::regex_error& e) {
      throw std::invalid_argument("bad pattern /" + p + "/: " + e.what());
    }
    // An empty match would be found again and again without consuming any text.
    if (std::regex_search(std::string(), compiled.back())) {
      throw std::invalid_argument("pattern /" + p + "/ matches empty text; make it match something");
    }
  }
  sources_ = patterns;
  regexes_ = std::move(compiled);
}

std::optional<ExpectMatch> Matcher::feed(std::string_view chunk) {
  cleaner_.feed(chunk, pending_);
  if (pending_.size() > window_) pending_.erase(0, pending_.size() - window_);
  std::size_t used = 0;
  std::optional<ExpectMatch> found;
  while (!found && used < pending_.size()) {
    std::size_t nl = pending_.find('\n', used);
    std::size_t end = nl == std::string::npos ? pending_.size() : nl;
    std::size_t room = kMaxLine - line_.size();
    bool complete = nl != std::string::npos;
    if (end - used >= room) {
      end = used + room;
      complete = true;  // An overlong line is searched in pieces of kMaxLine.
    }
    line_.append(pending_, used, end - used);
    used = end;
    found = search_line();
    if (found) break;
    if (complete) {
      if (nl == used) ++used;
      append_before(std::string_view(line_).substr(line_from_));
      append_before("\n");
      remember_line(line_);
      line_.clear();
      line_from_ = 0;
    }
  }
  bool searched = used > 0;
  pending_.erase(0, used);
  // New patterns may match text already buffered in the current line.
  if (!found && !searched) found = search_line();
  return found;
}

std::optional<ExpectMatch> Matcher::search_line() {
  if (regexes_.empty() || line_from_ >= line_.size()) return std::nullopt;
  auto first = line_.cbegin() + static_cast<std::ptrdiff_t>(line_from_);
  std::optional<ExpectMatch> best;
  std::ptrdiff_t best_start = 0;
  std::smatch best_m;
  for (std::size_t i = 0; i < regexes_.size(); ++i) {
    std::smatch m;
    auto flags = line_from_ > 0 ? std::regex_constants::match_prev_avail
                                : std::regex_constants::match_default;
    if (!std::regex_search(first, line_.cend(), m, regexes_[i], flags)) continue;
    if (m.length(0) == 0) continue;
    std::ptrdiff_t start = m.position(0);
    if (best && start >= best_start) continue;
    best_start = start;
    best_m = m;
    best.emplace();
    best->pattern = i;
  }
  if (!best) return std::nullopt;
  best->text = best_m.str(0);
  for (std::size_t g = 1; g < best_m.size(); ++g) best->groups.push_back(best_m.str(g));
  append_before(std::string_view(line_).substr(line_from_, static_cast<std::size_t>(best_start)));
  best->before = std::move(before_);
  before_.clear();
  line_from_ += static_cast<std::size_t>(best_start) + best->text.size();
  return best;
}

void Matcher::append_before(std::string_view text) {
  before_.append(text);
  if (before_.size() > window_) before_.erase(0, before_.size() - window_);
}

void Matcher::remember_line(const std::string& line) {
  recent_.push_back(line);
  if (recent_.size() > kRecentLines) recent_.pop_front();
}

std::vector<std::string> Matcher::recent_lines() const {
  std::vector<std::string> lines(recent_.begin(), recent_.end());
  if (!line_.empty()) lines.push_back(line_);
  return lines;
}

}  // namespace crossrig::rig::console
