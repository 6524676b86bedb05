// Runs one tracee through checkpoint/restore as CRIU's zdtm does:
//   start → dump → (killed by the dump) → restore with the same PID → SIGTERM → expect PASS
// or with --leave-running: start → dump --leave-running → SIGTERM → expect PASS, then restore
// the image → SIGTERM → expect PASS again.
// With --fault KIND it checks a failure instead: a dump or pre-dump failing at phase P
// (dump-phase:P, pre-dump-phase:P)
// must leave the tracee running and no image; a corrupted or truncated image
// (corrupt-pages, truncate-pages, corrupt-meta), a PID held by another process (pid-taken) or
// a cgroup that --manage-cgroups=strict finds already there (cgroup-exists) must make restore
// fail with its documented exit code and leave nothing behind; a lazy restore of the heap
// tracee's image with damaged heap pages (lazy-corrupt-pages) must run, then be killed by
// its lazy-pages server, which names the damage. With
// --expect-refusal TEXT the dump must refuse the tracee (exit 3) with a message holding TEXT,
// leaving it running and no image. --dump-arg and --restore-arg pass an option on to every
// dump and restore. With --pre-dumps N the dump follows N pre-dumps of the running tracee
// (each after the one before, --prev-images-dir) and must leave to them some pages.
// With --check-only the one dump is `ckpt dump --check-only`: it must exit 0 (or refuse as
// the dump does, with --expect-refusal), leave no image, and leave the tracee as it was.
// It is a child subreaper, so the restored task (whose parent, ckpt restore -d, exits) is
// reparented to it and reaped here. Every process it started is killed on failure.
#include <linux/sched.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <string>
#include <thread>
#include <vector>

#include "tests/ckpt/test_process.h"
#include "tests/support/file_text.h"

namespace fs = std::filesystem;
using crossrig::ckpt_test::expect_pass;
using crossrig::ckpt_test::fail;
using crossrig::ckpt_test::live;
using crossrig::ckpt_test::mappings_and_fds;
using crossrig::ckpt_test::run;
using crossrig::ckpt_test::spawn;
using crossrig::ckpt_test::wait_exit;
using crossrig::test_support::file_text;

namespace {

fs::path g_image_root;  // an image directory of ours outside the workdir, removed at exit

void remove_image_root() {
  std::error_code ec;
  if (!g_image_root.empty()) fs::remove_all(g_image_root, ec);
}

// Waits for the tracee's pidfile; the bound only stops a broken tracee from hanging ctest.
// The process launched may leave once the pidfile is written, by the init of a PID namespace
// it made (the pid_ns tracee), which the driver adopts as their subreaper.
pid_t wait_pidfile(const fs::path& pidfile, pid_t child) {
  auto written = [&] { return fs::exists(pidfile) && !file_text(pidfile).empty(); };
  for (int i = 0; i < 3000; ++i) {
    if (written()) return std::stoi(file_text(pidfile));
    if (waitpid(child, nullptr, WNOHANG) == child) {
      live().erase(child);
      if (written()) return std::stoi(file_text(pidfile));
      fail("tracee exited before writing its pidfile");
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  fail("tracee wrote no pidfile");
}

void restore_and_check(const std::string& ckpt, const fs::path& img, pid_t pid,
                       const fs::path& work, const fs::path& outfile, const fs::path& log,
                       const std::vector<std::string>& restore_args) {
  fs::path rpid = work / "restored.pid";
  live().insert(pid);
  std::vector<std::string> restore = {ckpt, "restore",   "-D",         img.string(),
                                      "-d", "--pidfile", rpid.string()};
  restore.insert(restore.end(), restore_args.begin(), restore_args.end());
  int rc = run(restore, log);
  if (rc != 0) {
    live().erase(pid);
    fail("ckpt restore exited with " + std::to_string(rc) + "; log:\n" + file_text(log));
  }
  if (std::stoi(file_text(rpid)) != pid)
    fail("restored with PID " + file_text(rpid) + ", not " + std::to_string(pid));
  expect_pass(pid, outfile, "after restore");
}

// A sleeping child holding exactly PID pid.
pid_t occupy_pid(pid_t pid) {
  clone_args args{};
  args.exit_signal = SIGCHLD;
  args.set_tid = reinterpret_cast<std::uint64_t>(&pid);
  args.set_tid_size = 1;
  long r = syscall(SYS_clone3, &args, sizeof args);
  if (r == 0) {
    pause();
    _exit(0);
  }
  if (r < 0)
    fail("cannot take PID " + std::to_string(pid) + " for the test: " + std::strerror(errno));
  live().insert(static_cast<pid_t>(r));
  return static_cast<pid_t>(r);
}

// Truncates file to half its size, or flips a byte in its middle.
void damage(const fs::path& file, bool truncate) {
  if (truncate) {
    fs::resize_file(file, fs::file_size(file) / 2);
    return;
  }
  const auto at = static_cast<std::streamoff>(fs::file_size(file) / 2);
  std::fstream f(file, std::ios::in | std::ios::out | std::ios::binary);
  f.seekg(at);
  char c = 0;
  f.get(c);
  f.seekp(at);
  f.put(static_cast<char>(c ^ 0x5a));
}

// Restore must fail with want_rc and leave no process with the image's PID (unless the
// test itself holds that PID).
void expect_restore_fails(const std::string& ckpt, const fs::path& img, pid_t pid, int want_rc,
                          const fs::path& log, bool pid_held = false,
                          const std::vector<std::string>& restore_args = {}) {
  std::vector<std::string> restore = {ckpt, "restore", "-D", img.string(), "-d"};
  restore.insert(restore.end(), restore_args.begin(), restore_args.end());
  int rc = run(restore, log);
  if (rc != want_rc)
    fail("restore of a bad image exited with " + std::to_string(rc) + ", expected " +
         std::to_string(want_rc) + "; log:\n" + file_text(log));
  if (!pid_held && kill(pid, 0) == 0 && waitpid(pid, nullptr, WNOHANG) == 0)
    fail("a failed restore left process " + std::to_string(pid) + " behind");
}

}  // namespace

int main(int argc, char** argv) {
  std::string ckpt, tracee, workdir, image_in;
  bool leave_running = false, check_only = false;
  std::string fault, refusal;
  std::vector<std::string> dump_args, restore_args;
  int pre_dumps = 0;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    if (a == "--leave-running")
      leave_running = true;
    else if (a == "--check-only")
      check_only = true;
    else if (i + 1 < argc && a == "--ckpt")
      ckpt = argv[++i];
    else if (i + 1 < argc && a == "--tracee")
      tracee = argv[++i];
    else if (i + 1 < argc && a == "--workdir")
      workdir = argv[++i];
    else if (i + 1 < argc && a == "--image-in")
      image_in = argv[++i];
    else if (i + 1 < argc && a == "--fault")
      fault = argv[++i];
    else if (i + 1 < argc && a == "--expect-refusal")
      refusal = argv[++i];
    else if (i + 1 < argc && a == "--dump-arg")
      dump_args.push_back(argv[++i]);
    else if (i + 1 < argc && a == "--restore-arg")
      restore_args.push_back(argv[++i]);
    else if (i + 1 < argc && a == "--pre-dumps")
      pre_dumps = std::stoi(argv[++i]);
    else
      ckpt.clear();  // an unknown option must not turn a fault test into a plain one
  }
  if (ckpt.empty() || tracee.empty() || workdir.empty()) {
    std::cerr
        << "usage: ckpt_driver --ckpt PATH --tracee PATH --workdir DIR [--leave-running]"
           " [--image-in TMPFS_DIR] [--fault KIND] [--expect-refusal TEXT] [--dump-arg ARG]..."
           " [--restore-arg ARG]... [--pre-dumps N] [--check-only]\n";
    return 2;
  }
  if (prctl(PR_SET_CHILD_SUBREAPER, 1) != 0) fail("cannot become a child subreaper");
  crossrig::ckpt_test::at_fail(remove_image_root);
  fs::path work = workdir;
  fs::remove_all(work);
  fs::create_directories(work);
  fs::path pidfile = work / "tracee.pid", outfile = work / "tracee.out", img = work / "img",
           log = work / "log.txt";
  if (!image_in.empty()) {
    // Big images go to a tmpfs: the same dump and restore without the disk's write cost.
    g_image_root = fs::path(image_in) / ("ckpt-driver-" + std::to_string(getpid()));
    fs::remove_all(g_image_root);
    fs::create_directories(g_image_root);
    img = g_image_root / "img";
  }

  pid_t child =
      spawn({tracee, "--pidfile", pidfile.string(), "--outfile", outfile.string()}, log, work);
  live().insert(child);
  pid_t pid = wait_pidfile(pidfile, child);
  live().insert(pid);

  if (fault.starts_with("dump-phase:") || fault.starts_with("pre-dump-phase:")) {
    std::string before = mappings_and_fds(pid);
    const std::string command = fault.substr(0, fault.find("-phase:"));
    pid_t dumper = spawn({"/usr/bin/env", "CKPT_FAULT_PHASE=" + fault.substr(fault.find(':') + 1),
                          ckpt, command, "-t", std::to_string(pid), "-D", img.string()},
                         log);
    int rc = wait_exit(dumper);
    if (rc == 0) fail("dump with a fault at " + fault + " succeeded");
    if (fs::exists(img)) fail("a failed dump left the image directory " + img.string());
    for (const auto& e : fs::directory_iterator(img.parent_path()))
      if (e.path().filename().string().starts_with("img.tmp"))
        fail("a failed dump left " + e.path().string());
    if (std::string after = mappings_and_fds(pid); after != before)
      fail("a failed dump changed the task's mappings or fds; before:\n" + before + "after:\n" +
           after);
    expect_pass(pid, outfile, "after a dump failing at " + fault);
    fs::remove_all(work);
    remove_image_root();
    std::cout << "PASS\n";
    return 0;
  }
  if (check_only) {
    const std::string before = mappings_and_fds(pid);
    std::vector<std::string> cmd = {ckpt, "dump",       "-t",          std::to_string(pid),
                                    "-D", img.string(), "--check-only"};
    cmd.insert(cmd.end(), dump_args.begin(), dump_args.end());
    const int rc = run(cmd, log);
    if (rc != (refusal.empty() ? 0 : 3))
      fail("dump --check-only exited with " + std::to_string(rc) + "; log:\n" + file_text(log));
    if (file_text(log).find(refusal) == std::string::npos)
      fail("the check's refusal does not say \"" + refusal + "\"; log:\n" + file_text(log));
    if (fs::exists(img)) fail("dump --check-only left the image directory " + img.string());
    for (const auto& e : fs::directory_iterator(img.parent_path()))
      if (e.path().filename().string().starts_with("img.tmp"))
        fail("dump --check-only left " + e.path().string());
    if (const std::string after = mappings_and_fds(pid); after != before)
      fail("dump --check-only changed the task's mappings or fds; before:\n" + before + "after:\n" +
           after);
    expect_pass(pid, outfile, "after dump --check-only");
    fs::remove_all(work);
    remove_image_root();
    std::cout << "PASS\n";
    return 0;
  }
  if (!refusal.empty()) {
    int rc = run({ckpt, "dump", "-t", std::to_string(pid), "-D", img.string()}, log);
    if (rc != 3)
      fail("dump of a task it must refuse exited with " + std::to_string(rc) +
           " instead of 3; log:\n" + file_text(log));
    if (file_text(log).find(refusal) == std::string::npos)
      fail("the refusal does not say \"" + refusal + "\"; log:\n" + file_text(log));
    if (fs::exists(img)) fail("a refused dump left the image directory " + img.string());
    expect_pass(pid, outfile, "after a refused dump");
    fs::remove_all(work);
    remove_image_root();
    std::cout << "PASS\n";
    return 0;
  }
  std::vector<std::string> dump = {ckpt, "dump", "-t", std::to_string(pid), "-D", img.string()};
  if (leave_running) dump.push_back("--leave-running");
  dump.insert(dump.end(), dump_args.begin(), dump_args.end());
  // A dump that leaves the tracee running ends the pre-dumps' tracking: it is as before them.
  const std::string before_pre_dumps = pre_dumps > 0 ? mappings_and_fds(pid) : "";
  std::string prev;
  for (int n = 1; n <= pre_dumps; ++n) {
    const std::string pre = (img.parent_path() / ("pre-dump-" + std::to_string(n))).string();
    std::vector<std::string> cmd = {ckpt, "pre-dump", "-t", std::to_string(pid), "-D", pre};
    if (!prev.empty()) cmd.insert(cmd.end(), {"--prev-images-dir", prev});
    if (int rc = run(cmd, log); rc != 0)
      fail("ckpt pre-dump " + std::to_string(n) + " exited with " + std::to_string(rc) +
           "; log:\n" + file_text(log));
    prev = pre;
    // The tracee runs and writes between the images.
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  if (!prev.empty()) dump.insert(dump.end(), {"--prev-images-dir", prev});
  int rc = run(dump, log);
  if (rc != 0) fail("ckpt dump exited with " + std::to_string(rc) + "; log:\n" + file_text(log));
  if (pre_dumps > 0 &&
      file_text(img / ("pagemap-" + std::to_string(pid) + ".json")).find("\"in_parent\": true") ==
          std::string::npos)
    fail("the dump after " + std::to_string(pre_dumps) +
         " pre-dumps copied every page again, leaving none to them");
  if (pre_dumps > 0 && leave_running)
    if (std::string after = mappings_and_fds(pid); after != before_pre_dumps)
      fail(
          "pre-dumps and the dump --leave-running after them changed the tracee's mappings or "
          "fds; before:\n" +
          before_pre_dumps + "after:\n" + after);
  if (leave_running) {
    expect_pass(pid, outfile, "after dump --leave-running");
  } else {
    int code = wait_exit(pid);
    if (code != 128 + SIGKILL)
      fail("dumped tracee exited with " + std::to_string(code) + ", not killed");
    // Its killed children and zombies are ours now (we are the subreaper): reap them so
    // their PIDs are free for the restore.
    while (waitpid(-1, nullptr, __WALL) > 0) {
    }
  }
  std::string id = std::to_string(pid);
  if (fault == "corrupt-pages" || fault == "truncate-pages" || fault == "corrupt-meta") {
    damage(fault == "corrupt-meta" ? img / ("mm-" + id + ".json") : img / ("pages-" + id + ".img"),
           fault == "truncate-pages");
    expect_restore_fails(ckpt, img, pid, 4, log);
    fs::remove_all(work);
    remove_image_root();
    std::cout << "PASS\n";
    return 0;
  }
  if (fault == "lazy-corrupt-pages") {
    // The middle of the heap tracee's pages file lies in its big heap, which a lazy restore
    // leaves for later: the process runs before the damaged chunk is read, and must be killed
    // once it is.
    damage(img / ("pages-" + id + ".img"), false);
    if (int restored = run({ckpt, "restore", "-D", img.string(), "-d", "--lazy-pages"}, log);
        restored != 0)
      fail("restore --lazy-pages -d of an image whose heap pages are damaged exited with " +
           std::to_string(restored) + " before the damage could be seen; log:\n" + file_text(log));
    if (int code = wait_exit(pid); code != 128 + SIGKILL)
      fail("the lazily restored process with damaged pages ended with " + std::to_string(code) +
           " instead of being killed; log:\n" + file_text(log));
    if (file_text(log).find("fails the XXH3 check") == std::string::npos)
      fail("the lazy-pages server did not say which pages were damaged; log:\n" + file_text(log));
    fs::remove_all(work);
    remove_image_root();
    std::cout << "PASS\n";
    return 0;
  }
  if (fault == "pid-taken") {
    pid_t holder = occupy_pid(pid);
    expect_restore_fails(ckpt, img, pid, 5, log, true);
    if (file_text(log).find("is taken by another process") == std::string::npos)
      fail("restore did not say the PID is taken; log:\n" + file_text(log));
    kill(holder, SIGKILL);
    wait_exit(holder);
  } else if (fault == "cgroup-exists") {
    // The killed tracee's cgroups are still there; the restore after this one joins them.
    expect_restore_fails(ckpt, img, pid, 5, log, false, {"--manage-cgroups=strict"});
    if (file_text(log).find("exists already") == std::string::npos)
      fail("restore --manage-cgroups=strict did not name the cgroup that exists; log:\n" +
           file_text(log));
  } else if (!fault.empty()) {
    fail("unknown --fault " + fault);
  }
  restore_and_check(ckpt, img, pid, work, outfile, log, restore_args);
  fs::remove_all(work);
  remove_image_root();
  std::cout << "PASS\n";
  return 0;
}
