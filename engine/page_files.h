#pragma once
// The page files of a chain of images, mapped read-only for code that uses parts of them long
// before it could have read them whole (lazy restore serves a page the moment it is touched):
// each chunk is checked against its XXH3 before its first byte is used.

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "engine/page_chain.h"

namespace crossrig::engine {

class PageFiles {
 public:
  /// Maps the file of each source, populating the mapping at once if populate; throws
  /// kBadImage if its size is not what its chunk checksums cover (the file changed since
  /// its image was opened).
  PageFiles(const std::vector<PageSource>& sources, bool populate);
  ~PageFiles();
  PageFiles(const PageFiles&) = delete;
  PageFiles& operator=(const PageFiles&) = delete;

  /// len bytes at offset of the file of sources[source], each chunk they touch checked once;
  /// throws kBadImage naming the file when a chunk fails its check or the range lies past
  /// its end.
  std::span<const std::uint8_t> bytes(std::size_t source, std::uint64_t offset, std::uint64_t len);
  /// The whole file of sources[source], unchecked: for a reader that checks the file's
  /// XXH3 itself as it goes.
  std::span<const std::uint8_t> unchecked(std::size_t source) const {
    return {files_.at(source).data, files_.at(source).size};
  }
  std::size_t size() const { return files_.size(); }
  /// Whether source `source` is the remote one (PageSource::remote), which has no file.
  bool remote(std::size_t source) const { return files_.at(source).remote; }

 private:
  struct File {
    std::string path;
    const std::uint8_t* data = nullptr;
    std::size_t size = 0;
    std::vector<std::uint64_t> chunks;
    std::vector<bool> checked;
    bool remote = false;
  };
  std::vector<File> files_;
};

}  // namespace crossrig::engine
