#include "engine/page_hash.h"

#include <xxhash.h>
#if CROSSRIG_XXH3_DISPATCH
// Redirects the XXH3 entry points to the library's run-time dispatching variants.
#include <xxh_x86dispatch.h>
#endif

#include <new>

namespace crossrig::engine {

struct PageHash::State {
  std::unique_ptr<XXH3_state_t, decltype(&XXH3_freeState)> xxh{XXH3_createState(), XXH3_freeState};
};

PageHash::PageHash() : state_(std::make_unique<State>()) {
  if (!state_->xxh) throw std::bad_alloc();
  XXH3_64bits_reset(state_->xxh.get());
}

PageHash::~PageHash() = default;
PageHash::PageHash(PageHash&&) noexcept = default;
PageHash& PageHash::operator=(PageHash&&) noexcept = default;

void PageHash::update(std::span<const std::uint8_t> bytes) {
  XXH3_64bits_update(state_->xxh.get(), bytes.data(), bytes.size());
}

std::uint64_t PageHash::digest() const {
  return XXH3_64bits_digest(state_->xxh.get());
}

std::uint64_t hash_of(std::span<const std::uint8_t> bytes) {
  return XXH3_64bits(bytes.data(), bytes.size());
}

}  // namespace crossrig::engine
