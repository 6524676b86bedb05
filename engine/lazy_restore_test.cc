#include "engine/lazy_restore.h"

#include <gtest/gtest.h>
#include <sys/mman.h>

#include "engine/ckpt_error.h"

namespace crossrig::engine {
namespace {

constexpr std::uint64_t kPage = 4096;

VmaImage vma(std::uint64_t start, std::uint64_t pages, std::string kind, bool shared = false,
             int prot = PROT_READ | PROT_WRITE) {
  VmaImage v;
  v.start = start;
  v.end = start + pages * kPage;
  v.kind = std::move(kind);
  v.shared = shared;
  v.prot = prot;
  return v;
}

TEST(MayFillLazily, OnlyPrivateAnonymousMemoryThatForksAsItIs) {
  EXPECT_TRUE(may_fill_lazily(vma(0, 1, "anon")));
  EXPECT_TRUE(may_fill_lazily(vma(0, 1, "heap")));
  EXPECT_TRUE(may_fill_lazily(vma(0, 1, "stack")));
  EXPECT_TRUE(may_fill_lazily(vma(0, 1, "anon", false, PROT_READ)));
  EXPECT_FALSE(may_fill_lazily(vma(0, 1, "anon", true)));
  EXPECT_FALSE(may_fill_lazily(vma(0, 1, "anon", false, PROT_NONE)));
  EXPECT_FALSE(may_fill_lazily(vma(0, 1, "file")));
  EXPECT_FALSE(may_fill_lazily(vma(0, 1, "sysv", true)));
  VmaImage wiped = vma(0, 1, "anon");
  wiped.vm_flags = {"rd", "wr", "wf"};
  EXPECT_FALSE(may_fill_lazily(wiped));
}

TEST(DeferLazyRuns, LeavesAnonymousRunsButTheRseqPageAndFillsTheRestNow) {
  MmImage mm;
  mm.vmas = {vma(0x10000, 16, "file"), vma(0x20000, 16, "anon"), vma(0x30000, 4, "anon", true)};
  PageSource src;
  src.runs = {
      {0x10000, 2, 0, false}, {0x20000, 10, 2 * kPage, false}, {0x30000, 4, 12 * kPage, false}};
  MissingPages missing(kPage);
  // The rseq area sits in page 3 of the anonymous run.
  const auto now = defer_lazy_runs(src, 1, mm, {0x23010, 0x2301f}, kPage, missing);
  EXPECT_EQ(now.size(), 3U);
  EXPECT_EQ(now[0].vaddr, 0x10000U);
  EXPECT_EQ(now[1].vaddr, 0x23000U);
  EXPECT_EQ(now[1].npages, 1U);
  EXPECT_EQ(now[1].offset, 5 * kPage);
  EXPECT_EQ(now[2].vaddr, 0x30000U);
  EXPECT_EQ(missing.first(100),
            (std::vector<LazyRun>{{0x20000, 3, 1, 2 * kPage}, {0x24000, 6, 1, 6 * kPage}}));
}

TEST(DeferLazyRuns, RemotePagesMustAllBeLazy) {
  MmImage mm;
  mm.vmas = {vma(0x10000, 16, "file"), vma(0x20000, 16, "anon")};
  PageSource src;
  src.remote = true;
  src.runs = {{0x20000, 4, 0x20000, false, true}};
  MissingPages missing(kPage);
  EXPECT_TRUE(defer_lazy_runs(src, 2, mm, {}, kPage, missing).empty());
  EXPECT_EQ(missing.first(100), (std::vector<LazyRun>{{0x20000, 4, 2, 0x20000}}));
  // Bytes on another host cannot fill a page needed at once, nor a file mapping.
  MissingPages none(kPage);
  EXPECT_THROW(defer_lazy_runs(src, 2, mm, {0x21008}, kPage, none), CkptError);
  src.runs = {{0x10000, 1, 0x10000, false, true}};
  EXPECT_THROW(defer_lazy_runs(src, 2, mm, {}, kPage, none), CkptError);
}

}  // namespace
}  // namespace crossrig::engine
