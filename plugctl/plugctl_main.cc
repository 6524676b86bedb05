// plugctl: control TP-Link HS100-family plugs and strips (XOR or KLAP) from the command line.

#include <boost/program_options.hpp>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <fstream>
#include <iostream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "plugctl/auto_transport.h"
#include "plugctl/credentials.h"
#include "plugctl/device.h"
#include "plugctl/discover.h"
#include "plugctl/errors.h"
#include "plugctl/protocol.h"

namespace po = boost::program_options;
using crossrig::plugctl::PlugError;
using nlohmann::json;

namespace {

constexpr const char* kUsage = R"(Usage: plugctl -H HOST[:PORT] [options] COMMAND [ARGS]
       plugctl discover [--target BROADCAST] [--timeout SECONDS] [--json]

Commands:
  on | off              switch the relay (or the --child outlet)
  state                 print "Power ON" or "Power OFF"
  toggle                switch to the other state and print it
  info                  sysinfo summary: model, alias, MAC, firmware, outlets
  reboot                reboot the device
  led [on|off]          print or set the LED
  alias [NAME]          print or set the alias (of the device or the --child outlet)
  emeter                realtime voltage, current, power and total energy
  emeter --day[=YYYY-MM]  daily energy of a month (default: this month)
  emeter --month[=YYYY]   monthly energy of a year (default: this year)
  time                  the device's clock
  raw JSON              send any request, print the reply
  discover              broadcast on UDP 9999 (XOR) and 20002 (KLAP), list devices by MAC
)";

constexpr const char* kExitCodes = R"(
Exit codes:
  0  success
  1  device error: the device answered err_code != 0 (its err_msg is printed)
  2  usage error: fix the command line
  3  unreachable or timeout: check the address, the power, the network; --retries helps
  4  authentication failure: give the device's account (see Credentials)
  5  bad reply: truncated, over 1 MiB, not JSON or of the wrong shape

Credentials (KLAP devices only; tried: given ones as KLAP v2 then v1, blank, known defaults):
  --username NAME --password-file FILE, or KASA_USERNAME / KASA_PASSWORD in the environment,
  or --credentials-hash BASE64 (python-kasa's stored credentials_hash). Never on argv.

Examples:
  plugctl -H 192.168.1.20 on
  plugctl -H 192.168.1.30 --child 3 state
  plugctl -H lab-strip --json info
  plugctl discover --target 192.168.1.255
)";

struct Options {
  std::string host, command, transport = "auto", target = "255.255.255.255";
  std::vector<std::string> args;
  std::optional<std::string> child, username, password_file, credentials_hash, day, month;
  bool json = false;
  double timeout = 5;
  int retries = 0;
};

[[noreturn]] void usage_error(const std::string& what) {
  throw PlugError(PlugError::kUsage, what + "; run plugctl --help");
}

std::string read_password_file(const std::string& path) {
  std::ifstream in(path);
  if (!in) usage_error("cannot read --password-file '" + path + "'");
  std::string password;
  std::getline(in, password);
  if (!password.empty() && password.back() == '\r') password.pop_back();
  return password;
}

crossrig::plugctl::Credentials credentials_of(const Options& o) {
  crossrig::plugctl::Credentials c;
  if (const char* u = std::getenv("KASA_USERNAME")) c.username = u;
  if (const char* p = std::getenv("KASA_PASSWORD")) c.password = p;
  if (o.username) c.username = o.username;
  if (o.password_file) c.password = read_password_file(*o.password_file);
  if (o.credentials_hash)
    c.auth_hash = crossrig::plugctl::parse_credentials_hash(*o.credentials_hash);
  return c;
}

void print(const Options& o, const json& j, const std::string& text) {
  if (o.json) {
    std::cout << j.dump() << '\n';
  } else {
    std::cout << text;
  }
}

std::string power_line(bool on) {
  return on ? "Power ON\n" : "Power OFF\n";
}

std::string fixed(double v, int digits) {
  std::ostringstream s;
  s.setf(std::ios::fixed);
  s.precision(digits);
  s << v;
  return s.str();
}

std::tm local_now() {
  std::time_t t = std::time(nullptr);
  std::tm tm{};
  localtime_r(&t, &tm);
  return tm;
}

int parse_int(const std::string& text, const char* what) {
  try {
    std::size_t used = 0;
    int v = std::stoi(text, &used);
    if (used == text.size()) return v;
  } catch (const std::exception&) {
  }
  usage_error(std::string("bad ") + what + " '" + text + "'");
}

void expect_args(const Options& o, std::size_t min, std::size_t max) {
  if (o.args.size() < min || o.args.size() > max) {
    usage_error("wrong number of arguments for '" + o.command + "'");
  }
}

int run_emeter(const Options& o, crossrig::plugctl::Device& device) {
  if (o.day && o.month) usage_error("give --day or --month, not both");
  std::tm now = local_now();
  if (o.day || o.month) {
    bool days = o.day.has_value();
    const std::string& when = days ? *o.day : *o.month;
    int year = now.tm_year + 1900, month = now.tm_mon + 1;
    if (!when.empty()) {
      year = parse_int(when.substr(0, 4), days ? "--day (want YYYY-MM)" : "--month (want YYYY)");
      if (days) {
        if (when.size() != 7 || when[4] != '-')
          usage_error("bad --day '" + when + "', want YYYY-MM");
        month = parse_int(when.substr(5), "--day month");
      } else if (when.size() != 4) {
        usage_error("bad --month '" + when + "', want YYYY");
      }
    }
    json rows = days ? device.emeter_days(year, month) : device.emeter_months(year);
    std::string text;
    for (const auto& r : rows) {
      char date[32];
      if (days) {
        std::snprintf(date, sizeof date, "%04d-%02d-%02d", r["year"].get<int>(),
                      r["month"].get<int>(), r["day"].get<int>());
      } else {
        std::snprintf(date, sizeof date, "%04d-%02d", r["year"].get<int>(), r["month"].get<int>());
      }
      text += std::string(date) + "  " + fixed(r["energy_kwh"].get<double>(), 3) + " kWh\n";
    }
    print(o, {{days ? "days" : "months", rows}}, text);
    return 0;
  }
  json rt = device.emeter_realtime();
  print(o, rt,
        "Voltage: " + fixed(rt["voltage_v"].get<double>(), 2) + " V\n" +
            "Current: " + fixed(rt["current_a"].get<double>(), 3) + " A\n" +
            "Power:   " + fixed(rt["power_w"].get<double>(), 2) + " W\n" +
            "Total:   " + fixed(rt["total_kwh"].get<double>(), 3) + " kWh\n");
  return 0;
}

std::string info_text(const json& s) {
  std::string text;
  for (const char* key : {"alias", "model", "mac", "hw_ver", "sw_ver", "rssi", "on_time"}) {
    if (!s.contains(key)) continue;
    const json& v = s[key];
    text += std::string(key) + ": " + (v.is_string() ? v.get<std::string>() : v.dump()) + "\n";
  }
  text += std::string("state: ") + (s["on"].get<bool>() ? "ON" : "OFF") + "\n";
  if (s.contains("led"))
    text += std::string("led: ") + (s["led"].get<bool>() ? "ON" : "OFF") + "\n";
  if (s.contains("children")) {
    for (const auto& c : s["children"]) {
      text += "outlet " + std::to_string(c["index"].get<int>()) + ": " +
              (c["on"].get<bool>() ? "ON " : "OFF") + "  " + c["alias"].get<std::string>() + "  (" +
              c["id"].get<std::string>() + ")\n";
    }
  }
  return text;
}

int run_discover(const Options& o) {
  auto devices = crossrig::plugctl::discover(
      o.target, std::chrono::milliseconds(static_cast<long>(o.timeout * 1000)));
  json list = json::array();
  std::string text;
  for (const auto& d : devices) {
    json j = {{"ip", d.ip},
              {"mac", d.mac},
              {"model", d.model},
              {"alias", d.alias},
              {"transport", d.transport},
              {"port", d.port}};
    if (d.on) j["on"] = *d.on;
    list.push_back(j);
    text += d.ip + ":" + std::to_string(d.port) + "  " + d.mac + "  " + d.transport + "  " +
            d.model + (d.alias.empty() ? "" : "  " + d.alias) +
            (d.on ? (*d.on ? "  ON" : "  OFF") : "") + "\n";
  }
  print(o, list, text);
  return 0;
}

int run_device_command(const Options& o) {
  using namespace crossrig::plugctl;
  if (o.host.empty()) usage_error("'" + o.command + "' needs -H HOST[:PORT]");
  auto timeout = std::chrono::milliseconds(static_cast<long>(std::ceil(o.timeout * 1000)));
  Protocol protocol(make_transport(parse_transport_kind(o.transport), o.host, credentials_of(o)),
                    timeout, o.retries);
  Device device(protocol, o.child);
  const std::string& c = o.command;
  if (c == "on" || c == "off") {
    expect_args(o, 0, 0);
    device.set_on(c == "on");
    print(o, {{"on", c == "on"}}, power_line(c == "on"));
  } else if (c == "state") {
    expect_args(o, 0, 0);
    bool on = device.is_on();
    print(o, {{"on", on}}, power_line(on));
  } else if (c == "toggle") {
    expect_args(o, 0, 0);
    bool on = device.toggle();
    print(o, {{"on", on}}, power_line(on));
  } else if (c == "info") {
    expect_args(o, 0, 0);
    json info = device.sysinfo();
    json s = summarize_sysinfo(info, protocol.transport().target());
    s["transport"] = protocol.transport().name();
    if (device.outlet()) s["outlet"] = device.outlet()->index;
    print(o, s, info_text(s) + "transport: " + protocol.transport().name() + "\n");
  } else if (c == "reboot") {
    expect_args(o, 0, 0);
    device.reboot();
    print(o, {{"rebooting", true}}, "Rebooting\n");
  } else if (c == "led") {
    expect_args(o, 0, 1);
    bool on;
    if (o.args.empty()) {
      on = device.led();
    } else if (o.args[0] == "on" || o.args[0] == "off") {
      on = o.args[0] == "on";
      device.set_led(on);
    } else {
      usage_error("led takes 'on' or 'off', not '" + o.args[0] + "'");
    }
    print(o, {{"led", on}}, on ? "LED ON\n" : "LED OFF\n");
  } else if (c == "alias") {
    expect_args(o, 0, 1);
    if (!o.args.empty()) device.set_alias(o.args[0]);
    std::string alias = o.args.empty() ? device.alias() : o.args[0];
    print(o, {{"alias", alias}}, alias + "\n");
  } else if (c == "emeter") {
    expect_args(o, 0, 0);
    return run_emeter(o, device);
  } else if (c == "time") {
    expect_args(o, 0, 0);
    json t = device.time();
    std::string text = format_device_time(t, protocol.transport().target());
    print(o, {{"time", text}, {"fields", t}}, text + "\n");
  } else if (c == "raw") {
    expect_args(o, 1, 1);
    json request = json::parse(o.args[0], nullptr, false);
    if (!request.is_object() || request.empty()) {
      usage_error("raw needs a JSON object such as '{\"system\":{\"get_sysinfo\":{}}}'");
    }
    json reply = device.raw(request);
    print(o, reply, reply.dump(2) + "\n");
  } else {
    usage_error("unknown command '" + c + "'");
  }
  return 0;
}

int run(int argc, char** argv) {
  Options o;
  po::options_description opts("Options");
  opts.add_options()("help,h", "print this help")(
      "host,H", po::value(&o.host),
      "device address, HOST or HOST:PORT (XOR port, or HTTP port for KLAP)")(
      "transport", po::value(&o.transport), "auto (XOR first, then KLAP), xor, udp or klap")(
      "child,c", po::value<std::string>(), "outlet of a strip: number from 1, id or alias")(
      "json", po::bool_switch(&o.json), "machine-readable JSON output")(
      "timeout", po::value(&o.timeout),
      "seconds the whole command may take (default 5; for discover, how long to listen)")(
      "retries", po::value(&o.retries),
      "retry timeouts and dropped connections N times (default 0)")(
      "username", po::value<std::string>(), "KLAP account user name")(
      "password-file", po::value<std::string>(), "file whose first line is the KLAP password")(
      "credentials-hash", po::value<std::string>(), "python-kasa's base64 credentials hash")(
      "day", po::value<std::string>()->implicit_value(""),
      "emeter: daily statistics, --day=YYYY-MM")("month",
                                                 po::value<std::string>()->implicit_value(""),
                                                 "emeter: monthly statistics, --month=YYYY")(
      "target", po::value(&o.target), "discover: broadcast address (default 255.255.255.255)")(
      "version", "print the version");
  po::options_description hidden;
  hidden.add_options()("command", po::value(&o.command))("args", po::value(&o.args)->multitoken());
  po::options_description all;
  all.add(opts).add(hidden);
  po::positional_options_description pos;
  pos.add("command", 1).add("args", -1);
  po::variables_map vm;
  try {
    po::store(po::command_line_parser(argc, argv).options(all).positional(pos).run(), vm);
    po::notify(vm);
  } catch (const po::error& e) {
    usage_error(e.what());
  }
  if (vm.count("help")) {
    std::cout << kUsage << '\n' << opts << kExitCodes;
    return 0;
  }
  if (vm.count("version")) {
    std::cout << "plugctl " CROSSRIG_VERSION "\n";
    return 0;
  }
  auto optional_of = [&](const char* name) -> std::optional<std::string> {
    if (!vm.count(name)) return std::nullopt;
    return vm[name].as<std::string>();
  };
  o.child = optional_of("child");
  o.username = optional_of("username");
  o.password_file = optional_of("password-file");
  o.credentials_hash = optional_of("credentials-hash");
  o.day = optional_of("day");
  o.month = optional_of("month");
  if (!(o.timeout > 0) || o.timeout > 3600) usage_error("--timeout must be from 0 to 3600 seconds");
  if (o.retries < 0 || o.retries > 100) usage_error("--retries must be from 0 to 100");
  if (o.command.empty()) usage_error("no command given");
  if (o.command != "emeter" && (o.day || o.month)) usage_error("--day and --month go with emeter");
  if (o.command == "discover") {
    expect_args(o, 0, 0);
    return run_discover(o);
  }
  return run_device_command(o);
}

// What to do, for errors whose message names only what failed (advice follows a "; ").
const char* hint(PlugError::Kind kind) {
  switch (kind) {
    case PlugError::kDevice:
      return "; this model or firmware may not support the request";
    case PlugError::kBadReply:
      return "; check that -H names a TP-Link plug, or choose --transport xor or klap";
    default:
      return "";
  }
}

}  // namespace

int main(int argc, char** argv) {
  try {
    return run(argc, argv);
  } catch (const PlugError& e) {
    std::string message = e.what();
    if (message.find("; ") == std::string::npos) message += hint(e.kind());
    std::cerr << "plugctl: " << message << '\n';
    return e.exit_code();
  } catch (const json::exception& e) {
    std::cerr << "plugctl: unexpected reply shape: " << e.what() << '\n';
    return PlugError::kBadReply;
  } catch (const std::exception& e) {
    std::cerr << "plugctl: " << e.what() << '\n';
    return PlugError::kBadReply;
  }
}
