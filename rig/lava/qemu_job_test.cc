#include "rig/lava/qemu_job.h"

#include <gtest/gtest.h>
#include <yaml-cpp/yaml.h>

#include "rig/lava/lava_test_support.h"

namespace crossrig::rig::lava {
namespace {

// A board as `rig lab up` writes it into the lab's inventory: a job without a command line.
Board lab_board(Arch arch, BootMethod boot) {
  Board b;
  b.name = "qemu-board";
  b.arch = arch;
  b.boot = boot;
  b.power = {"hs100", {{"address", "127.0.0.1:9999"}, {"transport", "xor"}}};
  b.console = "127.0.0.1:7001";
  b.line = 3;
  b.job = BoardJob{"/cache/lab/kernel", "/cache/lab/ramdisk.cpio.gz", std::nullopt, std::nullopt,
                   std::nullopt};
  return b;
}

const FileSource kLocal{std::nullopt, "/lab"};

using testing::action;

YAML::Node job_of(const Board& board, const FileSource& source = kLocal) {
  return testing::parsed(qemu_job_definition(board, source, "/lab/inventory.yaml"));
}

std::vector<std::string> extra_options(const YAML::Node& job) {
  return job["context"]["extra_options"].as<std::vector<std::string>>();
}

TEST(QemuJob, X86BoardBootsItsFilesInQemuAsTheLabsQ35WithItsCpu) {
  YAML::Node job = job_of(lab_board(Arch::kX86_64, BootMethod::kIpxe));
  EXPECT_EQ(job["device_type"].as<std::string>(), "qemu");
  // Any qemu device of any worker may run it.
  EXPECT_FALSE(job["tags"]);
  EXPECT_EQ(job["context"]["arch"].as<std::string>(), "amd64");
  EXPECT_EQ(job["context"]["memory"].as<int>(), 1024);
  EXPECT_TRUE(job["context"]["no_kvm"].as<bool>());
  // LAVA's template puts neither machine nor CPU on an amd64 command line.
  EXPECT_EQ(extra_options(job),
            (std::vector<std::string>{"-no-reboot", "-machine q35", "-cpu max"}));
  EXPECT_FALSE(job["context"]["machine"]);
  EXPECT_FALSE(job["context"]["cpu"]);

  YAML::Node deploy = action(job, "deploy");
  EXPECT_EQ(deploy["to"].as<std::string>(), "tmpfs");
  EXPECT_EQ(deploy["images"]["kernel"]["url"].as<std::string>(), "file:///cache/lab/kernel");
  EXPECT_EQ(deploy["images"]["kernel"]["image_arg"].as<std::string>(),
            "-kernel {kernel} -append \"console=ttyS0 rdinit=/init\"");
  EXPECT_EQ(deploy["images"]["initrd"]["url"].as<std::string>(),
            "file:///cache/lab/ramdisk.cpio.gz");
  EXPECT_EQ(deploy["images"]["initrd"]["image_arg"].as<std::string>(), "-initrd {initrd}");
  YAML::Node boot = action(job, "boot");
  EXPECT_EQ(boot["method"].as<std::string>(), "qemu");
  EXPECT_EQ(boot["media"].as<std::string>(), "tmpfs");
  EXPECT_EQ(action(job, "test")["monitors"][0]["pattern"].as<std::string>(),
            monitor_patterns().test_case);
  EXPECT_EQ(job["metadata"]["rig.board"].as<std::string>(), "qemu-board");
}

TEST(QemuJob, Arm64MachineAndCpuGoWhereLavasTemplateTakesThem) {
  YAML::Node job = job_of(lab_board(Arch::kAarch64, BootMethod::kUboot));
  EXPECT_EQ(job["context"]["arch"].as<std::string>(), "arm64");
  EXPECT_EQ(job["context"]["machine"].as<std::string>(), "virt");
  EXPECT_EQ(job["context"]["cpu"].as<std::string>(), "max,pauth-impdef=on");
  EXPECT_EQ(extra_options(job), std::vector<std::string>{"-no-reboot"});
  EXPECT_NE(action(job, "deploy")["images"]["kernel"]["image_arg"].as<std::string>().find(
                "\"console=ttyAMA0 rdinit=/init\""),
            std::string::npos);
}

TEST(QemuJob, EveryArchRunsTheLabsMachine) {
  YAML::Node ppc64le = job_of(lab_board(Arch::kPpc64le, BootMethod::kSlof));
  EXPECT_EQ(ppc64le["context"]["arch"].as<std::string>(), "ppc64");
  EXPECT_EQ(ppc64le["context"]["machine"].as<std::string>().rfind("pseries,", 0), 0u);
  YAML::Node s390x = job_of(lab_board(Arch::kS390x, BootMethod::kS390Netboot));
  EXPECT_EQ(s390x["context"]["arch"].as<std::string>(), "s390x");
  EXPECT_EQ(extra_options(s390x),
            (std::vector<std::string>{"-no-reboot", "-machine s390-ccw-virtio"}));
}

TEST(QemuJob, JobsCommandLineAndTimeoutAreKept) {
  Board b = lab_board(Arch::kX86_64, BootMethod::kIpxe);
  b.job->cmdline = "console=ttyS0 rdinit=/init quiet";
  b.job->timeout_s = 900;
  YAML::Node job = job_of(b);
  EXPECT_EQ(action(job, "deploy")["images"]["kernel"]["image_arg"].as<std::string>(),
            "-kernel {kernel} -append \"console=ttyS0 rdinit=/init quiet\"");
  EXPECT_EQ(action(job, "boot")["timeout"]["seconds"].as<int>(), 900);
  EXPECT_EQ(action(job, "test")["timeout"]["seconds"].as<int>(), 900);
  EXPECT_EQ(job["timeouts"]["connections"]["lava-test-monitor"]["seconds"].as<int>(), 900);
  int deploy = action(job, "deploy")["timeout"]["seconds"].as<int>();
  EXPECT_EQ(job["timeouts"]["job"]["seconds"].as<int>(), deploy + 2 * 900);
}

TEST(QemuJob, QuotedCommandLineAndUnservedFilesAreProblems) {
  Board b = lab_board(Arch::kX86_64, BootMethod::kIpxe);
  b.job->cmdline = "console=ttyS0 init=\"/init\"";
  auto problems =
      std::get<1>(qemu_job_definition(b, {"http://files.lab/rig", "/lab"}, "inventory.yaml"));
  ASSERT_EQ(problems.size(), 3u);
  EXPECT_EQ(problems[0].rfind("job.kernel: /cache/lab/kernel is outside /lab", 0), 0u)
      << problems[0];
  EXPECT_EQ(problems[1].rfind("job.ramdisk: ", 0), 0u) << problems[1];
  EXPECT_EQ(problems[2].rfind("job.cmdline: ", 0), 0u) << problems[2];
}

TEST(QemuJob, DeviceExtendsLavasQemuTypeAndNeedsNothingOfTheBoard) {
  Board b = lab_board(Arch::kX86_64, BootMethod::kIpxe);
  b.console.reset();
  std::string device = qemu_device_dictionary(b, "/lab/inventory.yaml");
  EXPECT_NE(device.find("{% extends 'qemu.jinja2' %}\n"), std::string::npos) << device;
  EXPECT_NE(device.find("board 'qemu-board'"), std::string::npos) << device;
  EXPECT_NE(device.find("/lab/inventory.yaml line 3"), std::string::npos) << device;
}

}  // namespace
}  // namespace crossrig::rig::lava
