#include "common/utc_time.h"

#include <charconv>
#include <ctime>

namespace crossrig {

std::string utc_now() {
  return format_utc(static_cast<double>(std::time(nullptr)));
}

std::string format_utc(double seconds) {
  const auto t = static_cast<std::time_t>(seconds);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

std::optional<double> parse_utc(std::string_view text) {
  // Fixed layout: digits at known places, so that no locale or strptime quirk is involved.
  constexpr std::string_view kLayout = "dddd-dd-ddTdd:dd:dd";
  if (text.size() < kLayout.size()) return std::nullopt;
  int field[6] = {};
  const int at[6][2] = {{0, 4}, {5, 2}, {8, 2}, {11, 2}, {14, 2}, {17, 2}};
  for (std::size_t i = 0; i < kLayout.size(); ++i) {
    const bool digit = text[i] >= '0' && text[i] <= '9';
    if ((kLayout[i] == 'd') != digit || (!digit && text[i] != kLayout[i])) return std::nullopt;
  }
  for (int i = 0; i < 6; ++i) {
    std::from_chars(text.data() + at[i][0], text.data() + at[i][0] + at[i][1], field[i]);
  }
  if (field[1] < 1 || field[1] > 12 || field[2] < 1 || field[2] > 31 || field[3] > 23 ||
      field[4] > 59 || field[5] > 60) {
    return std::nullopt;
  }
  std::string_view rest = text.substr(kLayout.size());
  double fraction = 0;
  if (rest.starts_with('.')) {
    std::size_t n = 1;
    double scale = 0.1;
    while (n < rest.size() && rest[n] >= '0' && rest[n] <= '9') {
      fraction += (rest[n] - '0') * scale;
      scale /= 10;
      ++n;
    }
    if (n == 1) return std::nullopt;
    rest.remove_prefix(n);
  }
  if (!rest.empty() && rest != "Z" && rest != "+00:00") return std::nullopt;
  std::tm tm{};
  tm.tm_year = field[0] - 1900;
  tm.tm_mon = field[1] - 1;
  tm.tm_mday = field[2];
  tm.tm_hour = field[3];
  tm.tm_min = field[4];
  tm.tm_sec = field[5];
  return static_cast<double>(timegm(&tm)) + fraction;
}

}  // namespace crossrig
