#include "engine/page_chain.h"

#include <algorithm>
#include <filesystem>

#include "arch/arch.h"
#include "engine/ckpt_error.h"

namespace crossrig::engine {
namespace {

// The pieces of the pages wanted (sorted runs) that the image's pagemap holds: those it
// copied go to source, those it leaves in its parent stay wanted; returns what no run of it
// covers.
std::vector<PagemapEntry> take(std::vector<PagemapEntry>& wanted,
                               const std::vector<PagemapEntry>& pagemap, PageSource& source) {
  const std::uint64_t ps = arch::native_arch().page_size;
  std::vector<PagemapEntry> sorted = pagemap;
  std::sort(sorted.begin(), sorted.end(),
            [](const PagemapEntry& a, const PagemapEntry& b) { return a.vaddr < b.vaddr; });
  std::vector<PagemapEntry> further, missing;
  for (const PagemapEntry& w : wanted) {
    std::uint64_t at = w.vaddr;
    const std::uint64_t end = w.vaddr + w.npages * ps;
    auto it = std::upper_bound(sorted.begin(), sorted.end(), at,
                               [](std::uint64_t v, const PagemapEntry& e) { return v < e.vaddr; });
    if (it != sorted.begin()) --it;
    for (; at < end && it != sorted.end(); ++it) {
      const std::uint64_t run_end = it->vaddr + it->npages * ps;
      if (run_end <= at) continue;
      if (it->vaddr > at) {
        const std::uint64_t gap_end = std::min(end, it->vaddr);
        missing.push_back({at, (gap_end - at) / ps, 0, false});
        at = gap_end;
        if (at >= end) break;
      }
      if (it->remote)
        throw CkptError(CkptError::kBadImage, "the parent image " + source.path +
                                                  " has remote pages, which only a final dump has");
      const std::uint64_t piece_end = std::min(end, run_end);
      const PagemapEntry piece{at, (piece_end - at) / ps, it->offset + (at - it->vaddr),
                               it->in_parent};
      (it->in_parent ? further : source.runs).push_back(piece);
      at = piece_end;
    }
    if (at < end) missing.push_back({at, (end - at) / ps, 0, false});
  }
  wanted = std::move(further);
  return missing;
}

}  // namespace

std::string parent_dir(const std::string& dir, const nlohmann::json& inventory) {
  const std::string parent = inventory.value("parent", "");
  // Relative to the image's own directory since format 9's chains; absolute before.
  if (parent.empty() || parent.starts_with('/')) return parent;
  return (std::filesystem::path(dir) / parent).lexically_normal().string();
}

std::vector<PageSource> page_sources(const ImageReader& image, int pid,
                                     const std::vector<PagemapEntry>& pagemap, int max_depth) {
  const std::string id = std::to_string(pid);
  const std::string pages = "pages-" + id + ".img";
  std::vector<PageSource> sources(1);
  sources[0].path = image.pages_path(pages);
  sources[0].xxh3 = image.pages_xxh3(pages);
  sources[0].chunks = image.pages_chunks(pages);
  std::vector<PagemapEntry> wanted;
  PageSource remote;
  remote.remote = true;
  for (const PagemapEntry& e : pagemap) {
    if (e.remote)
      remote.runs.push_back({e.vaddr, e.npages, e.vaddr, false, true});
    else
      (e.in_parent ? wanted : sources[0].runs).push_back(e);
  }
  std::string dir = image.dir();
  std::string parent = parent_dir(dir, image.inventory());
  for (int depth = 0; !wanted.empty(); ++depth) {
    if (parent.empty())
      throw CkptError(CkptError::kBadImage, "image " + dir + " says pages of process " + id +
                                                " are in its parent, and it has none");
    if (depth == max_depth)
      throw CkptError(CkptError::kBadImage, "the chain of images above " + image.dir() +
                                                " is longer than " + std::to_string(max_depth) +
                                                " (a loop?)");
    ImageReader up(parent);
    if (!up.has("pagemap-" + id + ".json"))
      throw CkptError(CkptError::kBadImage, "image " + dir + " says pages of process " + id +
                                                " are in its parent " + parent +
                                                ", which holds none of that process");
    PageSource source;
    source.path = up.pages_path(pages);
    source.xxh3 = up.pages_xxh3(pages);
    source.chunks = up.pages_chunks(pages);
    const auto missing =
        take(wanted, up.json("pagemap-" + id + ".json").get<std::vector<PagemapEntry>>(), source);
    if (!missing.empty())
      throw CkptError(CkptError::kBadImage, "image " + dir + " says the pages at " +
                                                std::to_string(missing[0].vaddr) + " of process " +
                                                id + " are in its parent " + parent +
                                                ", which does not hold them");
    if (!source.runs.empty()) sources.push_back(std::move(source));
    dir = parent;
    parent = parent_dir(dir, up.inventory());
  }
  if (!remote.runs.empty()) sources.push_back(std::move(remote));
  return sources;
}

}  // namespace crossrig::engine
