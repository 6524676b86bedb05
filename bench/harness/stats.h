#pragma once

#include <string>
#include <vector>

namespace crossrig::bench {

/// Order statistics of repeated measurements; medians, because shared machines are noisy.
struct Summary {
  double median = 0;
  double p10 = 0;
  double p90 = 0;
  std::size_t samples = 0;
};

/// Summarises samples (any unit); an empty input gives all zeros.
Summary summarize(std::vector<double> samples);

/// One benchmark line: name, median and spread in `unit`, and the ratio of medians to a
/// baseline measured in the same run (omitted when baseline is null).
std::string format_row(const std::string& name, const Summary& s, const std::string& unit,
                       const Summary* baseline);

}  // namespace crossrig::bench
