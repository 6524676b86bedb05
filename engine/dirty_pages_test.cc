#include "engine/dirty_pages.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cstring>

#include "arch/arch.h"
#include "common/unique_fd.h"
#include "engine/ckpt_error.h"
#include "engine/compat/uapi.h"
#include "engine/proc_parse.h"
#include "engine/ptrace_task.h"

namespace crossrig::engine {
namespace {

const std::size_t kPage = arch::native_arch().page_size;
constexpr std::size_t kPages = 8;

// Eight private pages of this process, each written, with the /proc files a tracker reads.
class Memory {
 public:
  Memory()
      : p_(static_cast<char*>(::mmap(nullptr, kPages * kPage, PROT_READ | PROT_WRITE,
                                     MAP_PRIVATE | MAP_ANONYMOUS, -1, 0))),
        pagemap_(::open("/proc/self/pagemap", O_RDONLY | O_CLOEXEC)),
        mem_(::open("/proc/self/mem", O_RDONLY | O_CLOEXEC)) {
    for (std::size_t i = 0; i < kPages; ++i)
      std::memset(p_ + i * kPage, static_cast<int>('a' + i), kPage);
  }
  ~Memory() { ::munmap(p_, kPages * kPage); }
  Memory(const Memory&) = delete;
  Memory& operator=(const Memory&) = delete;

  std::uint64_t at(std::size_t page) const {
    return reinterpret_cast<std::uint64_t>(p_) + page * kPage;
  }
  void write(std::size_t page) { p_[page * kPage + 7] ^= 1; }
  // The mapping as a dump sees it, VmFlags included.
  VmaImage vma() const {
    VmaImage v;
    v.start = at(0);
    v.end = at(kPages);
    v.kind = "anon";
    for (const MapsEntry& e : parse_smaps(read_file("/proc/self/smaps"))) {
      if (e.start <= v.start && v.start < e.end) v.vm_flags = e.vm_flags;
    }
    return v;
  }
  std::vector<ChainRun> split(PageTracker& t) const { return t.split(vma(), PageFilter::kPresent); }
  int pagemap() const { return pagemap_.get(); }
  int mem() const { return mem_.get(); }

 private:
  char* p_;
  UniqueFd pagemap_, mem_;
};

// Runs as {first page, npages, in parent}.
std::vector<std::tuple<std::size_t, std::uint64_t, bool>> shape(const Memory& m,
                                                                const std::vector<ChainRun>& runs) {
  std::vector<std::tuple<std::size_t, std::uint64_t, bool>> out;
  for (const ChainRun& r : runs)
    out.emplace_back((r.vaddr - m.at(0)) / kPage, r.npages, r.in_parent);
  return out;
}

TEST(Tracking, NamesRoundTripAndOthersAreUsageErrors) {
  for (Tracking t : {Tracking::kSoftDirty, Tracking::kPagemapScan, Tracking::kHash})
    EXPECT_EQ(parse_tracking(tracking_name(t)), t);
  try {
    parse_tracking("magic");
    FAIL() << "no error";
  } catch (const CkptError& e) {
    EXPECT_EQ(e.kind(), CkptError::kUsage);
    EXPECT_NE(std::string(e.what()).find("soft-dirty, pagemap-scan, hash"), std::string::npos);
  }
}

TEST(ParentPages, LooksUpPagesAndHashesOfUnsortedRuns) {
  const std::uint64_t b = 0x10000000;
  ParentPages p({{b + 8 * kPage, 2, 0, false}, {b, 3, 0, true}}, {80, 81, 1, 2, 3});
  EXPECT_EQ(p.held_until(b), b + 3 * kPage);
  EXPECT_EQ(p.held_until(b + 2 * kPage), b + 3 * kPage);
  EXPECT_EQ(p.held_until(b + 9 * kPage), b + 10 * kPage);
  EXPECT_EQ(p.held_until(b + 3 * kPage), 0u);
  EXPECT_EQ(p.held_until(b - kPage), 0u);
  EXPECT_EQ(p.hash(b + 9 * kPage), 81u);
  EXPECT_EQ(p.hash(b + kPage), 2u);
  EXPECT_FALSE(p.hash(b + 10 * kPage).has_value());
  EXPECT_THROW(ParentPages({{b, 3, 0, false}}, {1, 2}), CkptError);
}

TEST(PageTracker, HashFindsTheChangedPagesAgainstItsParent) {
  Memory m;
  PageTracker first(Tracking::kHash, nullptr, m.pagemap(), m.mem(), false);
  EXPECT_EQ(shape(m, m.split(first)), (decltype(shape(m, {})){{0, kPages, false}}));
  ASSERT_EQ(first.hashes().size(), kPages);
  ParentPages parent({{m.at(0), kPages, 0, false}}, first.hashes());
  m.write(3);
  m.write(7);
  PageTracker next(Tracking::kHash, &parent, m.pagemap(), m.mem(), false);
  EXPECT_EQ(shape(m, m.split(next)),
            (decltype(shape(m, {})){{0, 3, true}, {3, 1, false}, {4, 3, true}, {7, 1, false}}));
  EXPECT_EQ(next.hashes().size(), kPages);
  EXPECT_NE(next.hashes()[3], first.hashes()[3]);
  EXPECT_EQ(next.hashes()[4], first.hashes()[4]);
}

TEST(PageTracker, PagesTheParentLacksAreCopiedWhateverTheTracking) {
  Memory m;
  ParentPages parent({{m.at(2), 2, 0, false}}, {});
  m.write(0);
  // Nothing registered: pagemap-scan counts every page as written but those the parent holds
  // are still candidates only when unwritten.
  PageTracker t(Tracking::kPagemapScan, &parent, m.pagemap(), m.mem(), false);
  EXPECT_EQ(shape(m, m.split(t)), (decltype(shape(m, {})){{0, kPages, false}}));
}

// The tracking ckpt arms by injection, armed here by the process itself.
TEST(PageTracker, PagemapScanFindsPagesWrittenSinceWriteProtection) {
  Memory m;
  UniqueFd uffd(static_cast<int>(::syscall(SYS_userfaultfd, O_CLOEXEC | UFFD_USER_MODE_ONLY)));
  ASSERT_TRUE(uffd);
  uffdio_api api{};
  api.api = UFFD_API;
  api.features = UFFD_FEATURE_WP_ASYNC | UFFD_FEATURE_WP_UNPOPULATED;
  ASSERT_EQ(::ioctl(uffd.get(), UFFDIO_API, &api), 0);
  uffdio_register reg{};
  reg.range = {m.at(0), kPages * kPage};
  reg.mode = UFFDIO_REGISTER_MODE_WP;
  ASSERT_EQ(::ioctl(uffd.get(), UFFDIO_REGISTER, &reg), 0);
  uffdio_writeprotect wp{};
  wp.range = reg.range;
  wp.mode = UFFDIO_WRITEPROTECT_MODE_WP;
  ASSERT_EQ(::ioctl(uffd.get(), UFFDIO_WRITEPROTECT, &wp), 0);
  EXPECT_TRUE(trackable(m.vma()));
  ASSERT_NE(std::find(m.vma().vm_flags.begin(), m.vma().vm_flags.end(), "uw"),
            m.vma().vm_flags.end());

  ParentPages parent({{m.at(0), kPages, 0, false}}, {});
  m.write(1);
  m.write(2);
  m.write(6);
  PageTracker rearming(Tracking::kPagemapScan, &parent, m.pagemap(), m.mem(), true);
  EXPECT_EQ(shape(m, m.split(rearming)),
            (decltype(shape(m, {})){
                {0, 1, true}, {1, 2, false}, {3, 3, true}, {6, 1, false}, {7, 1, true}}));
  // Protected again by the scan: only what is written after it shows.
  m.write(4);
  PageTracker after(Tracking::kPagemapScan, &parent, m.pagemap(), m.mem(), false);
  EXPECT_EQ(shape(m, m.split(after)),
            (decltype(shape(m, {})){{0, 4, true}, {4, 1, false}, {5, 3, true}}));
  // Scanned ahead, the split is the scan's: a page written after it does not show, as none
  // can in a frozen process. Pages the parent lacks are copied, written or not.
  ScanAhead ahead;
  ahead.scan(m.pagemap(), m.at(0), m.at(kPages));
  EXPECT_EQ(ahead.find(m.at(0), m.at(kPages - 1)), nullptr);
  m.write(0);
  ParentPages partial({{m.at(0), 5, 0, false}}, {});
  PageTracker scanned(Tracking::kPagemapScan, &partial, m.pagemap(), m.mem(), false, &ahead);
  EXPECT_EQ(shape(m, m.split(scanned)), (decltype(shape(m, {})){{0, 4, true}, {4, 4, false}}));
  PageTracker unscanned(Tracking::kPagemapScan, &partial, m.pagemap(), m.mem(), false);
  EXPECT_EQ(shape(m, m.split(unscanned)),
            (decltype(shape(m, {})){{0, 1, false}, {1, 3, true}, {4, 4, false}}));
}

TEST(PageTracker, WithoutParentEveryPresentPageIsCopied) {
  Memory m;
  PageTracker t(Tracking::kSoftDirty, nullptr, m.pagemap(), m.mem(), false);
  EXPECT_EQ(shape(m, m.split(t)), (decltype(shape(m, {})){{0, kPages, false}}));
  EXPECT_TRUE(t.hashes().empty());
}

}  // namespace
}  // namespace crossrig::engine
