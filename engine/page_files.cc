#include "engine/page_files.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <unistd.h>

#include "common/unique_fd.h"
#include "engine/ckpt_error.h"
#include "engine/image.h"
#include "engine/page_hash.h"

namespace crossrig::engine {

PageFiles::PageFiles(const std::vector<PageSource>& sources, bool populate) {
  files_.reserve(sources.size());
  for (const PageSource& src : sources) {
    if (src.remote) {
      files_.push_back(File{"the source's memory", nullptr, 0, {}, {}, true});
      continue;
    }
    UniqueFd fd(::open(src.path.c_str(), O_RDONLY | O_CLOEXEC));
    if (!fd) throw_errno("opening " + src.path);
    const off_t size = ::lseek(fd.get(), 0, SEEK_END);
    if (size < 0) throw_errno("sizing " + src.path);
    File f{src.path, nullptr, static_cast<std::size_t>(size), src.chunks,
           std::vector<bool>(src.chunks.size())};
    if (f.chunks.size() != (f.size + kChunkBytes - 1) / kChunkBytes)
      throw CkptError(CkptError::kBadImage,
                      src.path + " is " + std::to_string(f.size) +
                          " bytes, not what its image's checksums cover: it changed since");
    if (f.size != 0) {
      void* map = ::mmap(nullptr, f.size, PROT_READ, MAP_SHARED | (populate ? MAP_POPULATE : 0),
                         fd.get(), 0);
      if (map == MAP_FAILED) throw_errno("mapping " + src.path);
      f.data = static_cast<const std::uint8_t*>(map);
    }
    files_.push_back(std::move(f));
  }
}

PageFiles::~PageFiles() {
  for (const File& f : files_) {
    if (f.data != nullptr) ::munmap(const_cast<std::uint8_t*>(f.data), f.size);
  }
}

std::span<const std::uint8_t> PageFiles::bytes(std::size_t source, std::uint64_t offset,
                                               std::uint64_t len) {
  File& f = files_.at(source);
  if (f.remote)
    throw CkptError(CkptError::kBadImage, "pages at " + std::to_string(offset) +
                                              " lie in the source's memory, not in a file");
  if (offset > f.size || len > f.size - offset)
    throw CkptError(CkptError::kBadImage, f.path + " is shorter than its pagemap says");
  const std::span<const std::uint8_t> all(f.data, f.size);
  if (len == 0) return all.subspan(offset, 0);
  for (std::uint64_t c = offset / kChunkBytes; c <= (offset + len - 1) / kChunkBytes; ++c) {
    if (f.checked[c]) continue;
    const std::uint64_t at = c * kChunkBytes;
    if (hash_of(all.subspan(at, std::min<std::uint64_t>(kChunkBytes, f.size - at))) != f.chunks[c])
      throw CkptError(CkptError::kBadImage, f.path + " fails the XXH3 check of its bytes " +
                                                std::to_string(at) + " to " +
                                                std::to_string(at + kChunkBytes) +
                                                " (corrupted): the image cannot be restored");
    f.checked[c] = true;
  }
  return all.subspan(offset, len);
}

}  // namespace crossrig::engine
