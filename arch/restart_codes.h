#pragma once
// The kernel-internal errno values (include/linux/errno.h) an interrupted syscall returns when
// the kernel is to restart it; every arch's restart_fixup acts on them as its signal code does.

#include <cstdint>

namespace crossrig::arch {

/// Restart if no handler runs or the handler has SA_RESTART.
inline constexpr std::int64_t kErestartsys = 512;
/// Restart always, even after a handler.
inline constexpr std::int64_t kErestartnointr = 513;
/// Restart only if no handler runs.
inline constexpr std::int64_t kErestartnohand = 514;
/// Restart through restart_syscall, which resumes from the kernel's restart block.
inline constexpr std::int64_t kErestartRestartblock = 516;
/// What the task sees when it is not restarted.
inline constexpr std::int64_t kEintr = 4;

}  // namespace crossrig::arch
