// plugsim: emulates TP-Link HS100-family plugs and strips for tests and the virtual lab.

// GCC 12 at -O2 reports a null dereference inside Boost's typed_value<std::string>::notify()
// that cannot happen; silence it for this file only.
#pragma GCC diagnostic ignored "-Wnull-dereference"

#include <boost/program_options.hpp>
#include <iostream>

#include "plugctl/sim/device_spec.h"
#include "plugctl/sim/fixture_store.h"
#include "plugctl/sim/sim_server.h"

namespace po = boost::program_options;
using namespace crossrig::plugsim;

namespace {

constexpr const char* kUsage = R"(Usage: plugsim --device SPEC [--device SPEC ...] [options]

Emulates TP-Link Kasa plugs and strips (HS100, HS103, HS105, HS110, KP115, HS300, KP303)
from python-kasa fixtures compiled into the binary. One process serves several devices.

Device SPEC:  MODEL[@FIXTURE]:ADDR:PORT[,key=value...]
  MODEL     HS100, HS110(EU), KP303, ... (the model's embedded fixture; XOR-era firmware first)
  FIXTURE   an embedded fixture name (see --list-fixtures) or a path to a fixture file
  ADDR      numeric IPv4 or IPv6 address to listen on ([::1] for IPv6)
  PORT      XOR port, TCP (4-byte length prefix) and UDP (no prefix); 0 picks a free one
  keys:
    klap=PORT            also serve KLAP over HTTP on PORT (0 picks one)
    klap-version=1|2     KLAP auth hash: 1 = md5 (old firmware), 2 = sha256 (default)
    credentials=FILE     the owner's account: username on line 1, password on line 2;
                         without it the device has blank credentials (never on argv)
    tdp=PORT             KLAP discovery (TDP) UDP port, default 20002 when klap is set;
                         if it is taken, plugsim warns and serves KLAP without discovery
    session-timeout=S    KLAP sessions expire after S seconds (default 86400); clients
                         must handshake again, requests on an expired session get 403
    xor=off              do not serve XOR (a KLAP-only device)
    reboot-time=S        after system.reboot (and its delay), every connection is dropped
                         and the ports refuse connections for S seconds (default 1)
    name=NAME            name for --on-change and --state-file (default: the SPEC head)
    mac=AA:BB:CC:DD:EE:FF  reported MAC (default: derived from address and ports)
    alias=TEXT           alias to start with (default: the fixture's)

Readiness: once every socket is bound, plugsim prints one JSON line per device on stdout,
in --device order, then serves:
  {"name":..,"model":..,"address":..,"xor_port":N|null,"klap_port":N|null,"tdp_port":N|null,
   "klap_version":1|2|null,"outlets":N,"mac":..}
Broadcast discovery: for a unicast IPv4 ADDR (not loopback) plugsim also binds the wildcard
address on the XOR and TDP ports (SO_REUSEADDR, several plugsims may share them) and answers
broadcasts from ADDR.

--on-change CMD runs `/bin/sh -c CMD` whenever a relay switches, with PLUGSIM_DEVICE (name),
PLUGSIM_OUTLET (1-based, 1 for a plug) and PLUGSIM_STATE (on|off) in its environment.
SIGTERM and SIGINT stop plugsim (exit status 0); bad arguments exit with 2, a device that
cannot be built or bound with 1.

Options)";

}  // namespace

int main(int argc, char** argv) {
  ServerOptions options;
  std::vector<std::string> devices;
  double idle = 30, request = 5;
  po::options_description desc(kUsage);
  desc.add_options()("help,h", "show this help")("version", "print the version")(
      "list-fixtures", "print the embedded fixtures")("device,d", po::value(&devices),
                                                      "a device SPEC (repeatable)")(
      "on-change", po::value(&options.on_change), "shell command run when a relay switches")(
      "state-file", po::value(&options.state_file), "keep relay states in FILE across restarts")(
      "verbose,v", po::bool_switch(&options.verbose), "log one line per request to stderr")(
      "idle-timeout", po::value(&idle)->default_value(30),
      "close connections idle this many seconds")(
      "request-timeout", po::value(&request)->default_value(5),
      "close connections whose request is not whole this many seconds after its first byte")(
      "max-connections", po::value(&options.max_connections)->default_value(1000),
      "close connections accepted beyond this many");
  po::variables_map vm;
  try {
    po::store(po::command_line_parser(argc, argv).options(desc).run(), vm);
    po::notify(vm);
  } catch (const po::error& e) {
    std::cerr << "plugsim: " << e.what() << "; see plugsim --help\n";
    return 2;
  }
  if (vm.count("on-change")) options.on_change = vm["on-change"].as<std::string>();
  if (vm.count("state-file")) options.state_file = vm["state-file"].as<std::string>();
  if (vm.count("help")) {
    std::cout << desc << '\n';
    return 0;
  }
  if (vm.count("version")) {
    std::cout << "plugsim " << CROSSRIG_VERSION << '\n';
    return 0;
  }
  if (vm.count("list-fixtures")) {
    for (const auto& f : embedded_fixtures())
      std::cout << f.name << '\n';
    return 0;
  }
  if (devices.empty()) {
    std::cerr << "plugsim: no --device given; see plugsim --help\n";
    return 2;
  }
  if (idle <= 0 || request <= 0) {
    std::cerr << "plugsim: --idle-timeout and --request-timeout must be positive\n";
    return 2;
  }
  options.idle_timeout = std::chrono::milliseconds(static_cast<long>(idle * 1000));
  options.request_timeout = std::chrono::milliseconds(static_cast<long>(request * 1000));
  std::vector<DeviceSpec> specs;
  try {
    for (const auto& text : devices)
      specs.push_back(parse_device_spec(text));
  } catch (const std::exception& e) {
    std::cerr << "plugsim: " << e.what() << '\n';
    return 2;
  }
  try {
    SimServer server(std::move(specs), std::move(options));
    server.bind();
    std::cout << server.ready_lines() << std::flush;
    return server.run();
  } catch (const std::exception& e) {
    std::cerr << "plugsim: " << e.what() << '\n';
    return 1;
  }
}
