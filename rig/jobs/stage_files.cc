#include "rig/jobs/stage_files.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <stdexcept>

#include "common/unique_fd.h"
#include "rig/boot/board_boot.h"
#include "rig/boot/slof_kernel.h"

namespace fs = std::filesystem;

namespace crossrig::rig {

namespace {

std::string temp_name(const std::string& dir, const std::string& name) {
  return dir + "/." + name + ".rig-" + std::to_string(getpid());
}

void publish(const std::string& temp, const std::string& dir, const std::string& name) {
  std::string target = dir + "/" + name;
  if (rename(temp.c_str(), target.c_str()) != 0) {
    int err = errno;
    unlink(temp.c_str());
    throw std::runtime_error("cannot rename " + temp + " to " + target + ": " + std::strerror(err));
  }
}

// Files are named as the inventory says, or after the given file.
std::string staged_name(const std::optional<std::string>& inventory_name, const std::string& path) {
  return inventory_name.value_or(fs::path(path).filename().string());
}

// SLOF cannot load a ppc64 vmlinux as Linux links it (rig/boot/slof_kernel.h): such a kernel is
// staged in the form SLOF loads, anything else as it is.
void stage_kernel(const Board& board, const std::string& source, const std::string& dir,
                  const std::string& name) {
  if (board.boot != BootMethod::kSlof) return stage_file(source, dir, name);
  std::ifstream in(source, std::ios::binary);
  if (!in) return stage_file(source, dir, name);
  std::stringstream bytes;
  bytes << in.rdbuf();
  std::optional<std::string> loadable;
  try {
    loadable = boot::slof_loadable_kernel(bytes.str());
  } catch (const std::invalid_argument& e) {
    throw std::runtime_error(source + ": " + e.what() + "; give a complete vmlinux or zImage");
  }
  if (!loadable) return stage_file(source, dir, name);
  write_file_atomically(dir, name, *loadable);
}

}  // namespace

void stage_file(const std::string& source, const std::string& dir, const std::string& name) {
  std::error_code ec;
  fs::create_directories(dir, ec);
  if (!fs::is_regular_file(source, ec)) {
    throw std::runtime_error(source + " is not a readable file; give the path of a built image");
  }
  std::string temp = temp_name(dir, name);
  unlink(temp.c_str());
  // A hard link costs nothing and is atomic; across file systems a copy has to do.
  if (link(source.c_str(), temp.c_str()) != 0) {
    fs::copy_file(source, temp, fs::copy_options::overwrite_existing, ec);
    if (ec) {
      throw std::runtime_error("cannot copy " + source + " into " + dir + ": " + ec.message());
    }
  }
  publish(temp, dir, name);
}

void write_file_atomically(const std::string& dir, const std::string& name,
                           const std::string& text) {
  std::error_code ec;
  fs::create_directories(dir, ec);
  std::string temp = temp_name(dir, name);
  crossrig::UniqueFd fd(open(temp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644));
  if (!fd) {
    throw std::runtime_error("cannot write " + temp + ": " + std::strerror(errno));
  }
  std::string_view rest = text;
  while (!rest.empty()) {
    ssize_t n = write(fd.get(), rest.data(), rest.size());
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      int err = errno;
      unlink(temp.c_str());
      throw std::runtime_error("cannot write " + temp + ": " + std::strerror(err));
    }
    rest.remove_prefix(static_cast<std::size_t>(n));
  }
  fsync(fd.get());
  publish(temp, dir, name);
}

void stage_boot_files(const Board& board, const std::string& kernel, const std::string& ramdisk,
                      const std::optional<std::string>& dtb) {
  std::ifstream in(*board.tftp_dir + "/cmdline");
  std::stringstream text;
  text << in.rdbuf();
  auto request =
      boot::board_boot_request(board, kernel, ramdisk, boot::cmdline_from_file_text(text.str()));
  request.dtb = dtb;
  for (const auto& file : boot::boot_files(request)) {
    fs::path path = fs::path(*board.tftp_dir) / file.path;
    write_file_atomically(path.parent_path().string(), path.filename().string(), file.bytes);
  }
}

void check_tftp_dir(const Board& board) {
  if (!board.tftp_dir) {
    throw std::runtime_error("board '" + board.name +
                             "' has no tftp_dir in the inventory; add the directory its "
                             "firmware fetches from");
  }
  const std::string& dir = *board.tftp_dir;
  std::error_code ec;
  if (!fs::is_directory(dir, ec)) {
    throw std::runtime_error(
        "board '" + board.name + "': its tftp_dir " + dir +
        " does not exist. It must be a directory a TFTP server serves to the board: create it "
        "and run `rig tftp --root` on it or on a parent (see rig/jobs/README.md), or bring up "
        "the virtual lab, which serves its boards' directories");
  }
}

std::vector<std::string> stage_job(const Board& board, const JobFiles& files) {
  check_tftp_dir(board);
  const std::string& dir = *board.tftp_dir;
  std::vector<std::string> staged;
  auto put = [&](const std::string& source, const std::optional<std::string>& name) {
    staged.push_back(staged_name(name, source));
    stage_file(source, dir, staged.back());
  };
  staged.push_back(staged_name(board.kernel, files.kernel));
  stage_kernel(board, files.kernel, dir, staged.back());
  put(files.ramdisk, board.ramdisk);
  // Without a dtb file for this job, one the inventory names may already be in tftp_dir.
  std::optional<std::string> dtb = board.dtb;
  if (files.dtb) {
    put(*files.dtb, board.dtb);
    dtb = staged.back();
  }
  if (files.cmdline) {
    write_file_atomically(dir, "cmdline", *files.cmdline + "\n");
    staged.push_back("cmdline");
  }
  stage_boot_files(board, staged[0], staged[1], dtb);
  return staged;
}

}  // namespace crossrig::rig
