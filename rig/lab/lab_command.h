#pragma once

namespace crossrig::rig {

/// `rig lab up | down | status`: the virtual lab of QEMU boards (see rig/lab/README.md).
int lab_command(int argc, char** argv);

}  // namespace crossrig::rig
