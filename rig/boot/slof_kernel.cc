#include "rig/boot/slof_kernel.h"

#include <algorithm>
#include <stdexcept>
#include <vector>

namespace crossrig::rig::boot {

namespace {

constexpr std::size_t kEhdrSize = 64, kPhdrSize = 56;
constexpr std::uint16_t kEmPpc64 = 21;
constexpr std::uint32_t kPtLoad = 1, kPfR = 4;
constexpr std::uint64_t kSegmentAlign = 0x10000;
constexpr std::uint64_t kSlofLoadBase = 0x4000;
constexpr std::uint64_t kBaseAlign = 16 << 20;
// Kernels have a handful; each costs up to kSegmentAlign of padding in what we write.
constexpr std::size_t kMaxSegments = 64;
// SLOF and the kernel's entry run in real mode, in the first few GiB of memory.
constexpr std::uint64_t kMaxSpan = std::uint64_t{4} << 30;

std::uint64_t align_up(std::uint64_t v, std::uint64_t a) {
  return (v + a - 1) / a * a;
}

// ELF fields in the file's own byte order.
class Fields {
 public:
  explicit Fields(bool big_endian) : big_(big_endian) {}

  std::uint64_t get(std::string_view s, std::size_t at, int width) const {
    std::uint64_t v = 0;
    for (int i = 0; i < width; ++i) {
      auto byte = static_cast<unsigned char>(s[at + (big_ ? i : width - 1 - i)]);
      v = v << 8 | byte;
    }
    return v;
  }

  void put(std::string& s, std::size_t at, int width, std::uint64_t v) const {
    for (int i = 0; i < width; ++i) {
      s[at + (big_ ? width - 1 - i : i)] = static_cast<char>(v & 0xff);
      v >>= 8;
    }
  }

 private:
  bool big_;
};

struct Segment {
  std::uint32_t flags;
  std::uint64_t offset, vaddr, paddr, filesz, memsz;
};

void require(bool ok, const std::string& what) {
  if (!ok) throw std::invalid_argument("kernel is a ppc64 ELF64 but " + what);
}

}  // namespace

std::uint64_t slof_segment_base(std::uint64_t file_size) {
  return align_up(kSlofLoadBase + file_size, kBaseAlign);
}

std::optional<std::string> slof_loadable_kernel(std::string_view elf) {
  if (elf.size() < kEhdrSize || elf[0] != 0x7f || elf.substr(1, 3) != "ELF" || elf[4] != 2 ||
      (elf[5] != 1 && elf[5] != 2)) {
    return std::nullopt;
  }
  const bool big = elf[5] == 2;
  const Fields f(big);
  if (f.get(elf, 18, 2) != kEmPpc64) return std::nullopt;

  const std::uint64_t entry = f.get(elf, 24, 8);
  const std::uint64_t phoff = f.get(elf, 32, 8);
  const std::uint32_t flags = static_cast<std::uint32_t>(f.get(elf, 48, 4));
  const std::uint64_t phentsize = f.get(elf, 54, 2), phnum = f.get(elf, 56, 2);
  require(phentsize == kPhdrSize, "its program headers are " + std::to_string(phentsize) +
                                      " bytes, not " + std::to_string(kPhdrSize));
  require(phoff <= elf.size() && phnum * kPhdrSize <= elf.size() - phoff,
          "its program headers run past the end of the file (truncated?)");

  std::vector<Segment> loads;
  for (std::uint64_t i = 0; i < phnum; ++i) {
    std::size_t at = phoff + i * kPhdrSize;
    if (f.get(elf, at, 4) != kPtLoad) continue;
    Segment s{static_cast<std::uint32_t>(f.get(elf, at + 4, 4)),
              f.get(elf, at + 8, 8),
              f.get(elf, at + 16, 8),
              f.get(elf, at + 24, 8),
              f.get(elf, at + 32, 8),
              f.get(elf, at + 40, 8)};
    require(s.offset <= elf.size() && s.filesz <= elf.size() - s.offset,
            "segment " + std::to_string(i) + " runs past the end of the file (truncated?)");
    require(s.filesz <= s.memsz,
            "segment " + std::to_string(i) + " is larger on file than in memory");
    loads.push_back(s);
  }
  require(!loads.empty(), "it has no loadable segment");
  require(loads.size() <= kMaxSegments,
          "it has " + std::to_string(loads.size()) + " loadable segments; a kernel has a few");
  std::uint64_t on_file = 0;
  for (const auto& s : loads)
    on_file += s.filesz;
  require(on_file <= elf.size(), "its segments overlap in the file");
  if (std::all_of(loads.begin(), loads.end(), [](const Segment& s) { return s.vaddr == s.paddr; }))
    return std::nullopt;

  auto holding_entry = std::find_if(loads.begin(), loads.end(), [&](const Segment& s) {
    return entry >= s.vaddr && entry - s.vaddr < s.memsz;
  });
  require(holding_entry != loads.end(), "its entry point lies in no loadable segment");
  std::uint64_t lowest = std::min_element(loads.begin(), loads.end(), [](auto& a, auto& b) {
                           return a.paddr < b.paddr;
                         })->paddr;
  // The ELFv2 flag marks little-endian kernels; big-endian ones are ELFv1, whose entry SLOF
  // reads as a descriptor {code address, TOC, environment}.
  const bool needs_descriptor = big && (flags & 3) != 2;
  const std::size_t headers = kEhdrSize + (loads.size() + (needs_descriptor ? 1 : 0)) * kPhdrSize;

  // Offsets first: a file offset keeps the segment's address modulo kSegmentAlign, which the
  // 16 MiB-aligned base does not change, and the base depends on the file's size.
  std::vector<std::uint64_t> offsets;
  std::uint64_t end = headers, top = 0;
  for (const auto& s : loads) {
    std::uint64_t rel = s.paddr - lowest;
    require(rel <= kMaxSpan && s.memsz <= kMaxSpan - rel,
            "its segments span more than 4 GiB of physical memory");
    offsets.push_back(align_up(end, kSegmentAlign) + rel % kSegmentAlign);
    end = offsets.back() + s.filesz;
    top = std::max(top, rel + s.memsz);
  }
  constexpr std::uint64_t kDescriptorSize = 24;
  std::uint64_t descriptor_offset = align_up(end, kSegmentAlign);
  if (needs_descriptor) end = descriptor_offset + kDescriptorSize;

  const std::uint64_t base = slof_segment_base(end);
  std::string out(end, '\0');
  out.replace(0, 16, elf.substr(0, 16));
  f.put(out, 16, 2, f.get(elf, 16, 2));
  f.put(out, 18, 2, kEmPpc64);
  f.put(out, 20, 4, f.get(elf, 20, 4));
  const std::uint64_t code = base + holding_entry->paddr - lowest + (entry - holding_entry->vaddr);
  const std::uint64_t descriptor = base + align_up(top, kSegmentAlign);
  f.put(out, 24, 8, needs_descriptor ? descriptor : code);
  f.put(out, 32, 8, kEhdrSize);
  f.put(out, 48, 4, flags);
  f.put(out, 52, 2, kEhdrSize);
  f.put(out, 54, 2, kPhdrSize);
  f.put(out, 56, 2, (headers - kEhdrSize) / kPhdrSize);

  auto put_phdr = [&](std::size_t index, std::uint32_t seg_flags, std::uint64_t offset,
                      std::uint64_t addr, std::uint64_t filesz, std::uint64_t memsz) {
    std::size_t at = kEhdrSize + index * kPhdrSize;
    f.put(out, at, 4, kPtLoad);
    f.put(out, at + 4, 4, seg_flags);
    f.put(out, at + 8, 8, offset);
    f.put(out, at + 16, 8, addr);
    f.put(out, at + 24, 8, addr);
    f.put(out, at + 32, 8, filesz);
    f.put(out, at + 40, 8, memsz);
    f.put(out, at + 48, 8, kSegmentAlign);
  };
  for (std::size_t i = 0; i < loads.size(); ++i) {
    const Segment& s = loads[i];
    put_phdr(i, s.flags, offsets[i], base + s.paddr - lowest, s.filesz, s.memsz);
    out.replace(offsets[i], s.filesz, elf.substr(s.offset, s.filesz));
  }
  if (needs_descriptor) {
    put_phdr(loads.size(), kPfR, descriptor_offset, descriptor, kDescriptorSize, kDescriptorSize);
    f.put(out, descriptor_offset, 8, code);
  }
  return out;
}

}  // namespace crossrig::rig::boot
