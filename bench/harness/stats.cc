#include "bench/harness/stats.h"

#include <algorithm>
#include <cmath>
#include <cstdio>

namespace crossrig::bench {

namespace {
double quantile(const std::vector<double>& sorted, double q) {
  double pos = q * static_cast<double>(sorted.size() - 1);
  auto lo = static_cast<std::size_t>(std::floor(pos));
  auto hi = static_cast<std::size_t>(std::ceil(pos));
  double frac = pos - static_cast<double>(lo);
  return sorted[lo] + (sorted[hi] - sorted[lo]) * frac;
}
}  // namespace

Summary summarize(std::vector<double> samples) {
  if (samples.empty()) return {};
  std::sort(samples.begin(), samples.end());
  return {quantile(samples, 0.5), quantile(samples, 0.1), quantile(samples, 0.9), samples.size()};
}

std::string format_row(const std::string& name, const Summary& s, const std::string& unit,
                       const Summary* baseline) {
  char buf[256];
  std::snprintf(buf, sizeof buf, "%-36s median %9.3f %s  (p10 %.3f, p90 %.3f, n=%zu)", name.c_str(),
                s.median, unit.c_str(), s.p10, s.p90, s.samples);
  std::string row = buf;
  if (baseline != nullptr && baseline->median > 0) {
    std::snprintf(buf, sizeof buf, "  ratio %.2fx", s.median / baseline->median);
    row += buf;
  }
  return row;
}

}  // namespace crossrig::bench
