#include "engine/lazy_pages.h"

#include <linux/userfaultfd.h>
#include <poll.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <string>

#include "engine/ckpt_error.h"

namespace crossrig::engine {

namespace {

// A fault copies the aligned block around the touched page: a thread walking its memory
// takes one fault per block, not per page, and a block costs little more than a page.
constexpr std::uint64_t kFaultBlockPages = 16;
// Background copies are this large: big enough that the ioctl's cost vanishes, small enough
// that a fault waits no longer than one copy.
constexpr std::uint64_t kPrefetchBytes = 1 << 20;

}  // namespace

std::uint64_t lazy_uffd_features() {
  return UFFD_FEATURE_EVENT_FORK | UFFD_FEATURE_EVENT_REMAP | UFFD_FEATURE_EVENT_REMOVE |
         UFFD_FEATURE_EVENT_UNMAP;
}

void LazyPages::add(pid_t pid, UniqueFd uffd, std::shared_ptr<PageFiles> files,
                    MissingPages missing) {
  spaces_.push_back(
      std::make_unique<Space>(Space{pid, std::move(uffd), std::move(files), std::move(missing)}));
}

// Copies runs into the space; *pages counts those copied. kRetry: the process is changing its
// mappings and events wait to be read first; kGone: its address space is gone.
LazyPages::Copied LazyPages::copy(Space& s, const std::vector<LazyRun>& runs,
                                  std::uint64_t* pages) {
  for (const LazyRun& r : runs) {
    const std::uint64_t len = r.npages * page_;
    std::span<const std::uint8_t> src;
    if (s.files->remote(r.source)) {
      if (!remote_)
        throw CkptError(CkptError::kUsage, "pages at " + std::to_string(r.vaddr) +
                                               " are on the source host, and no link to it");
      fetched_.resize(len);
      remote_->fetch(s.pid, r.offset, fetched_);
      stats_.remote_pages += r.npages;
      src = fetched_;
    } else {
      src = s.files->bytes(r.source, r.offset, len);
    }
    for (std::uint64_t done = 0; done < len;) {
      uffdio_copy c{};
      c.dst = r.vaddr + done;
      c.src = reinterpret_cast<std::uint64_t>(src.data() + done);
      c.len = len - done;
      const int rc = ::ioctl(s.uffd.get(), UFFDIO_COPY, &c);
      const int err = rc == 0 ? 0 : errno;
      const std::uint64_t copied = c.copy > 0 ? static_cast<std::uint64_t>(c.copy) : 0;
      s.missing.forget(c.dst, c.dst + copied);
      *pages += copied / page_;
      done += copied;
      if (err == 0) continue;
      if (err == EAGAIN) return Copied::kRetry;
      if (err == ESRCH) return Copied::kGone;
      if (err == EEXIST || err == ENOENT || err == EINVAL) {
        // A page already there, or no longer a registered mapping of the process: nothing to
        // fill at that page.
        s.missing.forget(c.dst + copied, c.dst + copied + page_);
        done += page_;
        continue;
      }
      throw CkptError(CkptError::kSystem, "UFFDIO_COPY of " + std::to_string(c.len) + " bytes at " +
                                              std::to_string(c.dst) + ": " + std::strerror(err));
    }
  }
  return Copied::kAll;
}

// The page was not in the image (the process had never touched it): it reads zeros. Returns
// false when the address space is gone.
bool LazyPages::zero_page(Space& s, std::uint64_t page) {
  uffdio_zeropage z{};
  z.range.start = page;
  z.range.len = page_;
  if (::ioctl(s.uffd.get(), UFFDIO_ZEROPAGE, &z) == 0) {
    ++stats_.zero_pages;
    return true;
  }
  if (errno == ESRCH) return false;
  // Already filled (the fault was read after a background copy of it), or unmapped meanwhile:
  // the thread only needs waking to find out.
  uffdio_range wake{page, page_};
  ::ioctl(s.uffd.get(), UFFDIO_WAKE, &wake);
  return true;
}

void LazyPages::serve_fault(Space& s, std::uint64_t addr) {
  const std::uint64_t page = addr / page_ * page_;
  ++stats_.faults;
  if (!s.missing.contains(page)) {
    zero_page(s, page);
    return;
  }
  const Copied c = copy(s, s.missing.around(page, kFaultBlockPages), &stats_.fault_pages);
  // Still missing only when the copy must wait for events: the thread faults again once
  // woken, and is served then.
  if (c == Copied::kRetry) {
    uffdio_range wake{page, page_};
    ::ioctl(s.uffd.get(), UFFDIO_WAKE, &wake);
  }
}

// Handles every message waiting on the space's userfaultfd; false when its process is gone.
bool LazyPages::read_events(Space& s) {
  uffd_msg msgs[32];
  for (;;) {
    const ssize_t n = ::read(s.uffd.get(), msgs, sizeof msgs);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && errno == EAGAIN) return true;
    if (n <= 0) return false;
    for (std::size_t i = 0; i < static_cast<std::size_t>(n) / sizeof(uffd_msg); ++i) {
      const uffd_msg& m = msgs[i];
      switch (m.event) {
        case UFFD_EVENT_PAGEFAULT:
          serve_fault(s, m.arg.pagefault.address);
          break;
        case UFFD_EVENT_FORK:
          // The child has the parent's mappings, and is missing exactly what the parent is.
          ++stats_.forks;
          add(s.pid, UniqueFd(static_cast<int>(m.arg.fork.ufd)), s.files, s.missing);
          break;
        case UFFD_EVENT_REMAP:
          s.missing.move(m.arg.remap.from, m.arg.remap.to, m.arg.remap.len);
          break;
        case UFFD_EVENT_REMOVE:
        case UFFD_EVENT_UNMAP:
          s.missing.forget(m.arg.remove.start, m.arg.remove.end);
          break;
        default:
          throw CkptError(CkptError::kSystem,
                          "userfaultfd sent an unknown event " + std::to_string(m.event));
      }
    }
  }
}

bool LazyPages::prefetch() {
  for (std::size_t tried = 0; tried < spaces_.size(); ++tried) {
    Space& s = *spaces_[next_ % spaces_.size()];
    ++next_;
    if (s.missing.empty()) continue;
    if (copy(s, s.missing.first(kPrefetchBytes / page_), &stats_.prefetched_pages) == Copied::kGone)
      s.missing = MissingPages(page_);
    return true;
  }
  return false;
}

LazyStats LazyPages::run() {
  const auto start = std::chrono::steady_clock::now();
  while (!spaces_.empty()) {
    std::vector<pollfd> fds;
    for (const auto& s : spaces_)
      fds.push_back({s->uffd.get(), POLLIN, 0});
    const bool work_left = std::any_of(spaces_.begin(), spaces_.end(),
                                       [](const auto& s) { return !s->missing.empty(); });
    const int ready = ::poll(fds.data(), fds.size(), work_left ? 0 : -1);
    if (ready < 0 && errno != EINTR) throw_errno("polling userfaultfds");
    if (ready > 0) {
      // Indexes are stable: a fork event appends a space after the ones polled.
      for (std::size_t i = 0; i < fds.size(); ++i) {
        if (fds[i].revents == 0) continue;
        if (!read_events(*spaces_[i])) spaces_[i]->missing = MissingPages(page_);
      }
    } else if (ready == 0) {
      prefetch();
    }
    // A whole address space needs its userfaultfd no more: closing it unregisters the
    // mappings, so later faults cost the process nothing.
    std::erase_if(spaces_, [](const auto& s) { return s->missing.empty(); });
  }
  if (remote_) remote_->all_arrived();
  stats_.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  return stats_;
}

}  // namespace crossrig::engine
