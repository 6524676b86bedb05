#include "rig/lava/job_definition.h"

#include <gtest/gtest.h>
#include <yaml-cpp/yaml.h>

#include "rig/lava/lava_test_support.h"

namespace crossrig::rig::lava {
namespace {

using testing::action;

Board uboot_board() {
  Board b = testing::rpi4_board();
  b.tftp_dir = "/srv/tftp/rpi4";
  b.job = BoardJob{"/lab/images/Image", "/lab/images/initramfs.cpio.gz", std::nullopt,
                   "console=ttyAMA0 rdinit=/init", 300};
  return b;
}

const FileSource kLocal{std::nullopt, "/lab"};
const FileSource kServed{"http://files.lab/rig/", "/lab"};

YAML::Node job_of(const Board& board, const FileSource& source = kLocal) {
  return testing::parsed(job_definition(board, source, "/lab/inventory.yaml"));
}

TEST(JobDefinition, UbootBoardDeploysOverTftpAndBootsWithUboot) {
  YAML::Node job = job_of(uboot_board());
  EXPECT_EQ(job["device_type"].as<std::string>(), "crossrig-uboot");
  EXPECT_EQ(job["tags"][0].as<std::string>(), "rpi4");
  EXPECT_EQ(job["visibility"].as<std::string>(), "public");
  YAML::Node deploy = action(job, "deploy");
  ASSERT_TRUE(deploy);
  EXPECT_EQ(deploy["to"].as<std::string>(), "tftp");
  EXPECT_EQ(deploy["kernel"]["url"].as<std::string>(), "file:///lab/images/Image");
  EXPECT_EQ(deploy["kernel"]["type"].as<std::string>(), "image");
  EXPECT_EQ(deploy["ramdisk"]["url"].as<std::string>(), "file:///lab/images/initramfs.cpio.gz");
  EXPECT_FALSE(deploy["ramdisk"]["install_overlay"].as<bool>());
  EXPECT_FALSE(deploy["dtb"]);
  YAML::Node boot = action(job, "boot");
  EXPECT_EQ(boot["method"].as<std::string>(), "u-boot");
  EXPECT_EQ(boot["commands"].as<std::string>(), "ramdisk");
  EXPECT_EQ(job["context"]["extra_kernel_args"].as<std::string>(), "console=ttyAMA0 rdinit=/init");
  // No dtb of the job's own: the kernel gets U-Boot's, as rig's boot script passes it.
  EXPECT_EQ(job["context"]["booti_dtb_addr"].as<std::string>(), "${fdtcontroladdr}");
}

TEST(JobDefinition, TimeoutsFollowTheJobsAttemptTimeout) {
  YAML::Node job = job_of(uboot_board());
  EXPECT_EQ(action(job, "boot")["timeout"]["seconds"].as<int>(), 300);
  EXPECT_EQ(action(job, "test")["timeout"]["seconds"].as<int>(), 300);
  int deploy = action(job, "deploy")["timeout"]["seconds"].as<int>();
  EXPECT_EQ(job["timeouts"]["job"]["seconds"].as<int>(), deploy + 2 * 300);
  EXPECT_EQ(job["timeouts"]["connections"]["lava-test-monitor"]["seconds"].as<int>(), 300);

  Board b = uboot_board();
  b.job->timeout_s.reset();
  EXPECT_EQ(action(job_of(b), "test")["timeout"]["seconds"].as<int>(), 600);
  b.job->timeout_s = 0.2;
  EXPECT_EQ(action(job_of(b), "test")["timeout"]["seconds"].as<int>(), 1);
}

TEST(JobDefinition, MonitorsWatchForTheRamdisksResultLines) {
  YAML::Node test = action(job_of(uboot_board()), "test");
  ASSERT_EQ(test["monitors"].size(), 1u);
  YAML::Node m = test["monitors"][0];
  EXPECT_EQ(m["start"].as<std::string>(), "<LAVA_SIGNAL_STARTRUN");
  EXPECT_EQ(m["end"].as<std::string>(), "<LAVA_SIGNAL_ENDRUN");
  std::string pattern = m["pattern"].as<std::string>();
  EXPECT_EQ(pattern, monitor_patterns().test_case);
  for (const char* group : {"(?P<test_case_id>", "(?P<result>", "(?P<measurement>", "(?P<units>"})
    EXPECT_NE(pattern.find(group), std::string::npos) << group;
}

TEST(JobDefinition, DtbIsDeployedAndBootedWithWhenTheJobHasOne) {
  Board b = uboot_board();
  b.job->dtb = "/lab/dtbs/bcm2711-rpi-4-b.dtb";
  YAML::Node job = job_of(b);
  EXPECT_EQ(action(job, "deploy")["dtb"]["url"].as<std::string>(),
            "file:///lab/dtbs/bcm2711-rpi-4-b.dtb");
  EXPECT_FALSE(job["context"]["booti_dtb_addr"]);
}

TEST(JobDefinition, FilesUrlServesTheInventorysDirectory) {
  Board b = uboot_board();
  b.job->kernel = "/lab/images/my kernel";
  YAML::Node deploy = action(job_of(b, kServed), "deploy");
  EXPECT_EQ(deploy["kernel"]["url"].as<std::string>(), "http://files.lab/rig/images/my%20kernel");
  EXPECT_EQ(deploy["ramdisk"]["url"].as<std::string>(),
            "http://files.lab/rig/images/initramfs.cpio.gz");
}

TEST(JobDefinition, FileOutsideTheServedDirectoryIsAProblem) {
  Board b = uboot_board();
  b.job->ramdisk = "/elsewhere/initramfs.cpio.gz";
  auto problems = std::get<1>(job_definition(b, kServed, "inventory.yaml"));
  ASSERT_EQ(problems.size(), 1u);
  EXPECT_EQ(problems[0].rfind("job.ramdisk: /elsewhere/initramfs.cpio.gz is outside /lab", 0), 0u)
      << problems[0];
}

TEST(JobDefinition, CommandLineLavasTemplatesCannotCarryIsAProblem) {
  Board b = uboot_board();
  b.job->cmdline = "console=ttyAMA0 init='/sbin/init'";
  auto problems = std::get<1>(job_definition(b, kLocal, "inventory.yaml"));
  ASSERT_EQ(problems.size(), 1u);
  EXPECT_EQ(problems[0].rfind("job.cmdline: ", 0), 0u) << problems[0];
}

TEST(JobDefinition, IpxeBoardBootsWithIpxeAndTheJobsCommandLine) {
  Board b = uboot_board();
  b.arch = Arch::kX86_64;
  b.boot = BootMethod::kIpxe;
  b.job->cmdline = "console=ttyS0 rdinit=/init";
  YAML::Node job = job_of(b);
  EXPECT_EQ(job["device_type"].as<std::string>(), "crossrig-ipxe");
  EXPECT_EQ(action(job, "boot")["method"].as<std::string>(), "ipxe");
  EXPECT_FALSE(action(job, "deploy")["kernel"]["type"]);
  EXPECT_EQ(job["context"]["extra_kernel_args"].as<std::string>(), "console=ttyS0 rdinit=/init");
  EXPECT_FALSE(job["context"]["booti_dtb_addr"]);
}

TEST(JobDefinition, SlofBoardIsPowerCycledAndWatchedWithoutADeploy) {
  Board b = uboot_board();
  b.name = "cell-qs22";
  b.arch = Arch::kPpc64;
  b.boot = BootMethod::kSlof;
  b.tftp_dir = "/srv/tftp/cell-qs22";
  // Staged by rig, never seen by LAVA: any command line and any path will do.
  b.job->cmdline = "console=hvc0 quiet='yes'";
  b.job->kernel = "/elsewhere/vmlinux";
  auto text = std::get<0>(job_definition(b, kServed, "inventory.yaml"));
  EXPECT_NE(text.find("/srv/tftp/cell-qs22"), std::string::npos) << text;
  YAML::Node job = YAML::Load(text);
  EXPECT_EQ(job["device_type"].as<std::string>(), "crossrig-slof");
  EXPECT_FALSE(action(job, "deploy"));
  EXPECT_EQ(action(job, "boot")["method"].as<std::string>(), "minimal");
  EXPECT_FALSE(action(job, "boot")["commands"]);
  EXPECT_TRUE(action(job, "test")["monitors"]);
  EXPECT_FALSE(job["context"]);
  EXPECT_EQ(job["metadata"]["rig.kernel"].as<std::string>(), "/elsewhere/vmlinux");
  EXPECT_EQ(job["metadata"]["rig.tftp_dir"].as<std::string>(), "/srv/tftp/cell-qs22");
  EXPECT_EQ(job["timeouts"]["job"]["seconds"].as<int>(), 2 * 300);
}

}  // namespace
}  // namespace crossrig::rig::lava
