#include "rig/console/console_paths.h"

#include <unistd.h>

#include <cstdlib>
#include <stdexcept>

#include "rig/console/log_stamper.h"

namespace crossrig::rig::console {

namespace {
const char* env(const char* name) {
  const char* v = std::getenv(name);
  return v && *v ? v : nullptr;
}
}  // namespace

void check_board_name(std::string_view name) {
  bool ok = !name.empty() && name.size() <= 64 && name.front() != '.';
  for (char c : name) {
    bool allowed = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                   c == '.' || c == '_' || c == '-';
    ok = ok && allowed;
  }
  if (!ok) {
    throw std::invalid_argument("bad board name '" + std::string(name) +
                                "': use letters, digits, '.', '_' and '-' (at most 64)");
  }
}

std::filesystem::path runtime_dir() {
  if (const char* d = env("CROSSRIG_RUNTIME_DIR")) return d;
  if (const char* d = env("XDG_RUNTIME_DIR")) return std::filesystem::path(d) / "crossrig";
  if (geteuid() == 0) return "/run/crossrig";
  return "/tmp/crossrig-" + std::to_string(geteuid());
}

std::filesystem::path mux_socket_path(std::string_view board) {
  check_board_name(board);
  return runtime_dir() / "console" / (std::string(board) + ".sock");
}

std::filesystem::path default_log_dir() {
  if (const char* d = env("CROSSRIG_LOG_DIR")) return std::filesystem::path(d) / "console";
  if (geteuid() == 0) return "/var/log/crossrig/console";
  if (const char* d = env("XDG_STATE_HOME")) return std::filesystem::path(d) / "crossrig/console";
  const char* home = env("HOME");
  return std::filesystem::path(home ? home : "/tmp") / ".local/state/crossrig/console";
}

std::string log_base_name(std::string_view board, std::chrono::system_clock::time_point start,
                          unsigned boot) {
  return std::string(board) + "-" + format_utc_compact(start) + "-boot" + std::to_string(boot);
}

}  // namespace crossrig::rig::console
