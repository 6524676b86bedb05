#include "engine/event_files.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/timerfd.h>
#include <unistd.h>

#include <fstream>
#include <sstream>
#include <stdexcept>

#include "engine/ckpt_error.h"

namespace crossrig::engine {
namespace {

// fdinfo as Linux 6.1 prints it: no "eventfd-semaphore" line yet.
constexpr char kEventfd61[] =
    "pos:\t0\nflags:\t04002\nmnt_id:\t15\nino:\t1057\neventfd-count:               1a\n"
    "eventfd-id: 3\n";
constexpr char kTimerfd[] =
    "pos:\t0\nflags:\t02\nmnt_id:\t17\nino:\t1038\nclockid: 7\nticks: 12\n"
    "settime flags: 03\nit_value: (99, 992243790)\nit_interval: (2, 500)\n";
constexpr char kEpoll[] =
    "pos:\t0\nflags:\t02\nmnt_id:\t17\nino:\t1038\n"
    "tfd:        4 events: 4000001c data:               4d  pos:0 ino:40e sdev:10\n"
    "tfd:       13 events: 80000019 data: ffffffffffffffff  pos:0 ino:40e sdev:10\n";

std::uint64_t count_of(int fd) {
  std::ifstream in("/proc/self/fdinfo/" + std::to_string(fd));
  std::stringstream text;
  text << in.rdbuf();
  return parse_eventfd(text.str()).count;
}

TEST(EventKind, NamesTheObjectsCkptRebuilds) {
  EXPECT_EQ(event_kind("anon_inode:[eventfd]"), "eventfd");
  EXPECT_EQ(event_kind("anon_inode:[timerfd]"), "timerfd");
  EXPECT_EQ(event_kind("anon_inode:[signalfd]"), "signalfd");
  EXPECT_EQ(event_kind("anon_inode:[eventpoll]"), "epoll");
  EXPECT_EQ(event_kind("anon_inode:inotify"), "inotify");
  EXPECT_EQ(event_kind("anon_inode:[fanotify]"), "");
  EXPECT_EQ(event_kind("/anon_inode:[eventfd]"), "");
  EXPECT_TRUE(is_event_kind("epoll"));
  EXPECT_FALSE(is_event_kind("pipe"));
}

TEST(ParseEventfd, ReadsTheCountInHexAndTheSemaphoreFlagWhenShown) {
  EventfdInfo old = parse_eventfd(kEventfd61);
  EXPECT_EQ(old.count, 0x1au);
  EXPECT_FALSE(old.semaphore.has_value()) << "6.1 does not say";
  EventfdInfo now = parse_eventfd(std::string(kEventfd61) + "eventfd-semaphore: 1\n");
  ASSERT_TRUE(now.semaphore.has_value());
  EXPECT_TRUE(*now.semaphore);
  EXPECT_THROW(parse_eventfd("pos:\t0\n"), std::runtime_error);
  EXPECT_THROW(parse_eventfd("eventfd-count: zz\n"), std::runtime_error);
}

TEST(ParseTimerfd, ReadsClockTicksFlagsAndTimes) {
  EventImage e = parse_timerfd(kTimerfd);
  EXPECT_EQ(e.clockid, 7);
  EXPECT_EQ(e.ticks, 12u);
  EXPECT_EQ(e.settime_flags, 3) << "printed in octal";
  EXPECT_EQ(e.value_sec, 99);
  EXPECT_EQ(e.value_nsec, 992243790);
  EXPECT_EQ(e.interval_sec, 2);
  EXPECT_EQ(e.interval_nsec, 500);
  EXPECT_THROW(parse_timerfd("clockid: 1\nticks: 0\n"), std::runtime_error);
}

TEST(ParseSignalfd, ReadsTheMaskHighestSignalsFirst) {
  EXPECT_EQ(parse_signalfd("pos:\t0\nsigmask:\t0000001000000200\n"),
            (1ULL << (SIGUSR1 - 1)) | (1ULL << (37 - 1)));
  EXPECT_THROW(parse_signalfd("sigmask:\t\n"), std::runtime_error);
  EXPECT_THROW(parse_signalfd("sigmask:\t00000000000000000001\n"), std::runtime_error);
}

TEST(ParseInotify, ReadsEveryWatchByNumber) {
  // As Linux 6.18 shows them, newest first; watch 2 was removed.
  auto w = parse_inotify(
      "pos:\t0\nflags:\t04000\nmnt_id:\t17\nino:\t1038\n"
      "inotify wd:3 ino:64011 sdev:fe00000 mask:2 ignored_mask:0 fhandle-bytes:8 "
      "fhandle-type:1 f_handle:1140060095d195cb\n"
      "inotify wd:1 ino:3c51a sdev:fe00001 mask:80000100 ignored_mask:0 fhandle-bytes:8 "
      "fhandle-type:1 f_handle:1ac5030000000000\n");
  ASSERT_EQ(w.size(), 2u);
  EXPECT_EQ(w[0].wd, 1);
  EXPECT_EQ(w[0].mask, 0x80000100u);
  EXPECT_EQ(w[0].major, 254u);
  EXPECT_EQ(w[0].minor, 1u);
  EXPECT_EQ(w[0].handle_type, 1);
  EXPECT_EQ(w[0].handle, (std::vector<std::uint8_t>{0x1a, 0xc5, 0x03, 0, 0, 0, 0, 0}));
  EXPECT_EQ(w[1].wd, 3);
  EXPECT_EQ(w[1].minor, 0u);
  EXPECT_THROW(parse_inotify("inotify wd:1 ino:1 sdev:0 mask:2 ignored_mask:0 fhandle-bytes:8 "
                             "fhandle-type:1 f_handle:12\n"),
               std::runtime_error)
      << "a handle shorter than its length";
}

TEST(ParseEpoll, ReadsEveryWatchInOrder) {
  auto w = parse_epoll(kEpoll);
  ASSERT_EQ(w.size(), 2u);
  EXPECT_EQ(w[0].fd, 4);
  EXPECT_EQ(w[0].events, 0x4000001cu);
  EXPECT_EQ(w[0].data, 0x4du);
  EXPECT_EQ(w[1].fd, 13);
  EXPECT_EQ(w[1].events, 0x80000019u);
  EXPECT_EQ(w[1].data, ~0ULL);
  EXPECT_TRUE(parse_epoll("pos:\t0\n").empty());
  EXPECT_THROW(parse_epoll("tfd: x events: 1 data: 2\n"), std::runtime_error);
}

TEST(ProbeSemaphore, TellsTheModesApartAndKeepsTheCount) {
  for (bool semaphore : {false, true}) {
    for (std::uint64_t count : {0, 1, 2, 7}) {
      int fd = ::eventfd(0, EFD_CLOEXEC | (semaphore ? EFD_SEMAPHORE : 0));
      ASSERT_GE(fd, 0);
      if (count != 0) {
        ASSERT_EQ(::write(fd, &count, sizeof count), 8);
      }
      EXPECT_EQ(probe_semaphore(fd, count), semaphore) << "count " << count;
      EXPECT_EQ(count_of(fd), count) << "semaphore " << semaphore;
      ::close(fd);
    }
  }
}

TEST(MakeEventFile, GivesAnEventfdItsCountModeAndFlags) {
  FileImage f{"eventfd", "anon_inode:[eventfd]", O_RDWR | O_NONBLOCK, 0, -1, -1, false, {}, 0};
  EventImage e;
  e.count = 3;
  e.semaphore = true;
  UniqueFd fd = make_event_file(f, e);
  EXPECT_TRUE(::fcntl(fd.get(), F_GETFL) & O_NONBLOCK);
  std::uint64_t n = 0;
  ASSERT_EQ(::read(fd.get(), &n, sizeof n), 8);
  EXPECT_EQ(n, 1u);
  EXPECT_EQ(count_of(fd.get()), 2u);
}

TEST(MakeEventFile, ArmsATimerWithItsTimeLeftAndPeriod) {
  FileImage f{"timerfd", "anon_inode:[timerfd]", O_RDWR, 0, -1, -1, false, {}, 0};
  EventImage e = parse_timerfd(kTimerfd);
  e.clockid = CLOCK_MONOTONIC;
  e.settime_flags = 0;
  e.ticks = 0;
  UniqueFd fd = make_event_file(f, e);
  itimerspec its{};
  ASSERT_EQ(::timerfd_gettime(fd.get(), &its), 0);
  EXPECT_EQ(its.it_interval.tv_sec, 2);
  EXPECT_EQ(its.it_interval.tv_nsec, 500);
  EXPECT_LE(its.it_value.tv_sec, 99);
  EXPECT_GE(its.it_value.tv_sec, 90);
}

TEST(MakeEventFile, GivesATimerItsUnreadTicks) {
  FileImage f{"timerfd", "anon_inode:[timerfd]", O_RDWR, 0, -1, -1, false, {}, 0};
  EventImage e = parse_timerfd(kTimerfd);
  e.clockid = CLOCK_MONOTONIC;
  e.settime_flags = 0;
  UniqueFd fd = make_event_file(f, e);
  std::uint64_t ticks = 0;
  ASSERT_EQ(::read(fd.get(), &ticks, sizeof ticks), 8);
  EXPECT_EQ(ticks, 12u);
}

FilesImage epoll_image(int owner, int watched_fd) {
  FilesImage img;
  img.files.push_back({"epoll", "anon_inode:[eventpoll]", O_RDWR, 0, -1, -1, false, {}, 0});
  img.files.push_back({"eventfd", "anon_inode:[eventfd]", O_RDWR, 0, -1, -1, false, {}, 1});
  EventImage ep;
  ep.owner = owner;
  ep.watches.push_back({watched_fd, EPOLLIN, 42});
  img.events = {ep, EventImage{}};
  return img;
}

TaskImage task(int pid) {
  TaskImage t;
  t.pid = pid;
  t.fds.push_back({3, 0, true, {}});
  t.fds.push_back({4, 1, false, {}});
  t.fds.push_back({5, 0, false, {}});
  return t;
}

int bad_image_kind(const FilesImage& f, const std::vector<TaskImage>& tasks) {
  try {
    check_events(f, tasks);
  } catch (const CkptError& e) {
    return e.kind();
  }
  return 0;
}

TEST(CheckEvents, RefusesMissingEntriesOwnersAndWatchedFds) {
  EXPECT_EQ(bad_image_kind(epoll_image(7, 4), {task(7)}), 0);
  EXPECT_EQ(bad_image_kind(epoll_image(7, 9), {task(7)}), CkptError::kBadImage) << "no fd 9";
  EXPECT_EQ(bad_image_kind(epoll_image(8, 4), {task(7)}), CkptError::kBadImage) << "no owner";
  FilesImage no_entry = epoll_image(7, 4);
  no_entry.files[1].event = 2;
  EXPECT_EQ(bad_image_kind(no_entry, {task(7)}), CkptError::kBadImage);
  FilesImage plain = epoll_image(7, 4);
  plain.files[1].kind = "file";
  EXPECT_EQ(bad_image_kind(plain, {task(7)}), CkptError::kBadImage) << "a file with an entry";
}

TEST(EpollCtls, RegistersOnceThroughTheOwnersFirstFd) {
  auto ctls = epoll_ctls(epoll_image(7, 4), task(7));
  ASSERT_EQ(ctls.size(), 1u);
  EXPECT_EQ(ctls[0].epfd, 3);
  EXPECT_EQ(ctls[0].fd, 4);
  EXPECT_EQ(ctls[0].events, static_cast<std::uint32_t>(EPOLLIN));
  EXPECT_EQ(ctls[0].data, 42u);
  EXPECT_TRUE(epoll_ctls(epoll_image(7, 4), task(8)).empty()) << "another process";
}

}  // namespace
}  // namespace crossrig::engine
