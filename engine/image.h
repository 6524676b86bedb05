#pragma once
// The image directory: JSON metadata files plus raw page files, each with a checksum listed
// in inventory.json (SHA-256 for metadata, XXH3-64 for pages), itself sealed by SHA-256.

#include <cstdint>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <set>
#include <span>
#include <string>
#include <vector>

#include "common/unique_fd.h"
#include "engine/page_hash.h"

namespace crossrig::engine {

class ImageSender;

/// Version of the image layout; restore refuses any other. 2 added per-thread credentials and
/// seccomp filters to core files; 3 moved open file descriptions into files.json, shared by
/// the fds of every process, with files-data.img (engine/README.md lists every file); 4 added
/// kernel objects (eventfd, timerfd, signalfd, epoll), memfds and mappings of unlinked files,
/// job-control stops and child subreapers; 5 sockets; 6 System V IPC objects (ipc.json,
/// ipc-data.img) and attached segments; 7 mount namespaces (mounts.json, mounts-data.img); 8
/// descriptors in flight in unix sockets' queues; 9 chains of images (pre-dumps, pages held by
/// the parent image); 10 an XXH3 of every chunk of a page file, so that a part of it can be
/// checked before use (lazy restore serves pages long before it has read the whole file), and
/// the parent named relative to the image's own directory; 11 remote runs in pagemaps (pages a
/// post-copy migration's destination fetches from the frozen source); 12 a process's
/// connection to ckpt service, refilled on restore (caller-fd.json).
inline constexpr int kImageFormatVersion = 12;

/// The bytes of a page file each chunk checksum covers (the last chunk may be shorter):
/// checking one costs about as much as a page fault's round trip to ckpt.
inline constexpr std::uint64_t kChunkBytes = 4 << 20;

/// SHA-256 of bytes as lower-case hex.
std::string sha256_hex(std::span<const std::uint8_t> bytes);

/// Checksum of one image file as the inventory lists it.
struct FileSum {
  std::string algo;  ///< "sha256" or "xxh3"
  std::string hex;
  std::uint64_t size = 0;
  std::vector<std::uint64_t> chunks;  ///< XXH3 of each kChunkBytes of an "xxh3" file.
};

/// The XXH3 of each kChunkBytes piece of bytes.
std::vector<std::uint64_t> chunk_sums(std::span<const std::uint8_t> bytes);

/// Builds the inventory document from its fields and file checksums, sealing it.
nlohmann::json make_inventory(nlohmann::json fields, const std::map<std::string, FileSum>& files);

/// Checks the seal and format version of an inventory; returns its body or throws kBadImage.
nlohmann::json verify_inventory(const std::string& text);

/// A raw page file being written, checksummed as the bytes go out. Bytes come either through
/// append() or from another writer (the dumped task writing its own memory) into ranges
/// reserved here and hashed from the file once written.
class PagesWriter {
 public:
  PagesWriter(UniqueFd fd, std::string name, std::string path);
  /// A file that only a page server gets: append() sends its bytes there, and there is no
  /// fd to hand to another writer.
  PagesWriter(ImageSender& remote, std::string name);
  /// Appends bytes; throws naming the file on a short write (full disk). Every reserved
  /// range must have been hashed.
  void append(std::span<const std::uint8_t> bytes);
  /// Reserves the next len bytes of the file for another writer; returns their offset.
  std::uint64_t reserve(std::uint64_t len);
  /// Writes bytes into a reserved range (for a range its writer could not write).
  void write_reserved(std::uint64_t offset, std::span<const std::uint8_t> bytes);
  /// Hashes the reserved bytes up to end, which their writer has written.
  void hash_written(std::uint64_t end);
  std::uint64_t size() const { return size_; }
  /// The open file, to hand to another writer; -1 for a file sent to a page server.
  int fd() const { return fd_.get(); }
  const std::string& path() const { return path_; }
  FileSum finish();

 private:
  UniqueFd fd_;
  ImageSender* remote_ = nullptr;
  std::string name_, path_;
  void pwrite_whole(std::uint64_t offset, std::span<const std::uint8_t> bytes);
  void hash(std::span<const std::uint8_t> bytes);

  std::uint64_t size_ = 0, hashed_ = 0;
  PageHash hash_, chunk_;
  std::vector<std::uint64_t> chunks_;
  std::vector<std::uint8_t> buf_;
};

/// Writes an image into DIR.tmp-PID-N and renames it to DIR on commit(); removes it otherwise.
/// With a page server, the server gets every file and the local directory every file but
/// those opened kPageServerOnly: the server's copy is committed before the local one.
class ImageWriter {
 public:
  explicit ImageWriter(std::string dir, ImageSender* remote = nullptr);
  ~ImageWriter();
  void write_json(const std::string& name, const nlohmann::json& doc);
  /// Where a file opened with open_pages goes.
  enum class Where {
    kHere,            ///< Into the directory (and to the page server at commit, if any).
    kPageServerOnly,  ///< Straight to the page server if there is one, else as kHere.
  };
  PagesWriter open_pages(const std::string& name, Where where = Where::kHere);
  void add_pages(const std::string& name, PagesWriter& pages);
  /// Writes inventory.json with the given fields, sends the image to the page server and
  /// waits for its commit, and renames the directory into place.
  void commit(nlohmann::json inventory_fields);
  /// Commits an image received from elsewhere: inventory.json is written as it came (the
  /// caller checked that it lists the files written, with their checksums).
  void commit_received(std::span<const std::uint8_t> inventory_text);

 private:
  void write_text(const std::string& name, std::span<const std::uint8_t> text);
  void rename_into_place();
  std::string dir_, tmp_;
  ImageSender* remote_;
  bool committed_ = false;
  std::map<std::string, FileSum> files_;
  std::set<std::string> remote_only_;
};

/// A validated image directory: inventory seal and every metadata checksum checked on open.
class ImageReader {
 public:
  /// Which files must be there.
  enum class Contents {
    kWhole,         ///< Every file the inventory lists, to restore from.
    kMetadataOnly,  ///< All but the pages files, which a dump with --page-server sent away.
  };
  /// Opens and validates DIR; throws kBadImage naming what is wrong.
  explicit ImageReader(std::string dir, Contents contents = Contents::kWhole);
  const nlohmann::json& inventory() const { return inventory_; }
  /// Whether the image holds a file of that name.
  bool has(const std::string& name) const { return inventory_.at("files").contains(name); }
  /// A metadata file, checked against its checksum.
  nlohmann::json json(const std::string& name) const;
  /// Path of a page file whose size was checked; its XXH3 is checked while streaming.
  std::string pages_path(const std::string& name) const;
  /// The XXH3 the inventory lists for a page file.
  std::uint64_t pages_xxh3(const std::string& name) const;
  /// The XXH3 the inventory lists for each kChunkBytes of a page file; throws kBadImage
  /// unless there is one per chunk of its size.
  std::vector<std::uint64_t> pages_chunks(const std::string& name) const;
  /// A raw file read whole and checked against its XXH3; throws kBadImage when it does not
  /// match.
  std::vector<std::uint8_t> data(const std::string& name) const;
  const std::string& dir() const { return dir_; }

 private:
  const nlohmann::json& file_entry(const std::string& name) const;
  std::string dir_;
  nlohmann::json inventory_;
};

}  // namespace crossrig::engine
