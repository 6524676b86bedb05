#pragma once

#include <vector>

#include "rig/matrix/night.h"

namespace crossrig::rig::matrix::testing {

/// Three nights of a lab, 2026-12-01 to 2026-12-03, for the matrix's unit tests; the last is
/// "tonight". Boards: qemu-x86_64, qemu-aarch64, cell (ppc64, SLOF) and qemu-s390x.
/// Tonight against the two before:
/// - qemu-x86_64: ckpt/restore_threads passed both nights, fails (a regression); ckpt/lazy
///   failed both nights, passes (fixed); uname passes.
/// - qemu-aarch64: ckpt/lazy passed, is missing tonight (a regression); uname passes.
/// - cell: ckpt/restore_threads has failed since 2026-12-01 and never passed; ckpt/lazy skips.
/// - qemu-s390x: its build failed tonight, so its job did not run (result error, no tests).
/// Every job reports ckpt/bench_dump_rate_64MiB in MiB/s and ckpt/bench_dump_64MiB in x_dd,
/// and boot times; console logs are BOARD/console.log.
std::vector<Night> sample_nights();

}  // namespace crossrig::rig::matrix::testing
