#include "plugctl/sim/state_file.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <stdexcept>

#include "common/unique_fd.h"

namespace crossrig::plugsim {

RelayStates load_state_file(const std::string& path) {
  std::ifstream in(path);
  if (!in) {
    if (errno == ENOENT) return {};
    throw std::runtime_error("cannot read the state file " + path + ": " + std::strerror(errno));
  }
  std::stringstream text;
  text << in.rdbuf();
  nlohmann::json j = nlohmann::json::parse(text.str(), nullptr, false);
  if (j.is_discarded() || !j.is_object() || !j.contains("relays") || !j["relays"].is_object()) {
    throw std::runtime_error("the state file " + path +
                             " is not a plugsim state file; remove it to start afresh");
  }
  RelayStates states;
  for (const auto& [name, outlets] : j["relays"].items()) {
    if (!outlets.is_array()) continue;
    for (const auto& on : outlets)
      states[name].push_back(on.is_boolean() && on.get<bool>());
  }
  return states;
}

void save_state_file(const std::string& path, const RelayStates& states) {
  nlohmann::json j = {{"relays", nlohmann::json::object()}};
  for (const auto& [name, outlets] : states)
    j["relays"][name] = outlets;
  std::string text = j.dump(2) + "\n";
  std::string tmp = path + ".tmp";
  UniqueFd fd(::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644));
  auto fail = [&](const char* what) {
    throw std::runtime_error(std::string("cannot ") + what + " the state file " + tmp + ": " +
                             std::strerror(errno));
  };
  if (!fd) fail("create");
  if (::write(fd.get(), text.data(), text.size()) != static_cast<ssize_t>(text.size()))
    fail("write");
  if (::fsync(fd.get()) != 0) fail("sync");
  fd.reset();
  if (::rename(tmp.c_str(), path.c_str()) != 0) fail("rename");
}

}  // namespace crossrig::plugsim
