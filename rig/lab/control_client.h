#pragma once

#include <chrono>
#include <string>

namespace crossrig::rig::lab {

/// Sends one request line to the supervisor's control socket and returns its answer line
/// ("ok ..." or "error ..."). Throws std::runtime_error when the supervisor does not answer.
std::string ask_supervisor(const std::string& socket_path, const std::string& request,
                           std::chrono::milliseconds timeout);

/// Whether pid is a live process (not gone, not a zombie).
bool process_alive(int pid);

}  // namespace crossrig::rig::lab
