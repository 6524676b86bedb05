#include "rig/tftp/tftp_command.h"

#include <signal.h>

#include <boost/program_options.hpp>
#include <cstdio>
#include <iostream>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "rig/tftp/tftp_server.h"

namespace crossrig::rig {
namespace {

namespace po = boost::program_options;

constexpr int kOk = 0, kFailed = 1, kUsage = 2;

const char* const kUsageText =
    "Usage: rig tftp --root DIR [--listen ADDR:PORT]... [--map FILE] [--json]\n\n"
    "Serves the files under DIR read-only over TFTP (RFC 1350) with options blksize (up to\n"
    "65464), tsize, timeout and windowsize (RFC 2347-2349, 7440), until SIGINT or SIGTERM.\n"
    "Names are confined to DIR: '..' is refused, a leading '/' means DIR, and symlinks may\n"
    "not lead out of it. Write requests get an error. Block numbers wrap to 0 after 65535.\n"
    "Prints a line when listening, then one line per transfer (client, file, options, bytes,\n"
    "seconds, MB/s); with --json each line is a JSON object.\n\n"
    "Exit codes: 0 stopped by a signal, 1 the server failed (e.g. the port is taken),\n"
    "2 usage error (bad option, missing root, invalid map file).\n\n";

std::string join_addresses(const std::vector<crossrig::SocketAddress>& addresses) {
  std::string out;
  for (const auto& a : addresses) {
    if (!out.empty()) out += ' ';
    out += a.to_string();
  }
  return out;
}

// Like crossrig::parse_host_port, but port 0 (any free port, for tests) is allowed.
crossrig::HostPort parse_listen(const std::string& text) {
  if (text.size() > 2 && text.ends_with(":0")) {
    auto hp = crossrig::parse_host_port(text.substr(0, text.size() - 2), 69);
    hp.port = 0;
    return hp;
  }
  return crossrig::parse_host_port(text, 69);
}

}  // namespace

int tftp_command(int argc, char** argv) {
  std::string root, map_file;
  std::vector<std::string> listen;
  int max_blksize = 65464, max_windowsize = 64, retries = 6;
  unsigned threads = 0;
  std::uint32_t max_window_bytes = 128 << 10;
  po::options_description opts(std::string(kUsageText) + tftp::kMapFormatHelp + "\nOptions");
  opts.add_options()("help,h", "show this help")("root,r", po::value(&root),
                                                 "directory to serve (required)")(
      "listen,l", po::value(&listen)->composing(),
      "address and port to listen on, repeatable (default [::]:69, which takes IPv4 too; "
      "port 0 picks a free one)")("map,m", po::value(&map_file), "map file remapping names")(
      "json", "print JSON lines")("max-blksize", po::value(&max_blksize)->default_value(65464),
                                  "largest blksize granted (8-65464)")(
      "max-windowsize", po::value(&max_windowsize)->default_value(64),
      "largest windowsize granted (1-65535)")(
      "max-window-bytes", po::value(&max_window_bytes)->default_value(max_window_bytes),
      "windowsize is lowered so a window holds at most this many bytes, since clients with "
      "default receive buffers drop larger bursts (0: no limit)")(
      "retries", po::value(&retries)->default_value(6),
      "timeouts in a row before a transfer is given up (1-100)")(
      "threads", po::value(&threads)->default_value(0),
      "event loops serving transfers, each on a thread of its own (0: one per CPU, at most "
      "8; 1-64)");
  po::variables_map vm;
  try {
    po::store(po::parse_command_line(argc, argv, opts), vm);
    po::notify(vm);
  } catch (const po::error& e) {
    std::cerr << "rig tftp: " << e.what() << "; see rig tftp --help\n";
    return kUsage;
  }
  if (vm.count("help")) {
    std::cout << opts;
    return kOk;
  }
  if (root.empty()) {
    std::cerr << "rig tftp: --root DIR is required; see rig tftp --help\n";
    return kUsage;
  }
  if (max_blksize < 8 || max_blksize > 65464 || max_windowsize < 1 || max_windowsize > 65535 ||
      retries < 1 || retries > 100 || threads > 64) {
    std::cerr << "rig tftp: --max-blksize, --max-windowsize, --retries or --threads out of "
                 "range; see "
                 "rig tftp --help\n";
    return kUsage;
  }
  bool json = vm.count("json") > 0;
  tftp::ServerConfig config;
  config.root = root;
  config.limits.max_blksize = static_cast<std::uint16_t>(max_blksize);
  config.limits.max_windowsize = static_cast<std::uint16_t>(max_windowsize);
  config.limits.max_window_bytes = max_window_bytes;
  config.max_retries = retries;
  config.threads = threads;
  if (listen.empty()) listen.push_back("[::]:69");
  try {
    for (const auto& text : listen)
      config.listen.push_back(parse_listen(text));
    if (!map_file.empty()) config.map = tftp::MapRules::load(map_file);
  } catch (const std::exception& e) {
    std::cerr << "rig tftp: " << e.what() << "\n";
    return kUsage;
  }
  if (!std::filesystem::is_directory(root)) {
    std::cerr << "rig tftp: root " << root << " is not a directory; give an existing one\n";
    return kUsage;
  }
  config.on_transfer = [json](const tftp::TransferRecord& r) {
    std::cout << (json ? tftp::format_json(r) : tftp::format_text(r)) << std::endl;
  };

  // Signals are taken synchronously by this thread; the server runs on its own.
  sigset_t stop_signals;
  sigemptyset(&stop_signals);
  sigaddset(&stop_signals, SIGINT);
  sigaddset(&stop_signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &stop_signals, nullptr);
  try {
    tftp::Server server(std::move(config));
    auto addresses = server.local_addresses();
    if (json) {
      nlohmann::json j = {
          {"event", "listening"}, {"root", root}, {"addresses", nlohmann::json::array()}};
      for (const auto& a : addresses)
        j["addresses"].push_back(a.to_string());
      std::cout << j.dump() << std::endl;
    } else {
      std::cout << "rig tftp: serving " << root << " on " << join_addresses(addresses) << std::endl;
    }
    server.start();
    int signal_number = 0;
    sigwait(&stop_signals, &signal_number);
    server.stop();
  } catch (const std::exception& e) {
    std::cerr << "rig tftp: " << e.what() << "\n";
    return kFailed;
  }
  return kOk;
}

}  // namespace crossrig::rig
