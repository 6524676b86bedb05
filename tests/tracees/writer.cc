// A heap of CKPT_TRACEE_HEAP_MB (default 256) whose first CKPT_TRACEE_HOT_MB (default 16) are
// rewritten pass after pass until SIGTERM, as a live migration's pre-copy rounds must follow.
// Each pass checks every hot word still holds the previous pass's value before it writes its
// own: a page lost, or left from an older round, shows when the pass reaches it, before any
// later write could hide it. The rest keeps the pattern setup wrote.
#include <sys/mman.h>
#include <unistd.h>

#include <algorithm>
#include <cstdint>
#include <cstdlib>
#include <string>

#include "tests/tracees/tracee.h"

namespace crossrig::tracee {
namespace {

constexpr std::size_t kNone = ~std::size_t{0};

std::uint64_t* g_heap = nullptr;
std::size_t g_words = 0, g_hot_words = 0;
// The pass whose values the hot words hold; in memory, so that it migrates with them.
std::uint64_t g_pass = 1;
// The first hot word a pass found wrong, and what it held.
std::size_t g_bad_word = kNone;
std::uint64_t g_bad_value = 0;

void* page_floor(void* p) {
  auto page = static_cast<std::uintptr_t>(sysconf(_SC_PAGESIZE));
  return reinterpret_cast<void*>(reinterpret_cast<std::uintptr_t>(p) / page * page);
}

std::size_t mib_from_env(const char* name, std::size_t fallback) {
  const char* mb = std::getenv(name);
  return static_cast<std::size_t>(mb ? std::atol(mb) : static_cast<long>(fallback)) << 20;
}

constexpr std::uint64_t kOdd = 0x9e3779b97f4a7c15ULL;

std::uint64_t cold(std::size_t i) {
  return i * kOdd;
}

// Distinct for every pass (below 2^24) of every word (below 2^40), and never 0 from pass 1 on:
// a zero page is a lost one.
std::uint64_t hot(std::size_t i, std::uint64_t pass) {
  return (i ^ (pass << 40)) * kOdd;
}

// What a wrong hot word holds, in the words of a migration's failures.
std::string described(std::size_t i, std::uint64_t value) {
  if (value == 0) return "zero (a lost page)";
  std::uint64_t inverse = kOdd;  // Newton's iteration: each step doubles the correct low bits
  for (int step = 0; step < 5; ++step)
    inverse *= 2 - kOdd * inverse;
  const std::uint64_t x = value * inverse;
  if ((x & ((std::uint64_t{1} << 40) - 1)) != i)
    return std::to_string(value) + " (not a hot value)";
  return "pass " + std::to_string(x >> 40) + "'s value";
}

void setup() {
  const std::size_t bytes = mib_from_env("CKPT_TRACEE_HEAP_MB", 256);
  g_words = bytes / sizeof(std::uint64_t);
  g_hot_words = std::min(mib_from_env("CKPT_TRACEE_HOT_MB", 16), bytes) / sizeof(std::uint64_t);
  g_heap = static_cast<std::uint64_t*>(std::malloc(bytes));
  if (g_heap == nullptr) return;
  // As the heap tracee: one call instead of a trap per page.
  madvise(page_floor(g_heap), bytes, MADV_POPULATE_WRITE);
  for (std::size_t i = 0; i < g_words; ++i)
    g_heap[i] = i < g_hot_words ? hot(i, g_pass) : cold(i);
}

// Moves the hot set from g_pass to the next pass; false when a word was not g_pass's.
bool next_pass() {
  const std::uint64_t from = g_pass;
  for (std::size_t i = 0; i < g_hot_words; ++i) {
    if (g_heap[i] != hot(i, from)) {
      g_bad_word = i;
      g_bad_value = g_heap[i];
      return false;
    }
    g_heap[i] = hot(i, from + 1);
  }
  g_pass = from + 1;
  return true;
}

// Whole passes only, so that the check finds one pass's values throughout; after a wrong word
// it stops writing (the check reports it) and waits as the other tracees do.
void wait() {
  while (g_heap != nullptr && !stop_requested() && next_pass()) {
  }
  wait_for_term();
}

std::optional<std::string> check() {
  if (g_heap == nullptr) return "malloc failed";
  if (g_bad_word != kNone)
    return "pass " + std::to_string(g_pass + 1) + " found hot word " + std::to_string(g_bad_word) +
           " holding " + described(g_bad_word, g_bad_value) + ", not pass " +
           std::to_string(g_pass) + "'s";
  for (std::size_t i = 0; i < g_hot_words; ++i)
    if (g_heap[i] != hot(i, g_pass))
      return "hot word " + std::to_string(i) + " differs after pass " + std::to_string(g_pass);
  for (std::size_t i = g_hot_words; i < g_words; ++i)
    if (g_heap[i] != cold(i)) return "cold word " + std::to_string(i) + " differs";
  return std::nullopt;
}

}  // namespace
const Test kTest{setup, wait, check};
}  // namespace crossrig::tracee
