#pragma once

#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "rig/inventory/board.h"
#include "rig/lava/job_definition.h"

namespace crossrig::rig::lava {

/// LAVA's own device type that starts QEMU on the worker (qemu.jinja2, shipped with
/// lava-server): `rig lava export --qemu` hands the virtual lab's boards to it.
inline constexpr std::string_view kQemuDeviceType = "qemu";

/// A device dictionary of LAVA's qemu type named after the board, for a server that has no
/// qemu device yet: the machine, CPU and memory are in the jobs, so any qemu device runs them.
std::string qemu_device_dictionary(const Board& board, std::string_view inventory);

/// The LAVA job definition (YAML) of the board's default job on LAVA's qemu device type: the
/// worker runs QEMU (TCG) as the virtual lab emulates a board of the board's arch
/// (rig/lab/board_types.cc: machine, CPU, memory), booting the job's kernel and ramdisk
/// directly with the job's command line (else the lab's default, its console and /init), and
/// the monitors read the ramdisk's result lines. Returns the text, or every problem as
/// "FIELD: what to fix". The board must have a job.
std::variant<std::string, std::vector<std::string>> qemu_job_definition(const Board& board,
                                                                        const FileSource& source,
                                                                        std::string_view inventory);

}  // namespace crossrig::rig::lava
