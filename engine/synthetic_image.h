#pragma once
// Test support: writes a sealed image of one single-threaded process of any arch, as a dump
// on that arch would, so that decoding and refusals are tested without such a machine.

#include <string>

#include "arch/regs.h"

namespace crossrig::engine {

/// Writes the image of process 4242 with these registers into dir (which must not exist).
/// page_size 0 takes the arch's.
void write_synthetic_image(const std::string& dir, const arch::Regs& regs,
                           std::size_t page_size = 0);

}  // namespace crossrig::engine
