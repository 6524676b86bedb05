#include "engine/image.h"

#include <fcntl.h>
#include <openssl/evp.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <stdexcept>

#include "common/hex.h"
#include "engine/ckpt_error.h"
#include "engine/image_transfer.h"

namespace crossrig::engine {

namespace fs = std::filesystem;

std::string sha256_hex(std::span<const std::uint8_t> bytes) {
  std::uint8_t md[EVP_MAX_MD_SIZE];
  unsigned len = 0;
  if (EVP_Digest(bytes.data(), bytes.size(), md, &len, EVP_sha256(), nullptr) != 1)
    throw CkptError(CkptError::kSystem, "SHA-256 failed");
  return to_hex(std::span<const std::uint8_t>(md, len));
}

namespace {

std::string xxh3_hex(std::uint64_t v) {
  char buf[17];
  std::snprintf(buf, sizeof buf, "%016llx", static_cast<unsigned long long>(v));
  return buf;
}

void write_whole(int fd, std::span<const std::uint8_t> bytes, const std::string& name) {
  std::size_t done = 0;
  while (done < bytes.size()) {
    ssize_t n = ::write(fd, bytes.data() + done, bytes.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) throw_errno("writing image file " + name + " (disk full?)");
    done += static_cast<std::size_t>(n);
  }
}

std::string slurp(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  if (!f) throw CkptError(CkptError::kBadImage, "cannot read image file " + path);
  std::stringstream ss;
  ss << f.rdbuf();
  return ss.str();
}

}  // namespace

std::vector<std::uint64_t> chunk_sums(std::span<const std::uint8_t> bytes) {
  std::vector<std::uint64_t> out;
  for (std::size_t at = 0; at < bytes.size(); at += kChunkBytes)
    out.push_back(
        hash_of(bytes.subspan(at, std::min<std::size_t>(kChunkBytes, bytes.size() - at))));
  return out;
}

nlohmann::json make_inventory(nlohmann::json fields, const std::map<std::string, FileSum>& files) {
  fields["format_version"] = kImageFormatVersion;
  nlohmann::json list = nlohmann::json::object();
  for (const auto& [name, sum] : files) {
    list[name] = {{"algo", sum.algo}, {"checksum", sum.hex}, {"size", sum.size}};
    if (sum.algo == "xxh3") {
      nlohmann::json chunks = nlohmann::json::array();
      for (std::uint64_t c : sum.chunks)
        chunks.push_back(xxh3_hex(c));
      list[name]["chunks"] = chunks;
    }
  }
  fields["files"] = list;
  return {{"body", fields}, {"sha256", sha256_hex(as_bytes(fields.dump()))}};
}

nlohmann::json verify_inventory(const std::string& text) {
  nlohmann::json doc = nlohmann::json::parse(text, nullptr, false);
  if (doc.is_discarded() || !doc.is_object() || !doc.contains("body") || !doc.contains("sha256") ||
      !doc["sha256"].is_string() || !doc["body"].is_object())
    throw CkptError(CkptError::kBadImage, "inventory.json is not a crossrig inventory");
  if (sha256_hex(as_bytes(doc["body"].dump())) != doc["sha256"].get<std::string>())
    throw CkptError(CkptError::kBadImage, "inventory.json fails its SHA-256 check (corrupted)");
  const nlohmann::json& body = doc["body"];
  if (body.value("format_version", 0) != kImageFormatVersion)
    throw CkptError(CkptError::kBadImage,
                    "image format version " +
                        body.value("format_version", nlohmann::json()).dump() +
                        " cannot be read: this ckpt reads format version " +
                        std::to_string(kImageFormatVersion) +
                        " only; dump the process again with this ckpt, or restore with the ckpt "
                        "that wrote the image");
  if (!body.contains("files") || !body["files"].is_object())
    throw CkptError(CkptError::kBadImage, "inventory.json lists no files");
  return body;
}

PagesWriter::PagesWriter(UniqueFd fd, std::string name, std::string path)
    : fd_(std::move(fd)), name_(std::move(name)), path_(std::move(path)) {}

PagesWriter::PagesWriter(ImageSender& remote, std::string name)
    : remote_(&remote), name_(name), path_(remote.server() + ":" + name) {}

void PagesWriter::pwrite_whole(std::uint64_t offset, std::span<const std::uint8_t> bytes) {
  for (std::size_t done = 0; done < bytes.size();) {
    ssize_t n = ::pwrite(fd_.get(), bytes.data() + done, bytes.size() - done,
                         static_cast<off_t>(offset + done));
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) throw_errno("writing image file " + name_ + " (disk full?)");
    done += static_cast<std::size_t>(n);
  }
}

void PagesWriter::append(std::span<const std::uint8_t> bytes) {
  if (hashed_ != size_) throw std::logic_error("PagesWriter::append before hashing " + name_);
  if (remote_) {
    remote_->write(bytes);
  } else {
    pwrite_whole(size_, bytes);
  }
  hash(bytes);
  size_ += bytes.size();
  hashed_ = size_;
}

void PagesWriter::write_reserved(std::uint64_t offset, std::span<const std::uint8_t> bytes) {
  if (offset < hashed_ || offset + bytes.size() > size_)
    throw std::logic_error("PagesWriter::write_reserved outside the reserved range of " + name_);
  pwrite_whole(offset, bytes);
}

std::uint64_t PagesWriter::reserve(std::uint64_t len) {
  std::uint64_t at = size_;
  size_ += len;
  return at;
}

void PagesWriter::hash_written(std::uint64_t end) {
  // Read back in pieces that stay in cache while hashed; the bytes were just written, so
  // they come from the page cache, and what is hashed is what the file holds.
  constexpr std::size_t kPiece = 512 << 10;
  if (buf_.size() < kPiece) buf_.resize(kPiece);
  while (hashed_ < end) {
    std::size_t want = static_cast<std::size_t>(std::min<std::uint64_t>(kPiece, end - hashed_));
    ssize_t n = ::pread(fd_.get(), buf_.data(), want, static_cast<off_t>(hashed_));
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) throw_errno("reading back image file " + name_);
    if (n == 0)
      throw CkptError(CkptError::kSystem, "image file " + name_ + " ends at " +
                                              std::to_string(hashed_) +
                                              " bytes, before what was written into it");
    hash(std::span(buf_.data(), static_cast<std::size_t>(n)));
  }
}

// Feeds the bytes after hashed_ to the file's hash and to the hash of each chunk they fall in.
void PagesWriter::hash(std::span<const std::uint8_t> bytes) {
  hash_.update(bytes);
  while (!bytes.empty()) {
    const std::uint64_t room = kChunkBytes - hashed_ % kChunkBytes;
    const std::size_t n = static_cast<std::size_t>(std::min<std::uint64_t>(room, bytes.size()));
    chunk_.update(bytes.first(n));
    hashed_ += n;
    bytes = bytes.subspan(n);
    if (hashed_ % kChunkBytes == 0) {
      chunks_.push_back(chunk_.digest());
      chunk_ = PageHash();
    }
  }
}

FileSum PagesWriter::finish() {
  if (hashed_ != size_) throw std::logic_error("PagesWriter::finish before hashing " + name_);
  if (remote_) {
    remote_->end_file();
  } else if (::fsync(fd_.get()) != 0 && errno != EINVAL) {
    throw_errno("syncing image file " + name_);
  }
  fd_.reset();
  if (hashed_ % kChunkBytes != 0) chunks_.push_back(chunk_.digest());
  return {"xxh3", xxh3_hex(hash_.digest()), size_, std::move(chunks_)};
}

ImageWriter::ImageWriter(std::string dir, ImageSender* remote)
    : dir_(std::move(dir)), remote_(remote) {
  // Numbered too: a page server receives several images at once.
  static std::atomic<unsigned> serial{0};
  tmp_ = dir_ + ".tmp-" + std::to_string(::getpid()) + "-" + std::to_string(serial++);
  std::error_code ec;
  if (fs::exists(dir_) && !fs::is_empty(dir_, ec))
    throw CkptError(CkptError::kUsage, "image directory " + dir_ + " exists and is not empty");
  fs::remove_all(tmp_, ec);
  if (::mkdir(tmp_.c_str(), 0700) != 0) throw_errno("creating image directory " + tmp_);
}

ImageWriter::~ImageWriter() {
  if (committed_) return;
  std::error_code ec;
  fs::remove_all(tmp_, ec);
}

void ImageWriter::write_text(const std::string& name, std::span<const std::uint8_t> text) {
  UniqueFd fd(::open((tmp_ + "/" + name).c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600));
  if (!fd) throw_errno("creating image file " + name);
  write_whole(fd.get(), text, name);
  files_[name] = {"sha256", sha256_hex(text), text.size(), {}};
}

void ImageWriter::write_json(const std::string& name, const nlohmann::json& doc) {
  write_text(name, as_bytes(doc.dump(1)));
}

PagesWriter ImageWriter::open_pages(const std::string& name, Where where) {
  if (where == Where::kPageServerOnly && remote_ != nullptr) {
    remote_->begin_file(name, "xxh3");
    remote_only_.insert(name);
    return PagesWriter(*remote_, name);
  }
  std::string path = fs::absolute(tmp_ + "/" + name).string();
  UniqueFd fd(::open(path.c_str(), O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0600));
  if (!fd) throw_errno("creating image file " + name);
  return PagesWriter(std::move(fd), name, std::move(path));
}

void ImageWriter::add_pages(const std::string& name, PagesWriter& pages) {
  files_[name] = pages.finish();
}

void ImageWriter::commit(nlohmann::json inventory_fields) {
  const std::string inventory = make_inventory(std::move(inventory_fields), files_).dump(1);
  if (remote_ != nullptr) {
    for (const auto& [name, sum] : files_) {
      if (!remote_only_.contains(name)) remote_->send_file(name, sum.algo, tmp_ + "/" + name);
    }
    remote_->finish(inventory);
  }
  write_text("inventory.json", as_bytes(inventory));
  rename_into_place();
}

void ImageWriter::commit_received(std::span<const std::uint8_t> inventory_text) {
  write_text("inventory.json", inventory_text);
  rename_into_place();
}

void ImageWriter::rename_into_place() {
  files_.erase("inventory.json");
  if (::rename(tmp_.c_str(), dir_.c_str()) != 0) throw_errno("renaming " + tmp_ + " to " + dir_);
  committed_ = true;
}

ImageReader::ImageReader(std::string dir, Contents contents) : dir_(std::move(dir)) {
  if (!fs::is_directory(dir_))
    throw CkptError(CkptError::kBadImage, "image directory " + dir_ + " does not exist");
  inventory_ = verify_inventory(slurp(dir_ + "/inventory.json"));
  for (const auto& [name, entry] : inventory_["files"].items()) {
    if (name.find('/') != std::string::npos || name.starts_with("."))
      throw CkptError(CkptError::kBadImage, "inventory names a file outside the image: " + name);
    std::error_code ec;
    auto size = fs::file_size(dir_ + "/" + name, ec);
    const bool pages = name.starts_with("pages-");
    if (ec == std::errc::no_such_file_or_directory && pages && contents == Contents::kMetadataOnly)
      continue;
    if (ec || size != entry.value("size", std::uint64_t{0}))
      throw CkptError(CkptError::kBadImage,
                      "image file " + name + " is missing or truncated" +
                          (ec && pages ? " (an image dumped with --page-server keeps its pages "
                                         "only on the page server: restore from the server's "
                                         "copy)"
                                       : ""));
  }
}

const nlohmann::json& ImageReader::file_entry(const std::string& name) const {
  const nlohmann::json& files = inventory_["files"];
  if (!files.contains(name)) throw CkptError(CkptError::kBadImage, "image lacks " + name);
  return files[name];
}

nlohmann::json ImageReader::json(const std::string& name) const {
  const nlohmann::json& e = file_entry(name);
  std::string text = slurp(dir_ + "/" + name);
  if (e.value("algo", "") != "sha256" || sha256_hex(as_bytes(text)) != e.value("checksum", ""))
    throw CkptError(CkptError::kBadImage, "image file " + name + " fails its SHA-256 check");
  nlohmann::json doc = nlohmann::json::parse(text, nullptr, false);
  if (doc.is_discarded()) throw CkptError(CkptError::kBadImage, name + " is not valid JSON");
  return doc;
}

std::string ImageReader::pages_path(const std::string& name) const {
  file_entry(name);
  return dir_ + "/" + name;
}

std::uint64_t ImageReader::pages_xxh3(const std::string& name) const {
  const nlohmann::json& e = file_entry(name);
  if (e.value("algo", "") != "xxh3")
    throw CkptError(CkptError::kBadImage, name + " has no XXH3 checksum");
  return std::stoull(e.value("checksum", "0"), nullptr, 16);
}

std::vector<std::uint64_t> ImageReader::pages_chunks(const std::string& name) const {
  const nlohmann::json& e = file_entry(name);
  const nlohmann::json& list = e.contains("chunks") ? e["chunks"] : nlohmann::json();
  const std::uint64_t size = e.value("size", std::uint64_t{0});
  if (!list.is_array() || list.size() != (size + kChunkBytes - 1) / kChunkBytes)
    throw CkptError(CkptError::kBadImage, "inventory lists no checksum for each " +
                                              std::to_string(kChunkBytes) + "-byte chunk of " +
                                              name + " (damaged inventory)");
  std::vector<std::uint64_t> out;
  for (const nlohmann::json& c : list) {
    if (!c.is_string() || c.get<std::string>().size() != 16 ||
        c.get<std::string>().find_first_not_of("0123456789abcdef") != std::string::npos)
      throw CkptError(CkptError::kBadImage, "a chunk checksum of " + name + " is not hex");
    out.push_back(std::stoull(c.get<std::string>(), nullptr, 16));
  }
  return out;
}

std::vector<std::uint8_t> ImageReader::data(const std::string& name) const {
  const std::string path = pages_path(name);
  UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (!fd) throw_errno("opening " + path);
  std::vector<std::uint8_t> bytes;
  std::uint8_t buf[65536];
  for (ssize_t n; (n = ::read(fd.get(), buf, sizeof buf)) != 0;) {
    if (n < 0) throw_errno("reading " + path);
    bytes.insert(bytes.end(), buf, buf + n);
  }
  PageHash hash;
  hash.update(bytes);
  if (hash.digest() != pages_xxh3(name))
    throw CkptError(CkptError::kBadImage,
                    path + " does not match its checksum: the image is damaged; dump again");
  return bytes;
}

}  // namespace crossrig::engine
