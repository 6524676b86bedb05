#pragma once

#include <filesystem>
#include <string>

namespace crossrig::test_support {

/// A fresh directory STEM.XXXXXX under PARENT, removed with everything in it.
class TempDir {
 public:
  explicit TempDir(const std::string& stem = "crossrig-test",
                   const std::filesystem::path& parent = "/tmp");
  ~TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const std::filesystem::path& path() const { return path_; }

 private:
  std::filesystem::path path_;
};

}  // namespace crossrig::test_support
