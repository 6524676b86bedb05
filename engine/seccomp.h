#pragma once
// Seccomp filter chains of a process's threads: sharing them in the image (the kernel's
// filters form a tree: a thread created after a filter shares it with its creator) and
// planning their installation on restore. Pure; ptrace reads and injected installs live in
// dump.cc and restore.cc.

#include <cstdint>
#include <vector>

#include "engine/task_image.h"

namespace crossrig::engine {

/// One filter as read from a thread: the raw struct sock_filter program and its flags.
struct SeccompFilter {
  std::uint64_t flags = 0;
  std::vector<std::uint8_t> insns;
};

/// Adds a thread's chain (oldest filter first) to table, reusing entries with the same
/// program, flags and ancestors; returns the index of its newest filter, -1 for no filter.
int add_seccomp_chain(std::vector<SeccompFilterImage>& table,
                      const std::vector<SeccompFilter>& chain);

/// The filters of the chain ending at entry last, oldest first; throws kBadImage on an index
/// out of range, a prev that does not point below its entry, or a malformed program.
std::vector<SeccompFilter> seccomp_chain(const std::vector<SeccompFilterImage>& table, int last);

/// How restore installs the filters of one process's threads.
struct SeccompPlan {
  /// Every thread's common oldest filters: installed once, in the leader, with TSYNC, so the
  /// threads share them again.
  std::vector<SeccompFilter> shared;
  /// Then, per thread in the order given, the rest of its own chain.
  std::vector<std::vector<SeccompFilter>> own;
};

/// The plan for threads whose newest filters are last_per_thread (-1: none); throws kBadImage
/// as seccomp_chain() does.
SeccompPlan plan_seccomp(const std::vector<SeccompFilterImage>& table,
                         const std::vector<int>& last_per_thread);

}  // namespace crossrig::engine
