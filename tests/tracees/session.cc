// A session leader (and so process-group leader) stays one.
#include <unistd.h>

#include "tests/tracees/tracee.h"

namespace crossrig::tracee {
namespace {

void setup() {
  setsid();
}

std::optional<std::string> check() {
  if (getsid(0) != getpid()) return "no longer a session leader";
  if (getpgrp() != getpid()) return "no longer a process-group leader";
  return std::nullopt;
}

}  // namespace
const Test kTest{setup, nullptr, check};
}  // namespace crossrig::tracee
