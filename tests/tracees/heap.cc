// A large heap (CKPT_TRACEE_HEAP_MB, default 1024) written with a pattern survives.
#include <sys/mman.h>
#include <unistd.h>

#include <cstdint>
#include <cstdlib>
#include <string>

#include "tests/tracees/tracee.h"

namespace crossrig::tracee {
namespace {

std::uint64_t* g_heap = nullptr;
std::size_t g_words = 0;

void* page_floor(void* p) {
  auto page = static_cast<std::uintptr_t>(sysconf(_SC_PAGESIZE));
  return reinterpret_cast<void*>(reinterpret_cast<std::uintptr_t>(p) / page * page);
}

std::uint64_t pattern(std::size_t i) {
  return i * 0x9e3779b97f4a7c15ULL;
}

void setup() {
  const char* mb = std::getenv("CKPT_TRACEE_HEAP_MB");
  std::size_t bytes = static_cast<std::size_t>(mb ? std::atol(mb) : 1024) << 20;
  g_words = bytes / sizeof(std::uint64_t);
  g_heap = static_cast<std::uint64_t*>(std::malloc(bytes));
  // One call instead of a trap per page: first touches of fresh memory dominate the test's
  // time under virtualization. The heap stays in ordinary pages, with no VmFlags change.
  if (g_heap != nullptr) madvise(page_floor(g_heap), bytes, MADV_POPULATE_WRITE);
  for (std::size_t i = 0; i < g_words; ++i)
    g_heap[i] = pattern(i);
}

std::optional<std::string> check() {
  if (g_heap == nullptr) return "malloc failed";
  for (std::size_t i = 0; i < g_words; ++i)
    if (g_heap[i] != pattern(i)) return "heap word " + std::to_string(i) + " differs";
  return std::nullopt;
}

}  // namespace
const Test kTest{setup, nullptr, check};
}  // namespace crossrig::tracee
