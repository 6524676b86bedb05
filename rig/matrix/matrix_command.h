#pragma once

namespace crossrig::rig {

/// `rig matrix [...]`: every board's job, the night's reports under RESULTS/DATE.
/// argv[0] is "matrix"; returns rig's exit code.
int matrix_command(int argc, char** argv);

/// `rig nightly [...]`: rig matrix, then keeps each board's booted kernel and removes nights
/// and kernels beyond the retention. argv[0] is "nightly".
int nightly_command(int argc, char** argv);

}  // namespace crossrig::rig
