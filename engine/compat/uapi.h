#pragma once
// uapi definitions newer than Debian 12's 6.1 headers; values from the kernel's
// include/uapi/linux/fs.h, userfaultfd.h and prctl.h.

#include <linux/fs.h>
#include <linux/userfaultfd.h>
#include <sys/ioctl.h>

#include <cstdint>

#ifndef PAGEMAP_SCAN
/// One range of pages that PAGEMAP_SCAN reports, with the categories it matched.
struct page_region {
  std::uint64_t start;
  std::uint64_t end;
  std::uint64_t categories;
};

/// The argument of the PAGEMAP_SCAN ioctl on /proc/PID/pagemap.
struct pm_scan_arg {
  std::uint64_t size;
  std::uint64_t flags;
  std::uint64_t start;
  std::uint64_t end;
  std::uint64_t walk_end;
  std::uint64_t vec;
  std::uint64_t vec_len;
  std::uint64_t max_pages;
  std::uint64_t category_inverted;
  std::uint64_t category_mask;
  std::uint64_t category_anyof_mask;
  std::uint64_t return_mask;
};

#define PAGEMAP_SCAN _IOWR('f', 16, struct pm_scan_arg)
#define PM_SCAN_WP_MATCHING (1 << 0)
#define PM_SCAN_CHECK_WPASYNC (1 << 1)
#define PAGE_IS_WPALLOWED (1 << 0)
#define PAGE_IS_WRITTEN (1 << 1)
#define PAGE_IS_FILE (1 << 2)
#define PAGE_IS_PRESENT (1 << 3)
#define PAGE_IS_SWAPPED (1 << 4)
#define PAGE_IS_PFNZERO (1 << 5)
#define PAGE_IS_HUGE (1 << 6)
#define PAGE_IS_SOFT_DIRTY (1 << 7)
#endif

#ifndef UFFD_FEATURE_WP_UNPOPULATED
#define UFFD_FEATURE_WP_UNPOPULATED (1 << 13)
#endif
#ifndef UFFD_FEATURE_WP_ASYNC
#define UFFD_FEATURE_WP_ASYNC (1 << 15)
#endif

#ifndef PR_TIMER_CREATE_RESTORE_IDS
/// While on, timer_create() makes the timer under the id its third argument points at
/// (Linux 6.17), so a restored process gets its timers' ids back.
#define PR_TIMER_CREATE_RESTORE_IDS 77
#define PR_TIMER_CREATE_RESTORE_IDS_OFF 0
#define PR_TIMER_CREATE_RESTORE_IDS_ON 1
#endif
