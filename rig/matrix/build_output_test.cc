#include "rig/matrix/build_output.h"

#include <gtest/gtest.h>

namespace crossrig::rig::matrix {
namespace {

TEST(BuildOutput, LabImagesJsonListNamesTheArchsFiles) {
  const char* out = R"([{"arch": "x86_64", "kernel": "/c/x/bzImage", "ramdisk": "/c/x/r.gz"},
    {"arch": "ppc64", "kernel": "/c/p/vmlinux", "ramdisk": "/c/p/r.gz",
     "kernel_release": "6.1.192", "source": "built from linux-source-6.1"}])";
  const auto f = parse_build_output(out, "ppc64");
  ASSERT_TRUE(f);
  EXPECT_EQ(f->kernel, "/c/p/vmlinux");
  EXPECT_EQ(f->ramdisk, "/c/p/r.gz");
  EXPECT_EQ(f->kernel_release, "6.1.192");
  EXPECT_EQ(f->source, "built from linux-source-6.1");
  EXPECT_FALSE(parse_build_output(out, "s390x")) << "another arch's files are not this arch's";
}

TEST(BuildOutput, AnObjectOrAListOfOneWithoutArchCounts) {
  EXPECT_EQ(parse_build_output(R"({"kernel": "/k", "ramdisk": "/r"})", "aarch64")->kernel, "/k");
  EXPECT_EQ(parse_build_output(R"([{"kernel": "/k", "ramdisk": "/r"}])", "aarch64")->ramdisk, "/r");
}

TEST(BuildOutput, TextOrHalfAManifestNamesNoFiles) {
  EXPECT_FALSE(parse_build_output("", "x86_64"));
  EXPECT_FALSE(parse_build_output("built 12 objects\n", "x86_64"));
  EXPECT_FALSE(parse_build_output(R"({"kernel": "/k"})", "x86_64"));
  EXPECT_FALSE(parse_build_output(R"({"kernel": 3, "ramdisk": "/r"})", "x86_64"));
  EXPECT_FALSE(parse_build_output("[1, 2]", "x86_64"));
}

TEST(BuildOutput, EveryArchPlaceholderIsReplaced) {
  EXPECT_EQ(build_command_for("make ARCH={arch} O=out/{arch}", "s390x"),
            "make ARCH=s390x O=out/s390x");
  EXPECT_EQ(build_command_for("make all", "s390x"), "make all");
}

}  // namespace
}  // namespace crossrig::rig::matrix
