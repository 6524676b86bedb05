#pragma once

#include <chrono>
#include <string>

namespace crossrig::rig::lab {

/// Asks the QEMU whose QMP socket is at path to quit (a power cut): greeting, capabilities,
/// quit. Throws std::runtime_error (crossrig::NetError) if QEMU does not answer in time.
void qmp_quit(const std::string& path, std::chrono::milliseconds timeout);

}  // namespace crossrig::rig::lab
