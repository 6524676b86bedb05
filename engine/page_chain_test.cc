#include "engine/page_chain.h"

#include <gtest/gtest.h>

#include <string>

#include "arch/arch.h"
#include "engine/ckpt_error.h"
#include "tests/support/temp_dir.h"

namespace crossrig::engine {
namespace {

const std::uint64_t kPage = arch::native_arch().page_size;
constexpr std::uint64_t kBase = 0x7f0000000000;

std::uint64_t page_at(int n) {
  return kBase + static_cast<std::uint64_t>(n) * kPage;
}

// An image of process 1 whose pagemap holds runs of (first page, npages, in parent), its own
// pages written one after the other; parent: the directory of the image before it.
std::string write_image(const std::string& dir, const std::string& parent,
                        const std::vector<std::tuple<int, int, bool>>& runs) {
  ImageWriter w(dir);
  PagesWriter pages = w.open_pages("pages-1.img");
  std::vector<PagemapEntry> pagemap;
  for (const auto& [first, n, in_parent] : runs) {
    pagemap.push_back(
        {page_at(first), static_cast<std::uint64_t>(n), in_parent ? 0 : pages.size(), in_parent});
    if (!in_parent) pages.append(std::vector<std::uint8_t>(n * kPage, 0x5a));
  }
  w.add_pages("pages-1.img", pages);
  w.write_json("pagemap-1.json", pagemap);
  nlohmann::json fields = {{"kind", parent.empty() ? "pre-dump" : "dump"}};
  if (!parent.empty()) fields["parent"] = parent;
  w.commit(fields);
  return dir;
}

TEST(PageSources, FindsEachRunDownTheChain) {
  test_support::TempDir dir("crossrig-chain");
  const std::string d = dir.path().string();
  // The first pre-dump copies pages 0-9; the second only 2-3 and leaves the rest to the
  // first; the dump copies 5 and leaves the rest to the second.
  write_image(d + "/1", "", {{0, 10, false}});
  write_image(d + "/2", d + "/1", {{0, 2, true}, {2, 2, false}, {4, 6, true}});
  write_image(d + "/3", d + "/2", {{0, 5, true}, {5, 1, false}, {6, 4, true}});
  ImageReader last(d + "/3");
  const auto pagemap = last.json("pagemap-1.json").get<std::vector<PagemapEntry>>();
  const auto sources = page_sources(last, 1, pagemap);
  ASSERT_EQ(sources.size(), 3u);
  EXPECT_EQ(sources[0].path, d + "/3/pages-1.img");
  ASSERT_EQ(sources[0].runs.size(), 1u);
  EXPECT_EQ(sources[0].runs[0].vaddr, page_at(5));
  // From the second: pages 2-3 at their offset in its file.
  ASSERT_EQ(sources[1].runs.size(), 1u);
  EXPECT_EQ(sources[1].runs[0].vaddr, page_at(2));
  EXPECT_EQ(sources[1].runs[0].npages, 2u);
  EXPECT_EQ(sources[1].runs[0].offset, 0u);
  // From the first: 0-1, 4 and 6-9, each at its own offset.
  std::vector<std::pair<std::uint64_t, std::uint64_t>> got;
  for (const PagemapEntry& e : sources[2].runs) {
    EXPECT_EQ(e.offset, (e.vaddr - kBase)) << "offset of the page at " << e.vaddr;
    got.emplace_back(e.vaddr, e.npages);
  }
  std::sort(got.begin(), got.end());
  EXPECT_EQ(got, (std::vector<std::pair<std::uint64_t, std::uint64_t>>{
                     {page_at(0), 2}, {page_at(4), 1}, {page_at(6), 4}}));
  EXPECT_EQ(sources[2].xxh3, ImageReader(d + "/1").pages_xxh3("pages-1.img"));
}

TEST(PageSources, RefusesPagesNoParentHolds) {
  test_support::TempDir dir("crossrig-chain");
  const std::string d = dir.path().string();
  write_image(d + "/1", "", {{0, 4, false}});
  write_image(d + "/2", d + "/1", {{2, 4, true}});
  write_image(d + "/orphan", "", {{0, 1, true}});
  for (const char* name : {"2", "orphan"}) {
    ImageReader r(d + "/" + std::string(name));
    try {
      page_sources(r, 1, r.json("pagemap-1.json").get<std::vector<PagemapEntry>>());
      ADD_FAILURE() << name << ": no error";
    } catch (const CkptError& e) {
      EXPECT_EQ(e.kind(), CkptError::kBadImage) << e.what();
      EXPECT_NE(std::string(e.what()).find("parent"), std::string::npos) << e.what();
    }
  }
}

TEST(PageSources, RemoteRunsComeLastAtTheirAddressOnTheSource) {
  test_support::TempDir dir("crossrig-chain");
  const std::string d = dir.path().string();
  write_image(d + "/1", "", {{0, 4, false}});
  ImageWriter w(d + "/2");
  PagesWriter pages = w.open_pages("pages-1.img");
  pages.append(std::vector<std::uint8_t>(kPage, 0x11));
  w.add_pages("pages-1.img", pages);
  w.write_json("pagemap-1.json", std::vector<PagemapEntry>{{page_at(0), 1, 0, true, false},
                                                           {page_at(1), 2, 0, false, true},
                                                           {page_at(3), 1, 0, false, false}});
  w.commit({{"kind", "dump"}, {"parent", d + "/1"}});
  ImageReader last(d + "/2");
  const auto sources =
      page_sources(last, 1, last.json("pagemap-1.json").get<std::vector<PagemapEntry>>());
  ASSERT_EQ(sources.size(), 3u);
  EXPECT_FALSE(sources[0].remote);
  EXPECT_FALSE(sources[1].remote);
  ASSERT_TRUE(sources[2].remote);
  ASSERT_EQ(sources[2].runs.size(), 1u);
  EXPECT_EQ(sources[2].runs[0].vaddr, page_at(1));
  EXPECT_EQ(sources[2].runs[0].offset, page_at(1));
  EXPECT_EQ(sources[2].runs[0].npages, 2u);
  // A parent never has remote pages: only a post-copy migration's final dump leaves them.
  ImageWriter bad(d + "/3");
  bad.write_json("pagemap-1.json", std::vector<PagemapEntry>{{page_at(1), 1, 0, true, false}});
  bad.commit({{"kind", "dump"}, {"parent", d + "/2"}});
  ImageReader r(d + "/3");
  EXPECT_THROW(page_sources(r, 1, r.json("pagemap-1.json").get<std::vector<PagemapEntry>>()),
               CkptError);
}

TEST(PageSources, RefusesALoopedChain) {
  test_support::TempDir dir("crossrig-chain");
  const std::string d = dir.path().string();
  write_image(d + "/1", d + "/1", {{0, 1, true}});
  ImageReader r(d + "/1");
  EXPECT_THROW(page_sources(r, 1, r.json("pagemap-1.json").get<std::vector<PagemapEntry>>()),
               CkptError);
}

TEST(ParentDir, RelativeToTheImageAbsoluteAsItIs) {
  EXPECT_EQ(parent_dir("/srv/images/img", {{"parent", "../pre-1"}}), "/srv/images/pre-1");
  EXPECT_EQ(parent_dir("work/img/", {{"parent", "../pre-1"}}), "work/pre-1");
  // Images written before parents were relative name them absolutely.
  EXPECT_EQ(parent_dir("/srv/images/img", {{"parent", "/var/ckpt/pre-1"}}), "/var/ckpt/pre-1");
  EXPECT_EQ(parent_dir("/srv/images/img", nlohmann::json::object()), "");
}

}  // namespace
}  // namespace crossrig::engine
