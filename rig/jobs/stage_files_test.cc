#include "rig/jobs/stage_files.h"

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

namespace crossrig::rig {
namespace {

namespace fs = std::filesystem;

std::string read(const fs::path& p) {
  std::ifstream in(p);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

class StageFiles : public ::testing::Test {
 protected:
  fs::path dir_ = fs::temp_directory_path() / ("rig-stage-" + std::to_string(getpid()));
  void SetUp() override {
    fs::remove_all(dir_);
    fs::create_directories(dir_ / "src");
  }
  void TearDown() override { fs::remove_all(dir_); }

  // A board whose tftp_dir is dir_/NAME, created.
  Board board(const std::string& name, Arch arch, BootMethod boot) {
    Board b;
    b.name = name;
    b.arch = arch;
    b.boot = boot;
    b.tftp_dir = (dir_ / name).string();
    fs::create_directories(*b.tftp_dir);
    return b;
  }
};

TEST_F(StageFiles, LinksOrCopiesUnderTheGivenName) {
  std::ofstream(dir_ / "src" / "Image-6.1") << "kernel bytes";
  stage_file((dir_ / "src" / "Image-6.1").string(), (dir_ / "tftp").string(), "Image");
  EXPECT_EQ(read(dir_ / "tftp" / "Image"), "kernel bytes");
  std::ofstream(dir_ / "src" / "other") << "new kernel";
  stage_file((dir_ / "src" / "other").string(), (dir_ / "tftp").string(), "Image");
  EXPECT_EQ(read(dir_ / "tftp" / "Image"), "new kernel") << "replaces the old one";
  EXPECT_EQ(std::distance(fs::directory_iterator(dir_ / "tftp"), fs::directory_iterator()), 1)
      << "no temporary file left behind";
}

TEST_F(StageFiles, MissingSourceNamesIt) {
  try {
    stage_file((dir_ / "src" / "nope").string(), (dir_ / "tftp").string(), "Image");
    FAIL();
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find("src/nope is not a readable file"), std::string::npos);
  }
}

TEST_F(StageFiles, WritesTextAtomically) {
  write_file_atomically((dir_ / "out").string(), "results.json", "{}\n");
  EXPECT_EQ(read(dir_ / "out" / "results.json"), "{}\n");
  write_file_atomically((dir_ / "out").string(), "results.json", "{\"a\":1}\n");
  EXPECT_EQ(read(dir_ / "out" / "results.json"), "{\"a\":1}\n");
}

TEST_F(StageFiles, BootFilesCarryTheStagedNamesAndTheCmdlineFile) {
  Board b = board("cell", Arch::kPpc64, BootMethod::kSlof);
  b.mac = "00:1a:64:5c:13:a0";
  write_file_atomically(*b.tftp_dir, "cmdline", "console=hvc0 rdinit=/init\n");
  stage_boot_files(b, "zImage.pseries", "ramdisk.cpio.gz", std::nullopt);
  std::string config = read(dir_ / "cell/pxelinux.cfg/01-00-1a-64-5c-13-a0");
  EXPECT_NE(config.find("KERNEL cell/zImage.pseries\n"), std::string::npos) << config;
  EXPECT_NE(config.find("APPEND console=hvc0 rdinit=/init\n"), std::string::npos) << config;
  EXPECT_EQ(read(dir_ / "cell/pxelinux.cfg/default"), config);
}

TEST_F(StageFiles, UbootScriptLoadsTheDtbStagedForTheJob) {
  Board b = board("rpi4", Arch::kAarch64, BootMethod::kUboot);
  for (const char* f : {"Image", "initrd.gz", "bcm2711-rpi-4-b.dtb"})
    std::ofstream(dir_ / "src" / f) << f;
  JobFiles files{(dir_ / "src/Image").string(), (dir_ / "src/initrd.gz").string(),
                 (dir_ / "src/bcm2711-rpi-4-b.dtb").string(), "console=ttyS0"};
  stage_job(b, files);
  EXPECT_EQ(read(dir_ / "rpi4/bcm2711-rpi-4-b.dtb"), "bcm2711-rpi-4-b.dtb");
  std::string script = read(dir_ / "rpi4/boot.scr.uimg");
  EXPECT_NE(script.find("tftpboot ${fdt_addr_r} rpi4/bcm2711-rpi-4-b.dtb"), std::string::npos)
      << script;
  EXPECT_NE(script.find("setenv bootargs 'console=ttyS0'"), std::string::npos) << script;
}

TEST_F(StageFiles, SlofBoardRefusesACutOffVmlinuxAndStagesOtherKernelsAsTheyAre) {
  Board b = board("cell", Arch::kPpc64, BootMethod::kSlof);
  // A big-endian ppc64 ELF64 header whose program headers lie past the end of the file.
  std::string header(64, '\0');
  header.replace(0, 4,
                 "\x7f"
                 "ELF");
  header[4] = 2;
  header[5] = 2;
  header[19] = 21;
  header[39] = 64;
  header[55] = 56;
  header[57] = 1;
  std::ofstream(dir_ / "src/vmlinux", std::ios::binary) << header;
  std::ofstream(dir_ / "src/initrd.gz") << "initrd";
  JobFiles cut{(dir_ / "src/vmlinux").string(), (dir_ / "src/initrd.gz").string(), {}, {}};
  try {
    stage_job(b, cut);
    ADD_FAILURE() << "a cut-off vmlinux was staged";
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find("src/vmlinux"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("truncated"), std::string::npos) << e.what();
  }
  EXPECT_FALSE(fs::exists(dir_ / "cell/vmlinux"));

  std::ofstream(dir_ / "src/zImage.pseries") << "not an ELF SLOF would load, but the user's";
  JobFiles other{(dir_ / "src/zImage.pseries").string(), (dir_ / "src/initrd.gz").string(), {}, {}};
  stage_job(b, other);
  EXPECT_EQ(read(dir_ / "cell/zImage.pseries"), "not an ELF SLOF would load, but the user's");
}

}  // namespace
}  // namespace crossrig::rig
