#include "rig/lab/manifest.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

namespace crossrig::rig::lab {
namespace {

namespace fs = std::filesystem;

TEST(Manifest, CacheRootFollowsXdgThenHome) {
  EXPECT_EQ(cache_root("/c", "/home/u"), "/c/crossrig");
  EXPECT_EQ(cache_root(std::nullopt, "/home/u"), "/home/u/.cache/crossrig");
  EXPECT_EQ(cache_root("", "/home/u"), "/home/u/.cache/crossrig");
  EXPECT_EQ(manifest_path("/c/crossrig", Arch::kPpc64le), "/c/crossrig/lab/ppc64le/manifest.json");
}

TEST(Manifest, ParsesTheContractsFields) {
  auto m = parse_manifest(R"({"arch":"x86_64","kernel":"/k/bzImage","ramdisk":"/k/r.gz",
    "kernel_release":"6.1.0-57-amd64","kernel_format":"bzImage","source":"debian"})",
                          "m.json");
  EXPECT_EQ(m.kernel, "/k/bzImage");
  EXPECT_EQ(m.kernel_format, "bzImage");
  EXPECT_THROW(parse_manifest(R"({"arch":"x86_64","kernel":"/k"})", "m"), std::runtime_error);
  EXPECT_THROW(parse_manifest(R"({"arch":"x86_64","kernel":"k","ramdisk":"/r"})", "m"),
               std::runtime_error);
  EXPECT_THROW(parse_manifest("not json", "m"), std::runtime_error);
}

TEST(Manifest, MissingOneSaysWhichCommandMakesIt) {
  fs::path dir = fs::temp_directory_path() / ("rig-manifest-" + std::to_string(getpid()));
  try {
    load_manifest(dir.string(), Arch::kS390x);
    FAIL() << "no manifest there";
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find("toolchains/lab-images s390x"), std::string::npos)
        << e.what();
  }
  fs::create_directories(dir / "lab/s390x");
  std::ofstream(dir / "lab/s390x/kernel") << "k";
  std::ofstream(dir / "lab/s390x/manifest.json")
      << R"({"arch":"s390x","kernel":")" << (dir / "lab/s390x/kernel").string()
      << R"(","ramdisk":")" << (dir / "lab/s390x/ramdisk").string() << "\"}";
  EXPECT_THROW(load_manifest(dir.string(), Arch::kS390x), std::runtime_error) << "no ramdisk";
  std::ofstream(dir / "lab/s390x/ramdisk") << "r";
  EXPECT_EQ(load_manifest(dir.string(), Arch::kS390x).arch, "s390x");
  fs::remove_all(dir);
}

}  // namespace
}  // namespace crossrig::rig::lab
