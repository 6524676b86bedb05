// A task interrupted in user space, mid-computation, continues where it was.
#include <cstdint>

#include "tests/tracees/tracee.h"

namespace crossrig::tracee {
namespace {

volatile std::uint64_t g_a = 1, g_b = 0;

void setup() {}

void wait() {
  // Keeps a + b == 1 + 2*iterations; a lost register or write breaks the invariant.
  std::uint64_t i = 0;
  while (!stop_requested()) {
    g_a = g_a + 1;
    g_b = g_b + 1;
    ++i;
  }
  g_b = g_b + 0 * i;
}

std::optional<std::string> check() {
  return expect_eq("a - b", g_a - g_b, std::uint64_t{1});
}

}  // namespace
const Test kTest{setup, wait, check};
}  // namespace crossrig::tracee
