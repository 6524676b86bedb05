#pragma once

#include <filesystem>
#include <string>

namespace crossrig::test_support {

/// The whole text of a file, or "" when it cannot be read (the caller's expectation then fails
/// with the path in its message).
std::string file_text(const std::filesystem::path& path);

}  // namespace crossrig::test_support
