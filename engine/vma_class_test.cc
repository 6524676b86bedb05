#include "engine/vma_class.h"

#include <gtest/gtest.h>

namespace crossrig::engine {
namespace {

VmaClass of(const char* line) {
  return classify_vma(parse_maps(line).at(0));
}

TEST(ClassifyVma, EachKindAndItsPages) {
  EXPECT_EQ(of("1000-2000 rw-p 00000000 00:00 0\n").pages, PageFilter::kPresent);
  EXPECT_EQ(of("1000-2000 rw-p 00000000 00:00 0 [heap]\n").kind, "heap");
  EXPECT_EQ(of("1000-2000 rw-p 00000000 00:00 0 [stack]\n").kind, "stack");
  auto shanon = of("1000-2000 rw-s 00000000 00:01 7 /dev/zero (deleted)\n");
  EXPECT_EQ(shanon.kind, "anon");
  EXPECT_EQ(shanon.pages, PageFilter::kPresent);
  auto priv = of("1000-2000 r-xp 00000000 fe:00 7 /usr/lib/libc.so.6\n");
  EXPECT_EQ(priv.kind, "file");
  EXPECT_EQ(priv.pages, PageFilter::kAnonOnly);
  EXPECT_FALSE(of("1000-2000 rw-s 00000000 fe:00 7 /tmp/f\n").pages.has_value());
  auto vvar = of("1000-2000 r--p 00000000 00:00 0 [vvar_vclock]\n");
  EXPECT_EQ(vvar.kind, "vvar_vclock");
  EXPECT_TRUE(is_kernel_special(vvar.kind));
  EXPECT_FALSE(vvar.pages.has_value());
}

TEST(ClassifyVma, DeletedFilesAndMemfdsKeepTheirInode) {
  auto priv = of("1000-2000 rw-p 00000000 fe:00 7 /tmp/gone (deleted)\n");
  EXPECT_EQ(priv.kind, "unlinked");
  EXPECT_EQ(priv.pages, PageFilter::kAnonOnly);
  auto memfd = of("1000-2000 rw-s 00000000 00:01 9 /memfd:buf (deleted)\n");
  EXPECT_EQ(memfd.kind, "unlinked");
  EXPECT_FALSE(memfd.pages.has_value());
  EXPECT_FALSE(memfd.refusal.has_value());
}

TEST(ClassifyVma, KeepsSysvShmWithoutPages) {
  // The segment's content comes with its IPC namespace, not with each process.
  auto c = of("1000-2000 rw-s 00000000 00:01 32769 /SYSV0000abcd (deleted)\n");
  EXPECT_EQ(c.kind, "sysv");
  EXPECT_FALSE(c.pages.has_value());
  EXPECT_FALSE(c.refusal.has_value());
}

}  // namespace
}  // namespace crossrig::engine
