#include "rig/console/console_session.h"

#include <cstdint>
#include <span>

#include "common/net_io.h"

namespace crossrig::rig::console {

ConsoleSession::ConsoleSession(UniqueFd fd, std::string name, std::size_t window)
    : fd_(std::move(fd)), name_(std::move(name)), matcher_(window) {
  set_nonblocking(fd_.get());
}

std::string ConsoleSession::describe(const std::vector<std::string>& patterns) const {
  std::string text;
  for (const std::string& p : patterns) text += (text.empty() ? "/" : " or /") + p + "/";
  text += " on " + name_ + "; last lines seen:";
  std::vector<std::string> lines = matcher_.recent_lines();
  if (lines.empty()) text += " (none)";
  for (const std::string& l : lines) text += "\n  | " + l;
  return text;
}

ExpectMatch ConsoleSession::expect(const std::vector<std::string>& patterns,
                                   std::chrono::milliseconds timeout) {
  matcher_.set_patterns(patterns);
  if (auto m = matcher_.feed({})) return *m;
  Deadline deadline(timeout);
  std::uint8_t buf[16 * 1024];
  for (;;) {
    std::size_t n = 0;
    try {
      n = read_some(fd_.get(), buf, deadline);
    } catch (const NetError& e) {
      if (e.kind() != NetError::kTimeout) throw;
      throw NetError(NetError::kTimeout, "timed out after " +
                                             std::to_string(timeout.count()) +
                                             " ms waiting for " + describe(patterns));
    }
    if (n == 0) {
      throw NetError(NetError::kClosed, "console closed while waiting for " + describe(patterns));
    }
    if (auto m = matcher_.feed(std::string_view(reinterpret_cast<const char*>(buf), n))) return *m;
  }
}

void ConsoleSession::send(std::string_view text, std::chrono::milliseconds timeout) {
  write_all(fd_.get(), std::span(reinterpret_cast<const std::uint8_t*>(text.data()), text.size()),
            Deadline(timeout));
}

}  // namespace crossrig::rig::console
