#pragma once

namespace crossrig::rig {

/// `rig boards [--inventory FILE] [--json]`: lists the boards. argv[0] is "boards".
int boards_command(int argc, char** argv);

/// `rig check-inventory FILE [--json]`: validates an inventory file. argv[0] is the command.
int check_inventory_command(int argc, char** argv);

}  // namespace crossrig::rig
