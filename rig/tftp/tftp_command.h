#pragma once

namespace crossrig::rig {

/// `rig tftp`: serves a directory read-only over TFTP until SIGINT or SIGTERM; argv[0] is "tftp".
int tftp_command(int argc, char** argv);

}  // namespace crossrig::rig
