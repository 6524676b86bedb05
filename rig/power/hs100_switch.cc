#include "rig/power/hs100_switch.h"

#include <cstdlib>
#include <fstream>
#include <optional>

#include "plugctl/auto_transport.h"
#include "plugctl/device.h"
#include "plugctl/errors.h"
#include "plugctl/protocol.h"

namespace crossrig::rig {

namespace {

using crossrig::plugctl::PlugError;

std::optional<std::string> setting(const Board& board, const char* key) {
  auto it = board.power.settings.find(key);
  if (it == board.power.settings.end()) return std::nullopt;
  return it->second;
}

crossrig::plugctl::Credentials credentials_of(const Board& board) {
  crossrig::plugctl::Credentials c;
  if (const char* u = std::getenv("KASA_USERNAME")) c.username = u;
  if (const char* p = std::getenv("KASA_PASSWORD")) c.password = p;
  if (auto user = setting(board, "username")) c.username = user;
  if (auto file = setting(board, "password_file")) {
    std::ifstream in(*file);
    if (!in) {
      throw PowerError(PowerError::kUsage, "board '" + board.name +
                                               "': cannot read power.password_file '" + *file +
                                               "'; check the path and its permissions");
    }
    std::string password;
    std::getline(in, password);
    if (!password.empty() && password.back() == '\r') password.pop_back();
    c.password = password;
  }
  return c;
}

PowerError::Kind kind_of(const PlugError& e) {
  switch (e.kind()) {
    case PlugError::kUnreachable:
      return PowerError::kUnreachable;
    case PlugError::kAuth:
      return PowerError::kAuth;
    case PlugError::kUsage:
      return PowerError::kUsage;
    default:
      return PowerError::kFailed;
  }
}

class Hs100Switch : public PowerSwitch {
 public:
  Hs100Switch(const Board& board, const PowerOptions& options)
      : board_name_(board.name),
        address_(*setting(board, "address")),
        outlet_(setting(board, "outlet")),
        transport_(
            crossrig::plugctl::parse_transport_kind(setting(board, "transport").value_or("auto"))),
        credentials_(credentials_of(board)),
        timeout_(options.timeout) {}

  void set(bool on) override {
    exchange([&](crossrig::plugctl::Device& d) {
      d.set_on(on);
      return on;
    });
  }

  bool is_on() override {
    return exchange([](crossrig::plugctl::Device& d) { return d.is_on(); });
  }

  std::string describe() const override {
    return "hs100 " + address_ + (outlet_ ? " outlet " + *outlet_ : "");
  }

 private:
  // A fresh protocol per exchange: its deadline covers one exchange, not the whole command.
  template <typename F>
  bool exchange(F&& f) {
    try {
      crossrig::plugctl::Protocol protocol(
          crossrig::plugctl::make_transport(transport_, address_, credentials_), timeout_, 1);
      crossrig::plugctl::Device device(protocol, outlet_);
      return f(device);
    } catch (const PlugError& e) {
      // plugctl's messages already name the address.
      std::string what = outlet_ ? "hs100 outlet " + *outlet_ : "hs100 plug";
      throw PowerError(kind_of(e), "board '" + board_name_ + "': " + what + ": " + e.what());
    }
  }

  std::string board_name_;
  std::string address_;
  std::optional<std::string> outlet_;
  crossrig::plugctl::TransportKind transport_;
  crossrig::plugctl::Credentials credentials_;
  std::chrono::milliseconds timeout_;
};

}  // namespace

std::unique_ptr<PowerSwitch> make_hs100_switch(const Board& board, const PowerOptions& options) {
  return std::make_unique<Hs100Switch>(board, options);
}

}  // namespace crossrig::rig
