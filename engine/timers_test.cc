#include "engine/timers.h"

#include <gtest/gtest.h>
#include <signal.h>

#include <stdexcept>

namespace crossrig::engine {
namespace {

// As Linux 6.18 prints them: newest first, a deleted id (1) missing.
constexpr const char* kTimers =
    "ID: 3\nsignal: 36/0000000000000000\nnotify: none/pid.27898\nClockID: 1\n"
    "ID: 2\nsignal: 36/00000000deadbeef\nnotify: signal/tid.27900\nClockID: 7\n"
    "ID: 0\nsignal: 10/0000000000001234\nnotify: signal/pid.27898\nClockID: 1\n";

TEST(ParseProcTimers, EachTimerByAscendingId) {
  auto t = parse_proc_timers(kTimers);
  ASSERT_EQ(t.size(), 3u);
  EXPECT_EQ(t[0].id, 0);
  EXPECT_EQ(t[0].signo, SIGUSR1);
  EXPECT_EQ(t[0].sigval, 0x1234u);
  EXPECT_EQ(t[0].notify, SIGEV_SIGNAL);
  EXPECT_EQ(t[0].clockid, 1);
  EXPECT_EQ(t[1].id, 2);
  EXPECT_EQ(t[1].notify, SIGEV_SIGNAL | SIGEV_THREAD_ID);
  EXPECT_EQ(t[1].tid, 27900);
  EXPECT_EQ(t[1].sigval, 0xdeadbeefu);
  EXPECT_EQ(t[1].clockid, 7);
  EXPECT_EQ(t[2].id, 3);
  EXPECT_EQ(t[2].notify, SIGEV_NONE);
  EXPECT_TRUE(parse_proc_timers("").empty());
}

TEST(ParseProcTimers, RefusesWhatItCannotRead) {
  EXPECT_THROW(parse_proc_timers("signal: 10/0\n"), std::runtime_error);
  EXPECT_THROW(parse_proc_timers("ID: 0\nnotify: mystery/pid.1\n"), std::runtime_error);
  EXPECT_THROW(parse_proc_timers("ID: 0\nsignal: ten\n"), std::runtime_error);
}

TEST(TimerRefusal, OnlyCpuClocksOfTasks) {
  PosixTimerImage t;
  t.clockid = 1;
  EXPECT_EQ(timer_refusal(t), "");
  t.clockid = -6;
  EXPECT_NE(timer_refusal(t).find("CPU-time clock"), std::string::npos);
}

}  // namespace
}  // namespace crossrig::engine
