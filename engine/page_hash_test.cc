#include "engine/page_hash.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <vector>

namespace crossrig::engine {
namespace {

// XXH3-64 (seed 0) of the empty input and of "abc" as libxxhash 0.8 computes them with its
// default entry points: an image written by any build must verify on any other.
TEST(PageHash, MatchesReferenceValues) {
  EXPECT_EQ(PageHash().digest(), 0x2D06800538D394C2ULL);
  PageHash abc;
  const std::uint8_t text[] = {'a', 'b', 'c'};
  abc.update(text);
  EXPECT_EQ(abc.digest(), 0x78AF5F94892F3950ULL);
}

// Page files are hashed in chunks as they stream; the digest must not depend on the cut.
TEST(PageHash, DigestDoesNotDependOnHowTheStreamIsCut) {
  std::vector<std::uint8_t> bytes(3 << 20);
  for (std::size_t i = 0; i < bytes.size(); ++i)
    bytes[i] = static_cast<std::uint8_t>(i * 131 + (i >> 12));
  PageHash whole;
  whole.update(bytes);
  PageHash pieces;
  std::span<const std::uint8_t> rest(bytes);
  for (std::size_t n = 1; !rest.empty(); n = n * 3 + 7) {
    std::size_t take = std::min(n, rest.size());
    pieces.update(rest.first(take));
    rest = rest.subspan(take);
  }
  EXPECT_EQ(pieces.digest(), whole.digest());
  bytes[bytes.size() / 2] ^= 1;
  PageHash flipped;
  flipped.update(bytes);
  EXPECT_NE(flipped.digest(), whole.digest());
}

}  // namespace
}  // namespace crossrig::engine
