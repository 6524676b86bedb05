#pragma once

#include <string>

#include "rig/lab/lab_plan.h"

namespace crossrig::rig::lab {

/// What `rig lab up` hands the supervisor.
struct SupervisorConfig {
  LabPlan plan;
  std::string rig_exe;      ///< This rig binary: its tftp, console serve and lab relay commands.
  std::string plugsim_exe;  ///< The plug emulator.
  std::string lab_pointer;  ///< The file that tells rig the running lab's inventory.
};

/// The lab's one long-lived process, the child subreaper of every lab process. Sets the lab
/// up (namespace, bridge, taps, DHCP, TFTP, plugs, console sockets and multiplexers,
/// inventory), writes "ok\n" or "error: WHY\n" to ready_fd and closes it, then serves control
/// requests (control.sock: "sync BOARD", "status", "down") until down or SIGTERM, and tears
/// everything down. Returns the process's exit code.
int run_supervisor(const SupervisorConfig& config, int ready_fd);

}  // namespace crossrig::rig::lab
