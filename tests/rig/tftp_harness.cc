#include "tests/rig/tftp_harness.h"

#include <openssl/evp.h>
#include <signal.h>
#include <unistd.h>

#include <fstream>
#include <random>
#include <sstream>
#include <stdexcept>
#include <thread>

namespace crossrig::rig::tftp::testing {

namespace fs = std::filesystem;

namespace {

std::string slurp(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

std::string hex(const unsigned char* digest, unsigned length) {
  static const char* const kDigits = "0123456789abcdef";
  std::string out;
  for (unsigned i = 0; i < length; ++i) {
    out += kDigits[digest[i] >> 4];
    out += kDigits[digest[i] & 15];
  }
  return out;
}

std::string digest_of(const void* data, std::size_t size) {
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned length = 0;
  EVP_Digest(data, size, digest, &length, EVP_sha256(), nullptr);
  return hex(digest, length);
}

}  // namespace

CommandResult run(const std::vector<std::string>& argv, std::chrono::seconds limit) {
  TempDir dir("tftp-run");
  bench::ChildOptions options;
  options.out = dir.path() / "out";
  options.err = dir.path() / "err";
  options.parent_death_signal = SIGKILL;
  bench::ChildProcess child(argv, options);
  int code = child.wait(limit);
  if (code < 0) code = child.stop(SIGKILL);
  return {code, slurp(dir.path() / "out"), slurp(dir.path() / "err")};
}

std::string rig_binary() {
  return CROSSRIG_BINARY_DIR "/bin/rig";
}

void require_tool(const std::string& path, const std::string& package) {
  if (access(path.c_str(), X_OK) != 0) {
    throw std::runtime_error(path + " is missing: install the Debian package " + package +
                             " (scripts/setup does)");
  }
}

void write_random(const fs::path& path, std::uint64_t size, std::uint32_t seed) {
  std::mt19937_64 random(seed);
  std::vector<std::uint64_t> chunk(1 << 17);
  std::ofstream out(path, std::ios::binary);
  for (std::uint64_t done = 0; done < size;) {
    for (auto& w : chunk)
      w = random();
    auto n = std::min<std::uint64_t>(size - done, chunk.size() * 8);
    out.write(reinterpret_cast<const char*>(chunk.data()), static_cast<std::streamsize>(n));
    done += n;
  }
}

std::string sha256_file(const fs::path& path) {
  std::string bytes = slurp(path);
  return digest_of(bytes.data(), bytes.size());
}

std::string sha256(const std::vector<std::uint8_t>& bytes) {
  return digest_of(bytes.data(), bytes.size());
}

RigTftp::RigTftp(const fs::path& root, std::vector<std::string> extra_args,
                 const std::string& listen) {
  static int serial = 0;
  log_ = fs::temp_directory_path() /
         ("rig-tftp-test." + std::to_string(getpid()) + "." + std::to_string(serial++) + ".log");
  std::vector<std::string> argv = {rig_binary(), "tftp", "--root", root.string(),
                                   "--listen",   listen, "--json"};
  argv.insert(argv.end(), extra_args.begin(), extra_args.end());
  bench::ChildOptions options;
  options.out = log_;
  options.err = log_.string() + ".err";
  options.parent_death_signal = SIGKILL;
  options.stop_signal = SIGTERM;
  process_.emplace(argv, options);
  for (int i = 0; i < 500; ++i) {
    std::ifstream in(log_);
    std::string line;
    if (std::getline(in, line) && !line.empty()) {
      auto j = nlohmann::json::parse(line);
      auto text = j.at("addresses").at(0).get<std::string>();
      port_ = static_cast<std::uint16_t>(std::stoi(text.substr(text.rfind(':') + 1)));
      auto host = listen.substr(0, listen.rfind(':'));
      if (host.front() == '[') host = host.substr(1, host.size() - 2);
      address_ = crossrig::resolve({host, port_}, SOCK_DGRAM).at(0);
      return;
    }
    if (!running()) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  throw std::runtime_error("rig tftp did not start: " + slurp(log_.string() + ".err"));
}

RigTftp::~RigTftp() {
  stop();
  std::error_code ignored;
  fs::remove(log_, ignored);
  fs::remove(log_.string() + ".err", ignored);
}

bool RigTftp::running() const {
  return process_->running();
}

int RigTftp::stop() {
  return process_->stop(SIGTERM);
}

std::vector<nlohmann::json> RigTftp::transfers() const {
  std::vector<nlohmann::json> out;
  std::ifstream in(log_);
  std::string line;
  while (std::getline(in, line)) {
    auto j = nlohmann::json::parse(line, nullptr, false);
    if (!j.is_discarded() && j.value("event", "") == "transfer") out.push_back(j);
  }
  return out;
}

std::vector<nlohmann::json> RigTftp::wait_transfers(std::size_t count,
                                                    std::chrono::seconds limit) const {
  auto deadline = std::chrono::steady_clock::now() + limit;
  auto lines = transfers();
  while (lines.size() < count && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
    lines = transfers();
  }
  return lines;
}

}  // namespace crossrig::rig::tftp::testing
