#include "rig/matrix/results_tree.h"

#include <openssl/evp.h>
#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <filesystem>
#include <fstream>
#include <memory>
#include <regex>
#include <set>
#include <sstream>
#include <stdexcept>

#include "common/hex.h"

namespace crossrig::rig::matrix {
namespace fs = std::filesystem;

namespace {

constexpr std::string_view kPartial = ".partial-";
// Sorts after every night's date, so earlier_nights() with it reads them all.
constexpr const char* kAfterEveryNight = "9999-12-31";

std::string read_text(const fs::path& path) {
  std::ifstream in(path);
  if (!in) throw std::runtime_error("cannot read " + path.string());
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

/// root/kernels/BOARD/FILE → the night that last booted it, over every night kept.
std::map<std::string, std::map<std::string, std::string>> kernel_use(const std::string& root) {
  std::map<std::string, std::map<std::string, std::string>> use;
  std::vector<std::string> ignored;
  for (const auto& n : earlier_nights(root, kAfterEveryNight, ignored)) {
    for (const auto& b : n.boards) {
      if (b.kernel_sha256.empty() || b.kernel.empty()) continue;
      auto& last = use[b.board][kept_kernel_name(b.kernel_sha256, b.kernel)];
      last = std::max(last, n.date);
    }
  }
  return use;
}

}  // namespace

bool is_night_name(const std::string& name) {
  static const std::regex kDate(R"(\d{4}-\d{2}-\d{2})");
  return std::regex_match(name, kDate);
}

std::vector<Night> earlier_nights(const std::string& root, const std::string& date,
                                  std::vector<std::string>& warnings) {
  std::vector<Night> nights;
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator(root, ec)) {
    const std::string name = entry.path().filename().string();
    if (!entry.is_directory() || !is_night_name(name) || name >= date) continue;
    const fs::path file = entry.path() / "results.json";
    try {
      const auto j = nlohmann::json::parse(read_text(file));
      nights.push_back(night_from_json(j, file.string()));
    } catch (const std::exception& e) {
      warnings.push_back(file.string() + ": " + e.what() + "; that night is left out");
    }
  }
  std::sort(nights.begin(), nights.end(),
            [](const Night& a, const Night& b) { return a.date < b.date; });
  return nights;
}

std::string make_partial_dir(const std::string& root, const std::string& date) {
  fs::create_directories(root);
  const fs::path dir =
      fs::path(root) / ("." + date + std::string(kPartial) + std::to_string(getpid()));
  fs::remove_all(dir);
  fs::create_directory(dir);
  return dir.string();
}

void remove_abandoned(const std::string& root) {
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator(root, ec)) {
    const std::string name = entry.path().filename().string();
    const auto at = name.rfind(kPartial);
    if (name.empty() || name[0] != '.' || at == std::string::npos) continue;
    const std::string pid_text = name.substr(at + kPartial.size());
    if (pid_text.empty() || pid_text.find_first_not_of("0123456789") != std::string::npos) continue;
    const pid_t pid = std::stoi(pid_text);
    if (pid != getpid() && kill(pid, 0) != 0 && errno == ESRCH) fs::remove_all(entry.path(), ec);
  }
}

std::string publish_night(const std::string& root, const std::string& date,
                          const std::string& partial) {
  const fs::path target = fs::path(root) / date;
  const fs::path replaced = fs::path(root) / ("." + date + ".replaced-" + std::to_string(getpid()));
  const bool had = fs::exists(target);
  if (had) fs::rename(target, replaced);
  fs::rename(partial, target);
  if (had) fs::remove_all(replaced);
  return target.string();
}

void write_file_atomically(const std::string& path, const std::string& text) {
  const std::string tmp = path + ".tmp-" + std::to_string(getpid());
  {
    std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
    out << text;
    out.flush();
    if (!out) throw std::runtime_error("cannot write " + tmp);
  }
  fs::rename(tmp, path);
}

std::vector<std::string> nights_beyond(std::vector<std::string> dates, int keep) {
  std::sort(dates.begin(), dates.end());
  const auto n = static_cast<std::size_t>(std::max(keep, 0));
  if (dates.size() <= n) return {};
  dates.resize(dates.size() - n);
  return dates;
}

std::vector<std::string> kernels_beyond(std::vector<KeptKernel> kernels, int keep) {
  std::sort(kernels.begin(), kernels.end(), [](const KeptKernel& a, const KeptKernel& b) {
    return a.last_used != b.last_used ? a.last_used > b.last_used : a.file > b.file;
  });
  std::vector<std::string> out;
  for (std::size_t i = static_cast<std::size_t>(std::max(keep, 0)); i < kernels.size(); ++i) {
    out.push_back(kernels[i].file);
  }
  return out;
}

std::string kept_kernel_name(const std::string& sha256, const std::string& path) {
  return sha256.substr(0, 12) + "-" + fs::path(path).filename().string();
}

std::string file_sha256(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw std::runtime_error("cannot read " + path);
  std::unique_ptr<EVP_MD_CTX, decltype(&EVP_MD_CTX_free)> ctx(EVP_MD_CTX_new(), EVP_MD_CTX_free);
  if (!ctx || EVP_DigestInit_ex(ctx.get(), EVP_sha256(), nullptr) != 1)
    throw std::runtime_error("OpenSSL cannot hash with SHA-256");
  std::vector<char> buf(1 << 20);
  while (in) {
    in.read(buf.data(), static_cast<std::streamsize>(buf.size()));
    if (in.gcount() > 0) EVP_DigestUpdate(ctx.get(), buf.data(), static_cast<size_t>(in.gcount()));
  }
  if (in.bad()) throw std::runtime_error("cannot read " + path);
  std::uint8_t digest[32];
  unsigned int size = 0;
  EVP_DigestFinal_ex(ctx.get(), digest, &size);
  return crossrig::to_hex(std::span<const std::uint8_t>(digest, size));
}

Pruned keep_and_prune(const std::string& root, const Night& night, int keep_nights,
                      int keep_kernels) {
  const fs::path kernels = fs::path(root) / "kernels";
  for (const auto& b : night.boards) {
    if (b.kernel_sha256.empty() || b.kernel.empty()) continue;
    const fs::path dir = kernels / b.board;
    const fs::path kept = dir / kept_kernel_name(b.kernel_sha256, b.kernel);
    if (fs::exists(kept)) continue;
    fs::create_directories(dir);
    const fs::path tmp = kept.string() + ".tmp-" + std::to_string(getpid());
    std::error_code ec;
    fs::create_hard_link(b.kernel, tmp, ec);
    if (ec) fs::copy_file(b.kernel, tmp, fs::copy_options::overwrite_existing);
    fs::rename(tmp, kept);
  }

  Pruned pruned;
  std::vector<std::string> dates;
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator(root, ec)) {
    if (entry.is_directory() && is_night_name(entry.path().filename().string()))
      dates.push_back(entry.path().filename().string());
  }
  for (const auto& date : nights_beyond(dates, keep_nights)) {
    fs::remove_all(fs::path(root) / date);
    pruned.nights.push_back(date);
  }

  const auto use = kernel_use(root);
  for (const auto& board_dir : fs::directory_iterator(kernels, ec)) {
    if (!board_dir.is_directory()) continue;
    const std::string board = board_dir.path().filename().string();
    const auto board_use = use.find(board);
    std::vector<KeptKernel> files;
    for (const auto& f : fs::directory_iterator(board_dir.path())) {
      const std::string name = f.path().filename().string();
      std::string last;
      if (board_use != use.end()) {
        const auto it = board_use->second.find(name);
        if (it != board_use->second.end()) last = it->second;
      }
      files.push_back({name, last});
    }
    for (const auto& name : kernels_beyond(files, keep_kernels)) {
      fs::remove(board_dir.path() / name);
      pruned.kernels.push_back(board + "/" + name);
    }
  }
  return pruned;
}

}  // namespace crossrig::rig::matrix
