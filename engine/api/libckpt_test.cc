// libckpt on real processes: the tick counter (tick_counter.c), a child of this test, dumped
// and restored through the C functions as a C program would call them, and the C++ API's
// errors.
#include "engine/api/libckpt.h"

#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstddef>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <set>
#include <string>
#include <thread>

#include "engine/api/ckpt.h"
#include "tests/ckpt/test_process.h"
#include "tests/support/file_text.h"
#include "tests/support/temp_dir.h"

namespace {

namespace fs = std::filesystem;
using crossrig::test_support::file_text;

// Bounds waits on the counter only so that a broken restore fails instead of hanging ctest.
constexpr auto kPatience = std::chrono::seconds(20);

// Waits for pid, our child, to exit: its status (128 + signal if killed), or -1 if it has not
// exited within kPatience or is no child of ours.
int reap(pid_t pid) {
  for (const auto end = std::chrono::steady_clock::now() + kPatience;
       std::chrono::steady_clock::now() < end;
       std::this_thread::sleep_for(std::chrono::milliseconds(5))) {
    int status = 0;
    const pid_t r = ::waitpid(pid, &status, WNOHANG);
    if (r < 0 && errno != EINTR) return -1;
    if (r == pid) return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  }
  return -1;
}

::testing::AssertionResult Contains(const std::string& text, const std::string& part) {
  if (text.find(part) != std::string::npos) return ::testing::AssertionSuccess();
  return ::testing::AssertionFailure() << "\"" << text << "\" lacks \"" << part << "\"";
}

// A gone process's PID: a child of ours that exited and was reaped.
pid_t free_pid() {
  const pid_t pid = ::fork();
  if (pid == 0) ::_exit(0);
  ::waitpid(pid, nullptr, 0);
  return pid;
}

class Libckpt : public ::testing::Test {
 protected:
  void TearDown() override {
    for (pid_t pid : started_) {
      ::kill(pid, SIGKILL);
      ::waitpid(pid, nullptr, 0);
    }
  }

  // Starts the tick counter and waits until it counts (its SIGUSR1 handler is in place).
  pid_t start_counter() {
    const pid_t pid = crossrig::ckpt_test::spawn(
        {TICK_COUNTER, count_file_.string(), stop_file_.string()}, dir_.path() / "tracee.log");
    started_.insert(pid);
    EXPECT_TRUE(count_becomes(0)) << file_text(dir_.path() / "tracee.log");
    return pid;
  }

  // Whether the counter writes `want` within kPatience.
  bool count_becomes(long want) const {
    for (const auto end = std::chrono::steady_clock::now() + kPatience;
         std::chrono::steady_clock::now() < end;
         std::this_thread::sleep_for(std::chrono::milliseconds(2))) {
      const std::string text = file_text(count_file_);
      char* rest = nullptr;
      const long got = std::strtol(text.c_str(), &rest, 10);
      if (rest != text.c_str() && *rest == '\n' && got == want) return true;
    }
    return false;
  }

  // Sends one tick to pid and whether its count then becomes `want`.
  bool tick(pid_t pid, long want) const {
    ::kill(pid, SIGUSR1);
    return count_becomes(want);
  }

  // The counter's file without a count, so that only a count written after this is read.
  void clear_count() const { std::ofstream(count_file_) << "cleared\n"; }

  // The options of an operation on pid's tree in the image directory dir.
  static ckpt_opts options(pid_t pid, const std::string& dir) {
    ckpt_opts o{};
    ckpt_opts_init(&o);
    o.pid = pid;
    o.images_dir = dir.c_str();
    return o;
  }

  crossrig::test_support::TempDir dir_{"libckpt-test"};
  const fs::path count_file_ = dir_.path() / "count";
  const fs::path stop_file_ = dir_.path() / "stop";
  const std::string image_ = (dir_.path() / "image").string();
  std::set<pid_t> started_;
};

TEST_F(Libckpt, LeaveRunningDumpThenDetachedRestoreCountsOnFromTheImage) {
  const pid_t pid = start_counter();
  for (long n = 1; n <= 3; ++n)
    ASSERT_TRUE(tick(pid, n));
  const std::string before = crossrig::ckpt_test::mappings_and_fds(pid);
  ckpt_opts o = options(pid, image_);
  o.leave_running = true;
  ASSERT_EQ(ckpt_dump(&o), CKPT_OK) << ckpt_last_error();
  EXPECT_STREQ(ckpt_last_error(), "");
  EXPECT_TRUE(fs::exists(fs::path(image_) / "inventory.json"));
  // Left as it was, and counting on from its own count.
  EXPECT_EQ(crossrig::ckpt_test::mappings_and_fds(pid), before);
  ASSERT_TRUE(tick(pid, 4));
  ::kill(pid, SIGKILL);
  ASSERT_EQ(reap(pid), 128 + SIGKILL);

  clear_count();
  ckpt_opts r = options(0, image_);
  r.detach = true;
  pid_t restored = 0;
  int status = -1;
  ASSERT_EQ(ckpt_restore(&r, &restored, &status), CKPT_OK) << ckpt_last_error();
  started_.insert(restored);
  EXPECT_EQ(restored, pid);
  EXPECT_EQ(status, 0);
  // The image's count was 3: a fresh process would say 1, one that lost nothing says 4.
  EXPECT_TRUE(tick(restored, 4));
  EXPECT_TRUE(tick(restored, 5));
  ::kill(restored, SIGKILL);
  EXPECT_EQ(reap(restored), 128 + SIGKILL) << "the restored process is no child of the caller";
}

TEST_F(Libckpt, DumpKillsAndRestoreWaitsForTheRootsExit) {
  const pid_t pid = start_counter();
  for (long n = 1; n <= 3; ++n)
    ASSERT_TRUE(tick(pid, n));
  const ckpt_opts o = options(pid, image_);
  ASSERT_EQ(ckpt_dump(&o), CKPT_OK) << ckpt_last_error();
  EXPECT_EQ(reap(pid), 128 + SIGKILL) << "the dump did not kill the process";

  // The restored counter exits at once with its count as its status.
  std::ofstream(stop_file_) << "stop\n";
  pid_t restored = 0;
  int status = -1;
  ASSERT_EQ(ckpt_restore(&o, &restored, &status), CKPT_OK) << ckpt_last_error();
  EXPECT_EQ(restored, pid);
  EXPECT_EQ(status, 3);
}

TEST_F(Libckpt, DumpAfterAPreDumpLeavesItTheUnchangedPages) {
  const pid_t pid = start_counter();
  ASSERT_TRUE(tick(pid, 1));
  const std::string pre = (dir_.path() / "pre").string();
  const ckpt_opts p = options(pid, pre);
  ASSERT_EQ(ckpt_pre_dump(&p), CKPT_OK) << ckpt_last_error();
  ASSERT_TRUE(tick(pid, 2)) << "the pre-dumped process does not run on";
  ckpt_opts o = options(pid, image_);
  o.prev_images_dir = pre.c_str();
  ASSERT_EQ(ckpt_dump(&o), CKPT_OK) << ckpt_last_error();
  ASSERT_EQ(reap(pid), 128 + SIGKILL);
  EXPECT_TRUE(Contains(file_text(fs::path(image_) / ("pagemap-" + std::to_string(pid) + ".json")),
                       "\"in_parent\": true"));

  clear_count();
  ckpt_opts r = options(0, image_);
  r.detach = true;
  pid_t restored = 0;
  ASSERT_EQ(ckpt_restore(&r, &restored, nullptr), CKPT_OK) << ckpt_last_error();
  started_.insert(restored);
  EXPECT_TRUE(tick(restored, 3));
}

TEST_F(Libckpt, DumpOfAGoneProcessIsASystemErrorNamingIt) {
  const pid_t gone = free_pid();
  const ckpt_opts o = options(gone, image_);
  EXPECT_EQ(ckpt_dump(&o), CKPT_E_SYSTEM);
  EXPECT_TRUE(Contains(ckpt_last_error(), "process " + std::to_string(gone)));
  EXPECT_FALSE(fs::exists(image_));
  EXPECT_EQ(ckpt_pre_dump(&o), CKPT_E_SYSTEM);
  EXPECT_TRUE(Contains(ckpt_last_error(), "process " + std::to_string(gone)));
}

TEST_F(Libckpt, DumpWithoutAProcessOrDirectoryIsAUsageError) {
  ckpt_opts o = options(0, image_);
  EXPECT_EQ(ckpt_dump(&o), CKPT_E_USAGE);
  EXPECT_TRUE(Contains(ckpt_last_error(), "PID"));
  o.pid = ::getpid();
  o.images_dir = nullptr;
  EXPECT_EQ(ckpt_dump(&o), CKPT_E_USAGE);
  EXPECT_TRUE(Contains(ckpt_last_error(), "image directory"));
  EXPECT_EQ(ckpt_dump(nullptr), CKPT_E_USAGE);
}

TEST_F(Libckpt, RestoreOfAMissingImageIsABadImage) {
  const std::string missing = (dir_.path() / "never-dumped").string();
  const ckpt_opts o = options(0, missing);
  pid_t restored = -1;
  EXPECT_EQ(ckpt_restore(&o, &restored, nullptr), CKPT_E_BAD_IMAGE);
  EXPECT_TRUE(Contains(ckpt_last_error(), missing));
  EXPECT_EQ(restored, -1);
  ckpt_opts none = o;
  none.images_dir = nullptr;
  EXPECT_EQ(ckpt_restore(&none, &restored, nullptr), CKPT_E_USAGE);
  EXPECT_TRUE(Contains(ckpt_last_error(), "image directory"));
}

TEST_F(Libckpt, RestoreOfACorruptImageIsABadImageAndLeavesNoProcess) {
  const pid_t pid = start_counter();
  ASSERT_TRUE(tick(pid, 1));
  const ckpt_opts o = options(pid, image_);
  ASSERT_EQ(ckpt_dump(&o), CKPT_OK) << ckpt_last_error();
  ASSERT_EQ(reap(pid), 128 + SIGKILL);
  // The pages are checked while they fill the process being built, which must not survive.
  fs::path pages;
  for (const fs::directory_entry& e : fs::directory_iterator(image_)) {
    if (e.path().filename().string().starts_with("pages-")) pages = e.path();
  }
  ASSERT_FALSE(pages.empty());
  {
    std::fstream f(pages, std::ios::in | std::ios::out | std::ios::binary);
    f.seekg(static_cast<std::streamoff>(fs::file_size(pages) / 2));
    const char c = static_cast<char>(f.get());
    f.seekp(static_cast<std::streamoff>(fs::file_size(pages) / 2));
    f.put(static_cast<char>(~c));
  }
  ckpt_opts r = options(0, image_);
  r.detach = true;
  EXPECT_EQ(ckpt_restore(&r, nullptr, nullptr), CKPT_E_BAD_IMAGE);
  EXPECT_TRUE(Contains(ckpt_last_error(), pages.filename().string()));
  EXPECT_EQ(::kill(pid, 0), -1) << "PID " << pid << " is alive after the failed restore";
  const pid_t child = ::waitpid(-1, nullptr, WNOHANG | __WALL);
  const int why = errno;
  EXPECT_EQ(child, -1) << "a child is left";
  EXPECT_EQ(why, ECHILD);
}

TEST_F(Libckpt, CheckFindsWhatTheKernelOffers) {
  ckpt_findings* f = nullptr;
  ASSERT_EQ(ckpt_check(&f), CKPT_OK) << ckpt_last_error();
  ASSERT_NE(f, nullptr);
  ASSERT_GT(f->count, 0u);
  bool ptrace = false;
  for (std::size_t i = 0; i < f->count; ++i) {
    const ckpt_finding& x = f->items[i];
    EXPECT_TRUE(x.feature && x.detail && x.consequence);
    if (std::string(x.feature) == "ptrace") ptrace = x.ok && x.required;
  }
  EXPECT_TRUE(ptrace) << "ptrace is not reported as present and required";
  ckpt_findings_free(f);
  EXPECT_EQ(ckpt_check(nullptr), CKPT_E_USAGE);
}

TEST_F(Libckpt, OptionsOfAnOlderProgramGetDefaultsForTheFieldsItLacks) {
  const pid_t pid = start_counter();
  ckpt_opts o = options(pid, image_);
  // Set in memory, but past the size an older program's struct had.
  o.leave_running = true;
  o.size = offsetof(ckpt_opts, leave_running);
  ASSERT_EQ(ckpt_dump(&o), CKPT_OK) << ckpt_last_error();
  EXPECT_EQ(reap(pid), 128 + SIGKILL) << "leave_running was read past the struct's size";
}

TEST_F(Libckpt, OptionsOfANewerProgramAreRefusedOnlyIfTheySetUnknownFields) {
  const std::string missing = (dir_.path() / "never-dumped").string();
  alignas(ckpt_opts) unsigned char newer[sizeof(ckpt_opts) + 8] = {};
  auto* o = reinterpret_cast<ckpt_opts*>(newer);
  ckpt_opts_init(o);
  o->size = sizeof newer;
  o->images_dir = missing.c_str();
  // Past the options check, to the image.
  EXPECT_EQ(ckpt_restore(o, nullptr, nullptr), CKPT_E_BAD_IMAGE) << ckpt_last_error();
  newer[sizeof(ckpt_opts) + 3] = 1;
  EXPECT_EQ(ckpt_restore(o, nullptr, nullptr), CKPT_E_USAGE);
  EXPECT_TRUE(Contains(ckpt_last_error(), "does not know"));
  o->size = 0;
  EXPECT_EQ(ckpt_restore(o, nullptr, nullptr), CKPT_E_USAGE);
  EXPECT_TRUE(Contains(ckpt_last_error(), "ckpt_opts_init"));
}

TEST_F(Libckpt, ActionScriptsRunAroundADumpAndOneThatFailsLeavesTheCounterCounting) {
  const fs::path log = dir_.path() / "log";
  const std::string logger = (dir_.path() / "logger").string();
  const std::string failing = (dir_.path() / "failing").string();
  std::ofstream(logger) << "#!/bin/sh\necho \"$CKPT_SCRIPT_ACTION $CKPT_INIT_PID\" >> " << log
                        << "\n";
  std::ofstream(failing) << "#!/bin/sh\n[ \"$CKPT_SCRIPT_ACTION\" != post-dump ]\n";
  fs::permissions(logger, fs::perms::owner_all);
  fs::permissions(failing, fs::perms::owner_all);
  const pid_t pid = start_counter();
  ASSERT_TRUE(tick(pid, 1));
  const char* const fail[] = {failing.c_str(), nullptr};
  ckpt_opts o = options(pid, image_);
  o.action_scripts = fail;
  ASSERT_EQ(ckpt_dump(&o), CKPT_E_SYSTEM);
  EXPECT_TRUE(Contains(ckpt_last_error(), "action script " + failing +
                                              " exited with status 1 at post-dump of process " +
                                              std::to_string(pid)));
  EXPECT_FALSE(fs::exists(image_));
  EXPECT_TRUE(tick(pid, 2)) << "the counter was killed or stopped after the failed dump";

  // An older program's struct ends before action_scripts: what lies there is not read.
  o.size = offsetof(ckpt_opts, action_scripts);
  o.leave_running = true;
  ASSERT_EQ(ckpt_dump(&o), CKPT_OK) << ckpt_last_error();
  fs::remove_all(image_);

  const char* const logged[] = {logger.c_str(), nullptr};
  o = options(pid, image_);
  o.action_scripts = logged;
  o.leave_running = true;
  ASSERT_EQ(ckpt_dump(&o), CKPT_OK) << ckpt_last_error();
  const std::string p = std::to_string(pid);
  EXPECT_EQ(file_text(log), "pre-dump " + p + "\npost-dump " + p + "\n");
  EXPECT_TRUE(tick(pid, 3));
}

TEST_F(Libckpt, LastErrorIsEachThreadsOwn) {
  const std::string missing = (dir_.path() / "never-dumped").string();
  const ckpt_opts o = options(0, missing);
  ASSERT_EQ(ckpt_restore(&o, nullptr, nullptr), CKPT_E_BAD_IMAGE);
  const std::string mine = ckpt_last_error();
  std::string theirs;
  std::thread([&] {
    const ckpt_opts bad = options(0, missing);
    EXPECT_EQ(ckpt_dump(&bad), CKPT_E_USAGE);
    theirs = ckpt_last_error();
  }).join();
  EXPECT_TRUE(Contains(theirs, "PID"));
  EXPECT_EQ(ckpt_last_error(), mine);
}

TEST_F(Libckpt, CppApiThrowsTheKindOfFailure) {
  namespace ckpt = crossrig::ckpt;
  ckpt::Options o;
  o.pid = free_pid();
  o.images_dir = image_;
  try {
    ckpt::dump(o);
    ADD_FAILURE() << "dump of a gone process succeeded";
  } catch (const ckpt::Error& e) {
    EXPECT_EQ(e.kind(), ckpt::Error::kSystem);
    EXPECT_TRUE(Contains(e.what(), "process " + std::to_string(o.pid)));
  }
  o.images_dir = (dir_.path() / "never-dumped").string();
  try {
    ckpt::restore(o);
    ADD_FAILURE() << "restore of a missing image succeeded";
  } catch (const ckpt::Error& e) {
    EXPECT_EQ(e.kind(), ckpt::Error::kBadImage);
  }
  const ckpt::CheckResult c = ckpt::check();
  EXPECT_TRUE(c.usable);
  EXPECT_FALSE(c.findings.empty());
}

}  // namespace
