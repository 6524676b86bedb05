#pragma once

namespace crossrig::rig {

/// `rig lava SUBCOMMAND ...`: hands the lab's boards and jobs to LAVA (`export`). argv[0] is
/// "lava".
int lava_command(int argc, char** argv);

}  // namespace crossrig::rig
