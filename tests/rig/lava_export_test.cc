// rig lava export as a LAVA admin uses it: the real binary writes device types, device
// dictionaries and jobs for an inventory of every boot method, and LAVA's own code reads them:
// lava-common's job schema (strict, as lava-server checks a submission), its device schema
// after rendering each dictionary with LAVA's device-type templates as lava-server does,
// lava-run --validate of each job on its rendered device, and lava-run running a job on an
// emulated board (power through the board's command driver, console on a loopback port). The
// same for --qemu's jobs, and (label nightly) lava-run running the virtual lab's own kernel and
// ramdisk in QEMU through them.
//
// The rendering needs LAVA's base templates, which only the lava-server package ships: the tests
// take them from $RIG_LAVA_DEVICE_TYPES, else from the cache rig/lava/fetch-lava-server fills
// (scripts/setup runs it), and fail, naming that command, without them. lava-run runs as root
// only, so the tests that start it fail, saying so, for anyone else.

#include <gtest/gtest.h>
#include <unistd.h>
#include <yaml-cpp/yaml.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <optional>
#include <regex>

#include "tests/rig/emulated_board.h"
#include "tests/rig/inventory_fixture.h"

namespace crossrig::rig::testing {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

// Debian's interpreter, the one lava-common installs for (another python3 on PATH may lack it).
const std::string kPython = "/usr/bin/python3";
const std::string kChecker = CROSSRIG_SOURCE_DIR "/tests/rig/check_lava_export.py";
const std::string kLavaRun = "/usr/bin/lava-run";
const std::string kFetchLavaServer = CROSSRIG_SOURCE_DIR "/rig/lava/fetch-lava-server";

// The ramdisk's console in a boot: what toolchains/lab/init prints.
const std::vector<std::string> kBoot = {
    "SLOF **********************************************************************",
    "Linux version 6.1.0 (rig lava test)",
    "<LAVA_SIGNAL_STARTRUN smoke 1>",
    "<LAVA_SIGNAL_TESTCASE TEST_CASE_ID=uname RESULT=pass>",
    "<LAVA_SIGNAL_TESTCASE TEST_CASE_ID=ckpt/bench_dump_rate_64MiB RESULT=pass MEASUREMENT=812.5 "
    "UNITS=MiB/s>",
    "<LAVA_SIGNAL_TESTCASE TEST_CASE_ID=ckpt/vsx RESULT=skip>",
    "<LAVA_SIGNAL_TESTCASE TEST_CASE_ID=clone3 RESULT=fail>",
    "<LAVA_SIGNAL_ENDRUN smoke 1>",
};

// LAVA's device-type templates: $RIG_LAVA_DEVICE_TYPES, else the cache of the installed
// lava-common's version, which fetch-lava-server --offline finds without downloading.
::testing::AssertionResult find_lava_device_types(fs::path& dir) {
  if (const char* env = std::getenv("RIG_LAVA_DEVICE_TYPES")) {
    dir = env;
    if (fs::is_regular_file(dir / "base-uboot.jinja2")) return ::testing::AssertionSuccess();
    return ::testing::AssertionFailure()
           << "RIG_LAVA_DEVICE_TYPES=" << env
           << " has no base-uboot.jinja2; unset it to use rig/lava/fetch-lava-server's cache";
  }
  auto r =
      crossrig::plugsim::run_command({kFetchLavaServer, "--device-types", "--offline", "--quiet"});
  if (r.exit_code != 0) return ::testing::AssertionFailure() << r.err;
  dir = r.out.substr(0, r.out.find('\n'));
  return ::testing::AssertionSuccess();
}

constexpr const char* kRootOnly = "lava-run runs as root only: run this test as root, as CI does";

// check_lava_export.py over an export in OUT.
crossrig::plugsim::CommandResult check(const std::string& out,
                                       const std::vector<std::string>& extra = {}) {
  std::vector<std::string> argv{kPython, kChecker, out};
  argv.insert(argv.end(), extra.begin(), extra.end());
  return crossrig::plugsim::run_command(argv, std::chrono::seconds(60));
}

// lava-run of JOB on DEVICE (a rendered device dictionary), writing into OUTPUT_DIR.
crossrig::plugsim::CommandResult run_lava_run(const std::string& device, const std::string& job,
                                              bool validate, const std::string& output_dir,
                                              std::chrono::seconds limit) {
  const std::string id = "rig-lava-test-" + std::to_string(getpid());
  std::vector<std::string> argv{kLavaRun,   "--job-id", id,    "--output-dir",
                                output_dir, "--device", device};
  if (validate) argv.push_back("--validate");
  argv.push_back(job);
  auto r = crossrig::plugsim::run_command(argv, limit);
  // lava-run leaves the TFTP and download directories of a job it only validated.
  std::error_code ec;
  fs::remove_all("/srv/tftp/" + id, ec);
  fs::remove_all("/var/lib/lava/dispatcher/tmp/" + id, ec);
  return r;
}

// One result lava-run reported: its suite ("definition": lava, or a monitor's name), LAVA's
// name for the case, and what it said.
struct LavaResult {
  std::string definition, name, result;
  std::optional<std::string> measurement, units, test_case_id;
};

// What lava-run logged (one YAML mapping per line): its results, and the board's console lines.
struct LavaRunLog {
  std::vector<LavaResult> results;
  std::vector<std::string> console;
};

LavaRunLog parse_lava_run_log(const std::string& text) {
  LavaRunLog log;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) {
    const bool result = line.find("\"lvl\": \"results\"") != std::string::npos;
    if (!result && line.find("\"lvl\": \"target\"") == std::string::npos) continue;
    YAML::Node msg = YAML::Load(line)["msg"];
    if (!result) {
      log.console.push_back(msg.as<std::string>());
      continue;
    }
    // LAVA's logger quotes every scalar, so a field a monitor's group did not match (None) is
    // `! "null"`: PyYAML reads that back as None, yaml-cpp as the text.
    auto field = [](const YAML::Node& node) {
      return node && node.Scalar() != "null" ? std::optional<std::string>(node.as<std::string>())
                                             : std::nullopt;
    };
    log.results.push_back({msg["definition"].as<std::string>(), msg["case"].as<std::string>(),
                           msg["result"].as<std::string>(), field(msg["measurement"]),
                           field(msg["units"]), field(msg["extra"]["test_case_id"])});
  }
  return log;
}

// The result of lava-run's own case NAME (validate, job...), or "none".
std::string lava_case(const LavaRunLog& log, const std::string& name) {
  for (const auto& r : log.results) {
    if (r.definition == "lava" && r.name == name) return r.result;
  }
  return "none";
}

class LavaExport : public ::testing::Test {
 protected:
  void SetUp() override {
    for (const char* f : {"images/Image", "images/bzImage", "images/vmlinux", "images/image",
                          "images/initramfs.cpio.gz", "dtbs/board.dtb"}) {
      fs::create_directories(fs::path(dir_.file(f)).parent_path());
      dir_.write(f, std::string("not really ") + f);
    }
    relay_ = dir_.file("relay");
    // One board per boot method and power driver; spare has no job.
    inventory_ = dir_.write("inventory.yaml", R"(boards:
  arm:
    arch: aarch64
    boot: uboot
    power: {driver: hs100, address: 127.0.0.1:9999, outlet: 2, transport: xor}
    console: 127.0.0.1:7002
    tftp_dir: )" + dir_.file("tftp/arm") + R"(
    job:
      kernel: images/Image
      ramdisk: images/initramfs.cpio.gz
      dtb: dtbs/board.dtb
      cmdline: console=ttyAMA0 rdinit=/init
      timeout: 120
  pc:
    arch: x86_64
    boot: ipxe
    power:
      driver: command
      on: "echo 'on  #1' >> {tftp_dir}/relay"
      off: "echo 'off #1' >> {tftp_dir}/relay"
      state: "grep -q on {tftp_dir}/relay"
    console: 127.0.0.1:7001
    tftp_dir: )" + dir_.file("tftp/pc") + R"(
    job:
      kernel: images/bzImage
      ramdisk: images/initramfs.cpio.gz
      cmdline: console=ttyS0 rdinit=/init
  cell:
    arch: ppc64
    boot: slof
    power:
      driver: command
      on: echo on >> )" + relay_ + R"(.ons
      off: echo off >> )" + relay_ + R"(.offs
      state: test -s )" + relay_ + R"(.ons
    console: )" + console_.console() + R"(
    tftp_dir: )" + dir_.file("tftp/cell") + R"(
    off_time: 0.2
    job:
      kernel: images/vmlinux
      ramdisk: images/initramfs.cpio.gz
      cmdline: console=hvc0
      timeout: 60
  zed:
    arch: s390x
    boot: s390-netboot
    power: {driver: hs100, address: 127.0.0.1:9998}
    console: 127.0.0.1:7003
    tftp_dir: )" + dir_.file("tftp/zed") + R"(
    job:
      kernel: images/image
      ramdisk: images/initramfs.cpio.gz
  spare:
    arch: aarch64
    boot: uboot
    power: {driver: hs100, address: 127.0.0.1:9997}
    console: 127.0.0.1:7004
)");
  }

  crossrig::plugsim::CommandResult export_to(const std::string& out,
                                             std::vector<std::string> extra = {}) {
    std::vector<std::string> args{"lava", "export", "--out", out, "--inventory", inventory_};
    args.insert(args.end(), extra.begin(), extra.end());
    return rig(args);
  }

  // Exports into OUT and renders every device with LAVA's templates into OUT/rendered.
  void export_and_render(const std::string& out, const fs::path& templates,
                         std::vector<std::string> extra = {}) {
    auto r = export_to(out, extra);
    ASSERT_EQ(r.exit_code, 0) << r.err;
    auto c = check(out, {"--device-types", templates.string(), "--render-to", out + "/rendered"});
    ASSERT_EQ(c.exit_code, 0) << c.out << c.err;
  }

  crossrig::plugsim::CommandResult lava_run(const std::string& device, const std::string& job,
                                            bool validate) {
    return run_lava_run(device, job, validate, dir_.file("lava-run"), std::chrono::seconds(120));
  }

  ScratchDir dir_{"rig-lava-export"};
  std::string relay_;
  EmulatedBoard console_{(dir_.path() / "relay").string(), {kBoot}};
  std::string inventory_;
};

std::string text_of(const fs::path& path) {
  std::ifstream in(path);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

void replace_in(const fs::path& path, const std::string& from, const std::string& to) {
  std::string text = text_of(path);
  auto at = text.find(from);
  ASSERT_NE(at, std::string::npos) << from << " not in " << path;
  text.replace(at, from.size(), to);
  std::ofstream(path) << text;
}

TEST_F(LavaExport, WritesTypesDevicesAndJobsAndListsThemAsJson) {
  const std::string out = dir_.file("lava");
  auto r = export_to(out, {"--json"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  json j = json::parse(r.out);
  EXPECT_EQ(j["out"], out);
  std::vector<std::string> types, devices, jobs;
  for (const auto& t : j["device_types"])
    types.push_back(t["name"]);
  for (const auto& d : j["devices"])
    devices.push_back(d["board"]);
  for (const auto& job : j["jobs"]) {
    jobs.push_back(job["board"]);
    EXPECT_EQ(job["job"], "default");
    EXPECT_TRUE(fs::is_regular_file(job["path"].get<std::string>())) << job;
  }
  EXPECT_EQ(types, (std::vector<std::string>{"crossrig-uboot", "crossrig-slof",
                                             "crossrig-s390-netboot", "crossrig-ipxe"}));
  EXPECT_EQ(devices, (std::vector<std::string>{"arm", "pc", "cell", "zed", "spare"}));
  EXPECT_EQ(jobs, (std::vector<std::string>{"arm", "pc", "cell", "zed"}));
  EXPECT_TRUE(fs::is_regular_file(out + "/devices/spare.jinja2"));
  EXPECT_FALSE(fs::exists(out + "/jobs/spare-default.yaml"));
  // Files are renamed into place: no temporary file is left beside them.
  for (const auto& entry : fs::recursive_directory_iterator(out)) {
    if (entry.is_regular_file()) {
      EXPECT_TRUE(std::regex_match(entry.path().filename().string(),
                                   std::regex(R"([a-z0-9-]+\.(jinja2|yaml))")))
          << entry.path();
    }
  }
  std::string arm = text_of(out + "/jobs/arm-default.yaml");
  EXPECT_NE(arm.find("file://" + dir_.file("images/Image")), std::string::npos) << arm;
  std::string plain = export_to(out).out;
  EXPECT_NE(plain.find(out + "/devices/cell.jinja2\n"), std::string::npos) << plain;
}

TEST_F(LavaExport, EveryJobPassesLavasStrictSchema) {
  const std::string out = dir_.file("lava");
  ASSERT_EQ(export_to(out).exit_code, 0);
  auto c = check(out);
  EXPECT_EQ(c.exit_code, 0) << c.out << c.err;
  EXPECT_EQ(c.out, "");
}

// The validator has teeth: each of these broken jobs is refused, naming the file.
TEST_F(LavaExport, BrokenJobsFailLavasSchema) {
  const std::string out = dir_.file("lava");
  const fs::path arm = out + "/jobs/arm-default.yaml", cell = out + "/jobs/cell-default.yaml";
  const std::vector<std::tuple<fs::path, std::string, std::string>> mutations = {
      {arm, "to: tftp", "to: tftp-please"},
      {arm, "method: u-boot", "method: uboot"},
      {arm, "priority: medium", "priority: urgent"},
      {cell, "name: rig", "name: rig job"},
      {cell, "end: <LAVA_SIGNAL_ENDRUN", "ending: <LAVA_SIGNAL_ENDRUN"},
      {cell, "job: {seconds: 120}", "job: {seconds: 59}"},  // shorter than its actions
  };
  for (const auto& [file, from, to] : mutations) {
    ASSERT_EQ(export_to(out).exit_code, 0);
    ASSERT_EQ(check(out).exit_code, 0);
    replace_in(file, from, to);
    auto c = check(out);
    EXPECT_EQ(c.exit_code, 1) << from << " -> " << to << ": " << c.out << c.err;
    EXPECT_NE(c.out.find(file.string() + ": "), std::string::npos) << c.out;
  }
}

TEST_F(LavaExport, DevicesRenderWithLavasTemplatesIntoValidDevices) {
  fs::path templates;
  ASSERT_TRUE(find_lava_device_types(templates));
  const std::string out = dir_.file("lava");
  export_and_render(out, templates);
  std::string cell = text_of(out + "/rendered/cell.yaml");
  EXPECT_NE(cell.find("connect: telnet 127.0.0.1 "), std::string::npos) << cell;
  EXPECT_NE(cell.find("sleep 0.2"), std::string::npos) << cell;
  std::string arm = text_of(out + "/rendered/arm.yaml");
  EXPECT_NE(arm.find("power_on: plugctl -H 127.0.0.1:9999 --transport xor --child 2 on"),
            std::string::npos)
      << arm;
  // The job's command line, and nothing LAVA would add to it, reaches U-Boot.
  EXPECT_NE(arm.find("setenv bootargs ' root=/dev/ram0 console=ttyAMA0 rdinit=/init '"),
            std::string::npos)
      << arm;
  std::string pc = text_of(out + "/rendered/pc.yaml");
  EXPECT_NE(pc.find("kernel tftp://{SERVER_IP}/{KERNEL} console=ttyS0 rdinit=/init"),
            std::string::npos)
      << pc;

  replace_in(out + "/devices/cell.jinja2", "hard_reset_command = '[", "hard_reset_command = '{");
  auto c = check(out, {"--device-types", templates.string()});
  EXPECT_EQ(c.exit_code, 1) << c.out;
  EXPECT_NE(c.out.find(out + "/devices/cell.jinja2: "), std::string::npos) << c.out;
}

TEST_F(LavaExport, LavaRunValidatesEveryJobOnItsDevice) {
  fs::path templates;
  ASSERT_TRUE(find_lava_device_types(templates));
  ASSERT_EQ(geteuid(), 0u) << kRootOnly;
  const std::string out = dir_.file("lava");
  export_and_render(out, templates);
  for (const char* board : {"arm", "pc", "cell", "zed"}) {
    auto r = lava_run(out + "/rendered/" + board + ".yaml",
                      out + "/jobs/" + board + "-default.yaml", true);
    EXPECT_EQ(r.exit_code, 0) << board << ":\n" << r.out << r.err;
  }
  // A U-Boot job on a board LAVA only power-cycles does not validate.
  auto wrong = lava_run(out + "/rendered/cell.yaml", out + "/jobs/arm-default.yaml", true);
  EXPECT_NE(wrong.exit_code, 0) << wrong.out;
}

TEST_F(LavaExport, LavaRunRunsTheJobOnAnEmulatedBoard) {
  fs::path templates;
  ASSERT_TRUE(find_lava_device_types(templates));
  ASSERT_EQ(geteuid(), 0u) << kRootOnly;
  const std::string out = dir_.file("lava");
  export_and_render(out, templates);
  auto r = lava_run(out + "/rendered/cell.yaml", out + "/jobs/cell-default.yaml", false);
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  LavaRunLog log = parse_lava_run_log(r.out + r.err);
  EXPECT_EQ(lava_case(log, "job"), "pass");
  std::map<std::string, json> cases;
  for (const auto& c : log.results) {
    if (c.definition != "rig") continue;
    cases[c.name] = {{"result", c.result},
                     {"units", c.units.value_or("?")},
                     {"measurement", c.measurement.value_or("none")}};
  }
  EXPECT_EQ(cases.size(), 4u) << r.out;
  EXPECT_EQ(cases["uname"]["result"], "pass");
  EXPECT_EQ(cases["uname"]["units"], "");
  EXPECT_EQ(cases["ckpt_bench_dump_rate_64mib"],
            json({{"result", "pass"}, {"units", "MiB/s"}, {"measurement", "812.5"}}));
  EXPECT_EQ(cases["ckpt_vsx"]["result"], "skip");
  EXPECT_EQ(cases["clone3"]["result"], "fail");
  // Power-cycled through the board's own command driver, and switched off at the end.
  EXPECT_EQ(text_of(relay_ + ".ons"), "on\n");
  EXPECT_EQ(text_of(relay_ + ".offs"), "off\noff\n");
}

// --qemu: every board's job runs on LAVA's own qemu type, whatever the board's firmware.
TEST_F(LavaExport, QemuJobsValidateOnLavasQemuType) {
  fs::path templates;
  ASSERT_TRUE(find_lava_device_types(templates));
  ASSERT_EQ(geteuid(), 0u) << kRootOnly;
  const std::string out = dir_.file("lava");
  export_and_render(out, templates, {"--qemu"});
  EXPECT_FALSE(fs::exists(out + "/device-types"));
  for (const char* board : {"arm", "pc", "cell", "zed"}) {
    std::string job = text_of(out + "/jobs/" + board + "-default.yaml");
    EXPECT_NE(job.find("device_type: qemu\n"), std::string::npos) << job;
    auto r = lava_run(out + "/rendered/" + board + ".yaml",
                      out + "/jobs/" + board + "-default.yaml", true);
    EXPECT_EQ(r.exit_code, 0) << board << ":\n" << r.out << r.err;
  }
  // The pc's QEMU is the lab's x86_64 board: LAVA's template gives amd64 neither machine nor CPU.
  std::string pc = text_of(out + "/rendered/pc.yaml");
  EXPECT_NE(pc.find("extra: ['-no-reboot', '-machine q35', '-cpu max']"), std::string::npos) << pc;
  EXPECT_EQ(pc.find("-enable-kvm"), std::string::npos) << pc;
}

TEST_F(LavaExport, FilesUrlServesTheInventorysDirectory) {
  const std::string out = dir_.file("lava");
  auto r = export_to(out, {"--files-url", "http://files.lab:8080/rig/"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  std::string arm = text_of(out + "/jobs/arm-default.yaml");
  EXPECT_NE(arm.find("url: http://files.lab:8080/rig/dtbs/board.dtb"), std::string::npos) << arm;
  EXPECT_EQ(check(out).exit_code, 0);

  replace_in(inventory_, "kernel: images/bzImage", "kernel: /boot/vmlinuz-elsewhere");
  auto outside = export_to(dir_.file("lava2"), {"--files-url", "http://files.lab:8080/rig"});
  EXPECT_EQ(outside.exit_code, 2);
  EXPECT_NE(outside.err.find("board 'pc': job.kernel: /boot/vmlinuz-elsewhere is outside"),
            std::string::npos)
      << outside.err;
  EXPECT_FALSE(fs::exists(dir_.file("lava2")));
}

TEST_F(LavaExport, UsageInventoryAndWriteErrors) {
  auto help = rig({"lava", "export", "--help"});
  EXPECT_EQ(help.exit_code, 0);
  EXPECT_NE(help.out.find("Exit codes"), std::string::npos);
  EXPECT_EQ(rig({"lava", "--help"}).exit_code, 0);
  EXPECT_EQ(rig({"lava"}).exit_code, 2);
  EXPECT_EQ(rig({"lava", "import"}).exit_code, 2);
  auto no_out = rig({"lava", "export", "--inventory", inventory_});
  EXPECT_EQ(no_out.exit_code, 2);
  EXPECT_NE(no_out.err.find("--out"), std::string::npos) << no_out.err;

  auto unknown = export_to(dir_.file("lava"), {"--boards", "arm,nope"});
  EXPECT_EQ(unknown.exit_code, 2);
  EXPECT_NE(unknown.err.find("no board 'nope'"), std::string::npos) << unknown.err;

  replace_in(inventory_, "    console: 127.0.0.1:7004\n", "");
  auto no_console = export_to(dir_.file("lava"));
  EXPECT_EQ(no_console.exit_code, 2);
  EXPECT_NE(no_console.err.find("board 'spare': console: "), std::string::npos) << no_console.err;
  auto chosen = export_to(dir_.file("lava"), {"--boards", "cell"});
  EXPECT_EQ(chosen.exit_code, 0) << chosen.err;

  dir_.write("a-file", "");
  auto unwritable = export_to(dir_.file("a-file/lava"), {"--boards", "cell"});
  EXPECT_EQ(unwritable.exit_code, 1);
  EXPECT_NE(unwritable.err.find("cannot write"), std::string::npos) << unwritable.err;
}

// Label nightly: a virtual-lab arch's own kernel and ramdisk (toolchains/lab-images' manifest)
// exported with --qemu and run by lava-run in QEMU (TCG: minutes). LAVA must report every test
// case the ramdisk printed on the console, as it printed it; and all of them pass, since the
// lab's CPU model has every feature the ckpt suite uses.
void run_lab_ramdisk_in_qemu(const std::string& arch) {
  const char* cache = std::getenv("XDG_CACHE_HOME");
  const char* home = std::getenv("HOME");
  const fs::path manifest_path = (cache ? fs::path(cache) : fs::path(home ? home : "") / ".cache") /
                                 "crossrig/lab" / arch / "manifest.json";
  ASSERT_TRUE(fs::is_regular_file(manifest_path))
      << "no " << manifest_path << "; run toolchains/lab-images " << arch;
  const json manifest = json::parse(text_of(manifest_path));
  fs::path templates;
  ASSERT_TRUE(find_lava_device_types(templates));
  ASSERT_EQ(geteuid(), 0u) << kRootOnly;

  // A board of the arch with the lab's images as its default job, as `rig lab up` lists it; the
  // rest of the board (console, power) --qemu does not use.
  ScratchDir dir("rig-lava-qemu");
  const std::string board = "qemu-" + arch;
  const std::string inventory = dir.write("inventory.yaml", "boards:\n  " + board + R"(:
    arch: )" + arch + R"(
    boot: )" + (arch == "x86_64" ? "ipxe" : "uboot") + R"(
    power: {driver: hs100, address: 127.0.0.1:9999, transport: xor}
    console: 127.0.0.1:7001
    job:
      kernel: )" + manifest["kernel"].get<std::string>() + R"(
      ramdisk: )" + manifest["ramdisk"].get<std::string>() + "\n");
  const std::string out = dir.file("lava");
  auto e = rig({"lava", "export", "--qemu", "--out", out, "--inventory", inventory});
  ASSERT_EQ(e.exit_code, 0) << e.err;
  auto c = check(out, {"--device-types", templates.string(), "--render-to", out + "/rendered"});
  ASSERT_EQ(c.exit_code, 0) << c.out << c.err;

  auto r =
      run_lava_run(out + "/rendered/" + board + ".yaml", out + "/jobs/" + board + "-default.yaml",
                   false, dir.file("lava-run"), std::chrono::minutes(30));
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  LavaRunLog log = parse_lava_run_log(r.out + r.err);
  EXPECT_EQ(lava_case(log, "job"), "pass");

  // Each test case LAVA read on the console, by its id as printed: result, measurement, units.
  using Case = std::tuple<std::string, std::optional<std::string>, std::string>;
  std::map<std::string, Case> console, reported;
  const std::regex line(R"(<LAVA_SIGNAL_TESTCASE TEST_CASE_ID=([^\s>]+) RESULT=([^\s>]+))"
                        R"((?: MEASUREMENT=([^\s>]+))?(?: UNITS=([^\s>]+))?>)");
  for (const auto& text : log.console) {
    std::smatch m;
    if (!std::regex_search(text, m, line)) continue;
    console[m[1]] = {m[2], m[3].matched ? std::optional<std::string>(m[3]) : std::nullopt, m[4]};
  }
  // The monitors passed, which they do once they have seen the start line and then the end
  // line; LAVA's log itself does not hold those two lines in every run.
  EXPECT_EQ(lava_case(log, "lava-test-monitor"), "pass");
  for (const auto& res : log.results) {
    if (res.definition != "rig") continue;
    ASSERT_TRUE(res.test_case_id) << res.name;
    reported[*res.test_case_id] = {res.result, res.measurement, res.units.value_or("?")};
  }
  EXPECT_FALSE(console.empty()) << "no test case on the console";
  for (const auto& [id, said] : console) {
    auto it = reported.find(id);
    if (it == reported.end()) {
      ADD_FAILURE() << id << ": on the console, not reported by LAVA";
      continue;
    }
    EXPECT_EQ(it->second, said) << id;
    EXPECT_EQ(std::get<0>(said), "pass") << id;
  }
  for (const auto& entry : reported) {
    EXPECT_TRUE(console.count(entry.first))
        << entry.first << ": reported by LAVA, not on the console";
  }
}

TEST(LavaQemuNightly, X86_64) {
  run_lab_ramdisk_in_qemu("x86_64");
}

TEST(LavaQemuNightly, Aarch64) {
  run_lab_ramdisk_in_qemu("aarch64");
}

}  // namespace
}  // namespace crossrig::rig::testing
