#include "rig/matrix/sample_nights.h"

#include <string>

namespace crossrig::rig::matrix::testing {
namespace {

TestResult t(std::string name, Status s) {
  return {std::move(name), s, std::nullopt, ""};
}

TestResult measured(std::string name, double value, std::string units) {
  return {std::move(name), Status::kPass, value, std::move(units)};
}

BoardRun run(std::string board, std::string arch, std::string boot, double firmware, double kernel,
             std::vector<TestResult> tests) {
  BoardRun r;
  r.board = board;
  r.arch = std::move(arch);
  r.boot = std::move(boot);
  r.result = "pass";
  for (const auto& test : tests) {
    if (test.status == Status::kFail) r.result = "fail";
  }
  r.console_log = board + "/console.log";
  r.job_dir = board;
  r.kernel = "/srv/kernels/" + board + "/vmlinux";
  r.started = "2026-12-01T02:00:00Z";
  r.seconds = firmware + kernel + 60;
  r.firmware_s = firmware;
  r.kernel_s = kernel;
  r.job_s = 60;
  r.tests = std::move(tests);
  return r;
}

Build build(std::string arch, bool ok) {
  Build b;
  b.arch = arch;
  b.ok = ok;
  b.command = "toolchains/lab-images --json " + arch;
  b.log = "build-" + arch + ".log";
  b.started = "2026-12-01T01:00:00Z";
  b.seconds = 12.5;
  if (ok) {
    b.kernel = "/cache/" + arch + "/vmlinux";
    b.ramdisk = "/cache/" + arch + "/ramdisk.cpio.gz";
    b.kernel_release = "6.1.0-" + arch;
    b.source = "debian package";
  }
  return b;
}

Night night(std::string date, double rate_x86, bool s390x_builds, std::vector<BoardRun> boards) {
  Night n;
  n.date = date;
  n.started = date + "T01:00:00Z";
  n.finished = date + "T03:00:00Z";
  n.host = "lab1";
  n.source = {"https://git.example.org/crossrig.git", std::string(40, 'a'), "main",
              "v0.9-12-gaaaa"};
  for (const char* arch : {"x86_64", "aarch64", "ppc64", "s390x"}) {
    n.builds.push_back(build(arch, std::string(arch) != "s390x" || s390x_builds));
  }
  for (auto& b : boards) {
    for (auto& test : b.tests) {
      if (test.name == "ckpt/bench_dump_rate_64MiB" && b.arch == "x86_64")
        test.measurement = rate_x86;
    }
  }
  n.boards = std::move(boards);
  return n;
}

}  // namespace

std::vector<Night> sample_nights() {
  auto x86 = [](Status threads, Status lazy) {
    return run("qemu-x86_64", "x86_64", "ipxe", 4.5, 3.0,
               {t("uname", Status::kPass), t("ckpt/restore_threads", threads), t("ckpt/lazy", lazy),
                measured("ckpt/bench_dump_rate_64MiB", 0, "MiB/s"),
                measured("ckpt/bench_dump_64MiB", 1.4, "x_dd")});
  };
  auto a64 = [](bool lazy_reported) {
    std::vector<TestResult> tests = {t("uname", Status::kPass),
                                     t("ckpt/restore_threads", Status::kPass),
                                     measured("ckpt/bench_dump_rate_64MiB", 410, "MiB/s"),
                                     measured("ckpt/bench_dump_64MiB", 2.1, "x_dd")};
    if (lazy_reported) tests.push_back(t("ckpt/lazy", Status::kPass));
    return run("qemu-aarch64", "aarch64", "uboot", 9.0, 6.5, std::move(tests));
  };
  auto cell = [] {
    return run("cell", "ppc64", "slof", 21.0, 14.0,
               {t("uname", Status::kPass), t("ckpt/restore_threads", Status::kFail),
                t("ckpt/lazy", Status::kSkip), measured("ckpt/bench_dump_rate_64MiB", 120, "MiB/s"),
                measured("ckpt/bench_dump_64MiB", 3.3, "x_dd")});
  };
  auto s390x = [](bool ran) {
    if (ran) {
      return run("qemu-s390x", "s390x", "s390-netboot", 2.0, 5.0,
                 {t("uname", Status::kPass), t("ckpt/restore_threads", Status::kPass),
                  measured("ckpt/bench_dump_rate_64MiB", 300, "MiB/s")});
    }
    BoardRun r;
    r.board = "qemu-s390x";
    r.arch = "s390x";
    r.boot = "s390-netboot";
    r.result = "error";
    r.error = "the s390x build failed (see build-s390x.log); the job did not run";
    r.job_dir = "qemu-s390x";
    r.started = "2026-12-03T02:00:00Z";
    return r;
  };
  return {
      night("2026-12-01", 900, true,
            {x86(Status::kPass, Status::kFail), a64(true), cell(), s390x(true)}),
      night("2026-12-02", 950, true,
            {x86(Status::kPass, Status::kFail), a64(true), cell(), s390x(true)}),
      night("2026-12-03", 870, false,
            {x86(Status::kFail, Status::kPass), a64(false), cell(), s390x(false)}),
  };
}

}  // namespace crossrig::rig::matrix::testing
