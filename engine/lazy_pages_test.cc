#include "engine/lazy_pages.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <linux/sched.h>
#include <linux/userfaultfd.h>
#include <poll.h>
#include <signal.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <future>
#include <thread>

#include "engine/ckpt_error.h"
#include "engine/image.h"

namespace crossrig::engine {
namespace {

namespace fs = std::filesystem;

// A region of this process whose pages a LazyPages serves from a page file, as a lazily
// restored process's are: page i of the file holds bytes of value i + 1, and pages kHole..
// kHole + 2 are not in the file (the process had never touched them).
class LazyPagesTest : public ::testing::Test {
 protected:
  static constexpr std::uint64_t kPages = 1024, kHole = 10;

  void SetUp() override {
    ps_ = static_cast<std::size_t>(::sysconf(_SC_PAGESIZE));
    path_ = fs::temp_directory_path() / ("ckpt-lazy-pages-test-" + std::to_string(::getpid()));
    std::vector<std::uint8_t> bytes;
    for (std::uint64_t i = 0; i < kPages; ++i) {
      if (!in_hole(i)) bytes.insert(bytes.end(), ps_, value_of(i));
    }
    std::ofstream(path_, std::ios::binary)
        .write(reinterpret_cast<const char*>(bytes.data()),
               static_cast<std::streamsize>(bytes.size()));
    source_ = {path_.string(), 0, chunk_sums(bytes), {}};
    void* p =
        ::mmap(nullptr, kPages * ps_, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    ASSERT_NE(p, MAP_FAILED);
    region_ = static_cast<std::uint8_t*>(p);
    uffd_ = UniqueFd(static_cast<int>(::syscall(SYS_userfaultfd, O_CLOEXEC | O_NONBLOCK)));
    ASSERT_TRUE(uffd_) << std::strerror(errno);
    uffdio_api api{UFFD_API, lazy_uffd_features(), 0};
    ASSERT_EQ(::ioctl(uffd_.get(), UFFDIO_API, &api), 0) << std::strerror(errno);
    uffdio_register reg{};
    reg.range = {addr(0), kPages * ps_};
    reg.mode = UFFDIO_REGISTER_MODE_MISSING;
    ASSERT_EQ(::ioctl(uffd_.get(), UFFDIO_REGISTER, &reg), 0) << std::strerror(errno);
  }
  void TearDown() override {
    ::munmap(region_, kPages * ps_);
    fs::remove(path_);
  }

  static bool in_hole(std::uint64_t i) { return i >= kHole && i < kHole + 3; }
  static std::uint8_t value_of(std::uint64_t i) { return static_cast<std::uint8_t>(i + 1); }
  std::uint64_t addr(std::uint64_t page) const {
    return reinterpret_cast<std::uint64_t>(region_) + page * ps_;
  }
  // The server of the region, with every page of the file missing.
  std::unique_ptr<LazyPages> server() {
    MissingPages missing(ps_);
    missing.add({addr(0), kHole, 0, 0});
    missing.add({addr(kHole + 3), kPages - kHole - 3, 0, kHole * ps_});
    auto s = std::make_unique<LazyPages>(ps_);
    s->add(0, std::move(uffd_), std::make_shared<PageFiles>(std::vector{source_}, false),
           std::move(missing));
    return s;
  }
  // Whether page i of mem holds what the process had there (zeros where it never wrote).
  bool page_ok(const std::uint8_t* mem, std::uint64_t i) const {
    const std::uint8_t want = in_hole(i) ? 0 : value_of(i);
    return std::all_of(mem + i * ps_, mem + (i + 1) * ps_,
                       [&](std::uint8_t b) { return b == want; });
  }
  // Waits until the kernel holds an event for the server (the thread that caused it waits
  // for it to be read), so that the server meets it before it could have copied anything.
  void wait_for_event() {
    pollfd p{uffd_.get(), POLLIN, 0};
    ASSERT_EQ(::poll(&p, 1, 10000), 1) << "no userfaultfd event within 10 s";
  }

  std::size_t ps_ = 0;
  fs::path path_;
  PageSource source_;
  std::uint8_t* region_ = nullptr;
  UniqueFd uffd_;
};

TEST_F(LazyPagesTest, ServesTouchedPagesAndCopiesTheRestInTheBackground) {
  auto s = server();
  auto stats = std::async(std::launch::async, [&] { return s->run(); });
  // Touched at once, the last pages are served before the background copy gets to them.
  for (std::uint64_t i = kPages; i-- > kPages - 4;)
    EXPECT_TRUE(page_ok(region_, i)) << "page " << i;
  EXPECT_TRUE(page_ok(region_, kHole + 1));
  const LazyStats st = stats.get();
  EXPECT_EQ(st.fault_pages + st.prefetched_pages, kPages - 3);
  for (std::uint64_t i = 0; i < kPages; ++i)
    ASSERT_TRUE(page_ok(region_, i)) << "page " << i;
}

TEST_F(LazyPagesTest, AChildForkedWhilePagesAreMissingGetsThemToo) {
  auto child = std::async(std::launch::async, [&] {
    // Not glibc's fork(), which holds malloc's locks until the kernel returns, and the kernel
    // returns once the server read the fork's event: a server in this process would wait
    // for those locks.
    clone_args args{};
    args.exit_signal = SIGCHLD;
    const pid_t pid = static_cast<pid_t>(::syscall(SYS_clone3, &args, sizeof args));
    if (pid == 0) {
      bool ok = true;
      for (std::uint64_t i = 0; i < kPages; ++i)
        ok = ok && page_ok(region_, i);
      ::_exit(ok ? 0 : 1);
    }
    int status = -1;
    ::waitpid(pid, &status, 0);
    return status;
  });
  wait_for_event();
  auto s = server();
  const LazyStats st = s->run();
  EXPECT_EQ(st.forks, 1U);
  EXPECT_EQ(child.get(), 0) << "the child read other bytes than its parent had";
  for (std::uint64_t i = 0; i < kPages; ++i)
    ASSERT_TRUE(page_ok(region_, i)) << "page " << i;
}

TEST_F(LazyPagesTest, PagesDiscardedMeanwhileStayZero) {
  auto discard = std::async(
      std::launch::async, [&] { return ::madvise(region_ + 100 * ps_, 50 * ps_, MADV_DONTNEED); });
  wait_for_event();
  auto s = server();
  const LazyStats st = s->run();
  EXPECT_EQ(discard.get(), 0);
  EXPECT_EQ(st.fault_pages + st.prefetched_pages, kPages - 3 - 50);
  for (std::uint64_t i = 0; i < kPages; ++i) {
    if (i >= 100 && i < 150)
      ASSERT_EQ(region_[i * ps_], 0) << "page " << i << " was filled after it was discarded";
    else
      ASSERT_TRUE(page_ok(region_, i)) << "page " << i;
  }
}

TEST_F(LazyPagesTest, PagesMovedMeanwhileAreFilledWhereTheyWent) {
  void* to = ::mmap(nullptr, 64 * ps_, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  ASSERT_NE(to, MAP_FAILED);
  auto move = std::async(std::launch::async, [&] {
    return ::mremap(region_ + 200 * ps_, 64 * ps_, 64 * ps_, MREMAP_MAYMOVE | MREMAP_FIXED, to);
  });
  wait_for_event();
  auto s = server();
  s->run();
  ASSERT_EQ(move.get(), to);
  const auto* moved = static_cast<const std::uint8_t*>(to);
  for (std::uint64_t i = 0; i < 64; ++i)
    ASSERT_EQ(moved[i * ps_], value_of(200 + i)) << "moved page " << i;
  ::munmap(to, 64 * ps_);
}

TEST_F(LazyPagesTest, ADamagedChunkStopsTheServer) {
  {
    std::fstream f(path_, std::ios::in | std::ios::out | std::ios::binary);
    f.seekp(static_cast<std::streamoff>(5 * ps_));
    f.put('\x7f');
  }
  auto s = server();
  try {
    s->run();
    ADD_FAILURE() << "pages of a damaged chunk were served";
  } catch (const CkptError& e) {
    EXPECT_EQ(e.kind(), CkptError::kBadImage);
  }
}

}  // namespace
}  // namespace crossrig::engine
