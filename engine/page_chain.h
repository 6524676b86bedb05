#pragma once
// Where restore finds each page of a process when its image is the last of a chain
// (pre-dumps, then the dump): a run the image marks in_parent lies in the parent image's
// pages file, or further up. Every image of the chain is opened and checked like the last.

#include <cstdint>
#include <string>
#include <vector>

#include "engine/image.h"
#include "engine/task_image.h"

namespace crossrig::engine {

/// A pages file of the chain and the runs restore reads from it (offsets into it); or, when
/// remote, the runs a post-copy migration's destination fetches from the frozen source, each
/// offset being the run's address there.
struct PageSource {
  std::string path;
  std::uint64_t xxh3 = 0;             ///< Of the whole file, from its image's inventory.
  std::vector<std::uint64_t> chunks;  ///< Of each kChunkBytes of it, from the same.
  std::vector<PagemapEntry> runs;
  bool remote = false;
};

/// The directory of the parent image that the image in dir names in its inventory, or ""
/// for none. A relative name is relative to dir, so that a chain can move as a whole.
std::string parent_dir(const std::string& dir, const nlohmann::json& inventory);

/// The sources of the pages image lists for process pid (pagemap): its own pages file for
/// the runs it holds, then one per parent image holding others, and last the remote runs. Throws
/// kBadImage when a run in_parent is in no parent, or the chain is longer than max_depth (a loop).
std::vector<PageSource> page_sources(const ImageReader& image, int pid,
                                     const std::vector<PagemapEntry>& pagemap, int max_depth = 64);

}  // namespace crossrig::engine
