#pragma once

#include <string>
#include <string_view>

namespace crossrig {

/// A file path as the path of a URL: every byte outside RFC 3986's unreserved set and '/'
/// percent-encoded, so a name such as "a b#1" or "x:y" stays a path, never a fragment or a
/// scheme.
std::string percent_encode_path(std::string_view path);

}  // namespace crossrig
