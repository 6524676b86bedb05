#pragma once

namespace crossrig::rig {

/// `rig power BOARD on|off|cycle|state [--json]`: switches or reads a board's power.
/// argv[0] is "power"; returns rig's exit code.
int power_command(int argc, char** argv);

}  // namespace crossrig::rig
