#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace crossrig::rig::boot {

/// SLOF's ELF loader copies each segment to its virtual address and refuses a 64-bit ELF
/// whose virtual and physical addresses differ; for a big-endian ELF64 it also takes the entry
/// as the address of a function descriptor (ELFv1), not of code. A Linux ppc64 vmlinux fails
/// both: its segments run at 0xc000000000000000 and its entry is code (it runs in real mode,
/// where the top address bits are ignored, and moves itself to 0 later).
///
/// For such a vmlinux (big- or little-endian) this returns an ELF that SLOF loads and enters:
/// only the loadable segments, at physical addresses from `base` up (above the buffer SLOF
/// reads the file into), and for ELFv1 one more segment holding a descriptor of the entry.
/// Returns nullopt for a file SLOF takes as it is (zImage.pseries, any ELF32, anything not a
/// ppc64 ELF). Throws std::invalid_argument for a ppc64 ELF64 whose headers are cut off or
/// point outside the file.
std::optional<std::string> slof_loadable_kernel(std::string_view elf);

/// Where slof_loadable_kernel() puts the first segment for a file of `file_size` bytes: SLOF
/// reads the whole file at its load-base (0x4000) before copying the segments out, so they
/// start at the next 16 MiB boundary past the file.
std::uint64_t slof_segment_base(std::uint64_t file_size);

}  // namespace crossrig::rig::boot
