#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace crossrig {

/// The items of a comma-separated option value ("a,b,,c" → a, b, c): empty items are left out.
std::vector<std::string> split_commas(std::string_view text);

}  // namespace crossrig
