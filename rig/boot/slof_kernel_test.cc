#include "rig/boot/slof_kernel.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <stdexcept>
#include <string>
#include <vector>

namespace crossrig::rig::boot {
namespace {

constexpr std::uint64_t kKernelBase = 0xc000000000000000;

struct TestSegment {
  std::uint32_t type;
  std::uint64_t vaddr, paddr;
  std::string bytes;
  std::uint64_t memsz;
};

void put(std::string& s, std::size_t at, int width, std::uint64_t v, bool big) {
  for (int i = 0; i < width; ++i) {
    s[at + (big ? width - 1 - i : i)] = static_cast<char>(v & 0xff);
    v >>= 8;
  }
}

std::uint64_t get(const std::string& s, std::size_t at, int width, bool big) {
  std::uint64_t v = 0;
  for (int i = 0; i < width; ++i) {
    v = v << 8 | static_cast<unsigned char>(s[at + (big ? i : width - 1 - i)]);
  }
  return v;
}

// An ELF64 laid out as a linker would: headers, segments at page offsets, then section data
// (here junk standing for symbols) that SLOF never needs.
std::string make_elf(bool big, std::uint16_t machine, std::uint32_t flags, std::uint64_t entry,
                     const std::vector<TestSegment>& segments) {
  std::string e(64 + 56 * segments.size(), '\0');
  e[0] = 0x7f;
  e.replace(1, 3, "ELF");
  e[4] = 2;
  e[5] = big ? 2 : 1;
  e[6] = 1;
  put(e, 16, 2, 2, big);
  put(e, 18, 2, machine, big);
  put(e, 20, 4, 1, big);
  put(e, 24, 8, entry, big);
  put(e, 32, 8, 64, big);
  put(e, 48, 4, flags, big);
  put(e, 52, 2, 64, big);
  put(e, 54, 2, 56, big);
  put(e, 56, 2, segments.size(), big);
  for (std::size_t i = 0; i < segments.size(); ++i) {
    const auto& s = segments[i];
    e.resize((e.size() + 0xffff) / 0x10000 * 0x10000, '\0');
    std::size_t ph = 64 + 56 * i;
    put(e, ph, 4, s.type, big);
    put(e, ph + 4, 4, 7, big);
    put(e, ph + 8, 8, e.size(), big);
    put(e, ph + 16, 8, s.vaddr, big);
    put(e, ph + 24, 8, s.paddr, big);
    put(e, ph + 32, 8, s.bytes.size(), big);
    put(e, ph + 40, 8, s.memsz, big);
    put(e, ph + 48, 8, 0x10000, big);
    e += s.bytes;
  }
  e += std::string(5000, 'S');
  return e;
}

std::string pattern(std::size_t n, char seed) {
  std::string s(n, '\0');
  for (std::size_t i = 0; i < n; ++i)
    s[i] = static_cast<char>(seed + i * 7);
  return s;
}

struct Phdr {
  std::uint32_t type;
  std::uint64_t offset, vaddr, paddr, filesz, memsz;
};

std::vector<Phdr> phdrs(const std::string& e, bool big) {
  std::vector<Phdr> out;
  for (std::uint64_t i = 0; i < get(e, 56, 2, big); ++i) {
    std::size_t at = get(e, 32, 8, big) + 56 * i;
    out.push_back({static_cast<std::uint32_t>(get(e, at, 4, big)), get(e, at + 8, 8, big),
                   get(e, at + 16, 8, big), get(e, at + 24, 8, big), get(e, at + 32, 8, big),
                   get(e, at + 40, 8, big)});
  }
  return out;
}

TEST(SlofKernel, LittleEndianVmlinuxRunsFromPhysicalAddressesAboveTheLoadedFile) {
  std::string text = pattern(0x30000, 'k');
  std::string vmlinux = make_elf(
      false, 21, 2, kKernelBase + 0x100,
      {{1, kKernelBase, 0, text, 0x50000}, {4, kKernelBase + 0x20000, 0x20000, "note", 4}});
  auto out = slof_loadable_kernel(vmlinux);
  ASSERT_TRUE(out);
  auto ph = phdrs(*out, false);
  ASSERT_EQ(ph.size(), 1u) << "only loadable segments are kept";
  EXPECT_EQ(ph[0].vaddr, ph[0].paddr);
  EXPECT_GE(ph[0].paddr, 0x4000 + out->size()) << "segments must not overlap SLOF's file buffer";
  EXPECT_EQ(ph[0].paddr, slof_segment_base(out->size()));
  EXPECT_EQ(ph[0].memsz, 0x50000u);
  EXPECT_EQ(out->substr(ph[0].offset, ph[0].filesz), text);
  EXPECT_EQ(get(*out, 24, 8, false), ph[0].paddr + 0x100) << "entry is the code, physically";
  EXPECT_EQ(get(*out, 48, 4, false), 2u);
  EXPECT_EQ(get(*out, 60, 2, false), 0u) << "no section headers";
  EXPECT_LT(out->size(), vmlinux.size());
}

TEST(SlofKernel, BigEndianElfV1EntryBecomesADescriptorOfTheCode) {
  std::string text = pattern(0x18000, 'b');
  std::string data = pattern(0x1000, 'd');
  std::string vmlinux = make_elf(
      true, 21, 1, kKernelBase + 0x60,
      {{1, kKernelBase, 0, text, 0x20000}, {1, kKernelBase + 0x40000, 0x40000, data, 0x9000}});
  auto out = slof_loadable_kernel(vmlinux);
  ASSERT_TRUE(out);
  auto ph = phdrs(*out, true);
  ASSERT_EQ(ph.size(), 3u);
  std::uint64_t base = ph[0].paddr;
  EXPECT_EQ(ph[1].paddr, base + 0x40000) << "segments keep their distance";
  EXPECT_EQ(out->substr(ph[1].offset, ph[1].filesz), data);
  const Phdr& desc = ph[2];
  EXPECT_EQ(desc.type, 1u);
  EXPECT_EQ(desc.vaddr, desc.paddr);
  EXPECT_GE(desc.paddr, base + 0x49000) << "the descriptor lies past the kernel's memory";
  EXPECT_EQ(get(*out, 24, 8, true), desc.paddr);
  EXPECT_EQ(get(*out, desc.offset, 8, true), base + 0x60);
  EXPECT_EQ(get(*out, desc.offset + 8, 8, true), 0u);
}

TEST(SlofKernel, FilesSlofTakesAsTheyAreStayUntouched) {
  std::string text = pattern(0x1000, 'z');
  EXPECT_FALSE(slof_loadable_kernel(
      make_elf(true, 21, 1, 0x4000000, {{1, 0x4000000, 0x4000000, text, 0x2000}})))
      << "zImage.pseries: already physical";
  EXPECT_FALSE(slof_loadable_kernel(
      make_elf(false, 62, 0, kKernelBase, {{1, kKernelBase, 0, text, 0x2000}})))
      << "not ppc64";
  std::string elf32 = make_elf(true, 21, 1, 0, {});
  elf32[4] = 1;
  EXPECT_FALSE(slof_loadable_kernel(elf32));
  EXPECT_FALSE(slof_loadable_kernel("#!ipxe\nboot\n"));
  EXPECT_FALSE(slof_loadable_kernel(""));
}

void expect_refused(const std::string& elf, const std::string& says) {
  try {
    slof_loadable_kernel(elf);
    ADD_FAILURE() << "accepted; expected an error saying " << says;
  } catch (const std::invalid_argument& e) {
    EXPECT_NE(std::string(e.what()).find(says), std::string::npos) << e.what();
  }
}

TEST(SlofKernel, CutOffOrInconsistentKernelsAreRefusedWithTheReason) {
  std::string text = pattern(0x3000, 'c');
  std::string vmlinux = make_elf(false, 21, 2, kKernelBase, {{1, kKernelBase, 0, text, 0x4000}});
  expect_refused(vmlinux.substr(0, 80), "program headers run past the end");
  expect_refused(vmlinux.substr(0, 0x10000 + 0x1000), "segment 0 runs past the end");
  expect_refused(make_elf(false, 21, 2, kKernelBase + 0x9000, {{1, kKernelBase, 0, text, 0x4000}}),
                 "entry point lies in no loadable segment");
  expect_refused(make_elf(false, 21, 2, kKernelBase, {{1, kKernelBase, 0, text, 0x10}}),
                 "larger on file than in memory");
  expect_refused(make_elf(false, 21, 2, kKernelBase, {{4, kKernelBase, 0, text, 0x4000}}),
                 "no loadable segment");
  expect_refused(
      make_elf(false, 21, 2, kKernelBase,
               {{1, kKernelBase, 0, text, 0x4000},
                {1, kKernelBase + (std::uint64_t{8} << 30), std::uint64_t{8} << 30, text, 0x4000}}),
      "more than 4 GiB");
  std::string twice = make_elf(
      false, 21, 2, kKernelBase,
      {{1, kKernelBase, 0, text, 0x4000}, {1, kKernelBase + 0x4000, 0x4000, text, 0x4000}});
  put(twice, 64 + 56 + 8, 8, 0x10000, false);
  put(twice, 64 + 56 + 32, 8, twice.size() - 0x10000, false);
  put(twice, 64 + 56 + 40, 8, twice.size(), false);
  put(twice, 64 + 8, 8, 0x10000, false);
  put(twice, 64 + 32, 8, twice.size() - 0x10000, false);
  put(twice, 64 + 40, 8, twice.size(), false);
  expect_refused(twice, "overlap in the file");
}

}  // namespace
}  // namespace crossrig::rig::boot
