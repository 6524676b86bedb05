#pragma once

namespace crossrig::rig {

/// `rig run --board B --kernel K --ramdisk R ...`: one test job on a board.
/// argv[0] is "run"; returns rig's exit code.
int run_command(int argc, char** argv);

}  // namespace crossrig::rig
