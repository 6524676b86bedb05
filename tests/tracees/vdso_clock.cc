// vdso clock calls keep working, and stay monotonic, after the vdso moved back in place.
#include <sys/time.h>
#include <time.h>

#include "tests/tracees/tracee.h"

namespace crossrig::tracee {
namespace {

timespec g_before{};

void setup() {
  clock_gettime(CLOCK_MONOTONIC, &g_before);
}

std::optional<std::string> check() {
  timespec prev = g_before;
  for (int i = 0; i < 10000; ++i) {
    timespec now{};
    if (clock_gettime(CLOCK_MONOTONIC, &now) != 0) return "clock_gettime failed";
    if (now.tv_sec < prev.tv_sec || (now.tv_sec == prev.tv_sec && now.tv_nsec < prev.tv_nsec))
      return "CLOCK_MONOTONIC went backwards";
    prev = now;
  }
  timeval tv{};
  if (gettimeofday(&tv, nullptr) != 0 || tv.tv_sec < 1'600'000'000) return "gettimeofday is wrong";
  return std::nullopt;
}

}  // namespace
const Test kTest{setup, nullptr, check};
}  // namespace crossrig::tracee
