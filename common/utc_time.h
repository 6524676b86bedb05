#pragma once
// Times as the reports and LAVA write them: RFC 3339 in UTC.

#include <optional>
#include <string>
#include <string_view>

namespace crossrig {

/// The current time, "2026-12-05T03:07:27Z" (to the second).
std::string utc_now();

/// seconds since the epoch as utc_now writes a time (the fraction dropped).
std::string format_utc(double seconds);

/// Seconds since the epoch of "YYYY-MM-DDTHH:MM:SS", with an optional fraction and an optional
/// "Z" or "+00:00" (LAVA's times have both, its logs' neither); nullopt for anything else,
/// other zones included.
std::optional<double> parse_utc(std::string_view text);

}  // namespace crossrig
