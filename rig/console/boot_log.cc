#include "rig/console/boot_log.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <iostream>
#include <stdexcept>

namespace crossrig::rig::console {

namespace {
UniqueFd create(const std::filesystem::path& p) {
  UniqueFd fd(::open(p.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_APPEND | O_CLOEXEC, 0644));
  if (!fd) {
    throw std::runtime_error("cannot create console log " + p.string() + ": " +
                             std::strerror(errno) + "; check --log-dir");
  }
  return fd;
}
}  // namespace

BootLog::BootLog(const std::filesystem::path& dir, std::string_view board, std::string_view base,
                 bool raw) {
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (ec) {
    throw std::runtime_error("cannot create log directory " + dir.string() + ": " + ec.message() +
                             "; check --log-dir");
  }
  path_ = dir / (std::string(base) + ".log");
  log_ = create(path_);
  if (raw) raw_ = create(dir / (std::string(base) + ".raw"));
  // The link is replaced by rename so a reader never finds it missing or half made.
  auto link = dir / (std::string(board) + "-current.log");
  // Built by appending: GCC 12 at -O3 misreports "." + string as overlapping (-Wrestrict).
  std::string tmp_name = ".";
  tmp_name.append(board).append("-current.log.tmp");
  auto tmp = dir / tmp_name;
  std::filesystem::remove(tmp, ec);
  std::filesystem::create_symlink(path_.filename(), tmp, ec);
  if (!ec) std::filesystem::rename(tmp, link, ec);
}

void BootLog::write(std::string_view bytes, std::chrono::system_clock::time_point now) {
  if (raw_) put(raw_.get(), bytes);
  out_.clear();
  stamper_.feed(bytes, now, out_);
  put(log_.get(), out_);
}

void BootLog::note(std::string_view text, std::chrono::system_clock::time_point now) {
  std::string line = stamper_.mid_line() ? "\n" : "";
  line += format_utc(now) + " ### " + std::string(text) + "\n";
  put(log_.get(), line);
  stamper_ = LogStamper();
}

void BootLog::put(int fd, std::string_view bytes) {
  while (!bytes.empty() && !failed_) {
    ssize_t n = ::write(fd, bytes.data(), bytes.size());
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      failed_ = true;
      std::cerr << "rig console: writing " << path_.string() << " failed: " << std::strerror(errno)
                << "; the console is still served but this boot's log is incomplete\n";
      return;
    }
    bytes.remove_prefix(static_cast<std::size_t>(n));
  }
}

}  // namespace crossrig::rig::console
