#pragma once
// The checksum of page files: XXH3-64, fast enough to run at copy speed.

#include <cstdint>
#include <memory>
#include <span>

namespace crossrig::engine {

/// XXH3-64 of a stream of bytes, fed in pieces. Uses the widest vector unit the CPU has
/// when the installed libxxhash can choose one at run time (its x86 dispatch: AVX2/AVX-512
/// hash 4x faster than the SSE2 build Debian's default entry points use); the digest is the
/// same either way.
class PageHash {
 public:
  PageHash();
  ~PageHash();
  PageHash(const PageHash&) = delete;
  PageHash& operator=(const PageHash&) = delete;
  PageHash(PageHash&&) noexcept;
  PageHash& operator=(PageHash&&) noexcept;

  void update(std::span<const std::uint8_t> bytes);
  std::uint64_t digest() const;

 private:
  struct State;
  std::unique_ptr<State> state_;
};

/// XXH3-64 of bytes in one piece (a page, say).
std::uint64_t hash_of(std::span<const std::uint8_t> bytes);

}  // namespace crossrig::engine
