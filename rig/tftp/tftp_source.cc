#include "rig/tftp/tftp_source.h"

#include <fcntl.h>
#include <linux/openat2.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace crossrig::rig::tftp {

std::vector<std::uint8_t> to_netascii(std::span<const std::uint8_t> bytes) {
  std::vector<std::uint8_t> out;
  out.reserve(bytes.size() + bytes.size() / 16);
  for (std::uint8_t b : bytes) {
    if (b == '\n') {
      out.push_back('\r');
      out.push_back('\n');
    } else if (b == '\r') {
      out.push_back('\r');
      out.push_back(0);
    } else {
      out.push_back(b);
    }
  }
  return out;
}

namespace {

SourceError open_error(int err, const std::string& relative) {
  switch (err) {
    case ENOENT:
    case ENOTDIR:
      return {ErrorCode::kFileNotFound, "file not found: " + relative};
    case EXDEV:
    case ELOOP:
      return {ErrorCode::kAccessViolation,
              "access denied: " + relative + " leads outside the root"};
    case EACCES:
    case EPERM:
      return {ErrorCode::kAccessViolation, "access denied: " + relative};
    default:
      return {ErrorCode::kNotDefined, "cannot open " + relative + ": " + std::strerror(err)};
  }
}

}  // namespace

std::variant<Source, SourceError> Source::open(int root_fd, const std::string& relative,
                                               bool netascii) {
  // RESOLVE_BENEATH makes the kernel refuse any "..", absolute or symlink step out of root;
  // O_NONBLOCK keeps a FIFO in the tree from blocking the server.
  open_how how{};
  how.flags = O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY;
  how.resolve = RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS;
  long fd = syscall(SYS_openat2, root_fd, relative.c_str(), &how, sizeof how);
  if (fd < 0) return open_error(errno, relative);
  Source s;
  s.fd_.reset(static_cast<int>(fd));
  struct stat st {};
  if (fstat(s.fd_.get(), &st) != 0 || !S_ISREG(st.st_mode)) {
    return SourceError{ErrorCode::kFileNotFound, "not a regular file: " + relative};
  }
  s.size_ = static_cast<std::uint64_t>(st.st_size);
  if (netascii) {
    if (s.size_ > kMaxNetasciiSize) {
      return SourceError{ErrorCode::kNotDefined,
                         relative + " is too large for netascii mode; request it in octet mode"};
    }
    std::vector<std::uint8_t> raw(s.size_);
    if (!s.read(0, raw)) return SourceError{ErrorCode::kNotDefined, "cannot read " + relative};
    s.converted_ = to_netascii(raw);
    s.size_ = s.converted_.size();
    s.netascii_ = true;
  }
  return s;
}

bool Source::read(std::uint64_t offset, std::span<std::uint8_t> out) const {
  if (netascii_) {
    if (offset + out.size() > converted_.size()) return false;
    std::memcpy(out.data(), converted_.data() + offset, out.size());
    return true;
  }
  std::size_t done = 0;
  while (done < out.size()) {
    ssize_t n =
        pread(fd_.get(), out.data() + done, out.size() - done, static_cast<off_t>(offset + done));
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    done += static_cast<std::size_t>(n);
  }
  return true;
}

}  // namespace crossrig::rig::tftp
