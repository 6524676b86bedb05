#include "engine/sysv_ipc.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <sched.h>
#include <sys/ipc.h>
#include <sys/msg.h>
#include <sys/sem.h>
#include <sys/shm.h>
#include <unistd.h>

#include <cstring>
#include <optional>

#include "engine/ckpt_error.h"
#include "engine/namespaces.h"
#include "tests/support/namespaced_process.h"
#include "tests/support/temp_dir.h"

namespace crossrig::engine {
namespace {

using test_support::NamespacedProcess;

union SemArg {
  int val;
  semid_ds* buf;
  unsigned short* array;
};

struct Message {
  long type;
  char text[32];
};

// What the tests put in a namespace: one object of each kind plus a removed segment that an
// attachment keeps.
struct Objects {
  int shm = -1, removed_shm = -1, sem = -1, msg = -1;
  void* kept = nullptr;
};

Objects make_objects() {
  Objects o;
  // A second segment first and removed, so the ids in use have a gap.
  int gap = ::shmget(IPC_PRIVATE, 4096, IPC_CREAT | 0600);
  o.shm = ::shmget(0x5eed, 3 * 4096 + 100, IPC_CREAT | 0640);
  ::shmctl(gap, IPC_RMID, nullptr);
  auto* p = static_cast<char*>(::shmat(o.shm, nullptr, 0));
  std::strcpy(p, "first page");
  std::strcpy(p + 2 * 4096 + 10, "third page");
  p[4095] = 'z';
  std::strcpy(p + 3 * 4096 + 80, "tail");
  ::shmdt(p);
  o.removed_shm = ::shmget(IPC_PRIVATE, 4096, IPC_CREAT | 0600);
  o.kept = ::shmat(o.removed_shm, nullptr, 0);
  std::strcpy(static_cast<char*>(o.kept), "removed");
  ::shmctl(o.removed_shm, IPC_RMID, nullptr);

  o.sem = ::semget(0x5eee, 3, IPC_CREAT | 0600);
  unsigned short values[3] = {7, 0, 42};
  SemArg arg{};
  arg.array = values;
  ::semctl(o.sem, 0, SETALL, arg);

  o.msg = ::msgget(IPC_PRIVATE, IPC_CREAT | 0620);
  msqid_ds ds{};
  ::msgctl(o.msg, IPC_STAT, &ds);
  ds.msg_qbytes = 1000;
  ::msgctl(o.msg, IPC_SET, &ds);
  Message m1{3, "three"}, m2{1, "one, sent second"};
  ::msgsnd(o.msg, &m1, std::strlen(m1.text), 0);
  ::msgsnd(o.msg, &m2, std::strlen(m2.text) + 1, 0);
  return o;
}

class SysvIpcTest : public ::testing::Test {
 protected:
  // Reads the objects of source's namespace into data_ (ipc-data.img).
  IpcImage dump(const NamespacedProcess& source) {
    PagesWriter data(UniqueFd(::open((dir_.path() / "ipc-data.img").c_str(),
                                     O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0600)),
                     "ipc-data.img", dir_.path() / "ipc-data.img");
    IpcImage img;
    in_namespace_of(source.pid(), CLONE_NEWIPC, [&] { img = read_ipc_objects(data); });
    data.finish();
    data_.resize(data.size());
    UniqueFd fd(::open((dir_.path() / "ipc-data.img").c_str(), O_RDONLY | O_CLOEXEC));
    EXPECT_EQ(::pread(fd.get(), data_.data(), data_.size(), 0), static_cast<ssize_t>(data_.size()));
    return img;
  }

  test_support::TempDir dir_;
  std::vector<std::uint8_t> data_;
};

TEST_F(SysvIpcTest, ReadsEveryObjectWithItsContent) {
  NamespacedProcess ns(CLONE_NEWIPC);
  Objects o;
  IpcImage img;
  in_namespace_of(ns.pid(), CLONE_NEWIPC, [&] {
    o = make_objects();
    img = dump(ns);
    ::shmdt(o.kept);
  });
  ASSERT_EQ(img.shm.size(), 2u);
  EXPECT_EQ(img.shm[0].id, o.shm);
  EXPECT_EQ(img.shm[0].perm.key, 0x5eed);
  EXPECT_EQ(img.shm[0].perm.mode, 0640u);
  EXPECT_EQ(img.shm[0].size, 3u * 4096 + 100);
  EXPECT_FALSE(img.shm[0].removed);
  EXPECT_STREQ(reinterpret_cast<const char*>(data_.data() + img.shm[0].offset), "first page");
  EXPECT_TRUE(img.shm[1].removed);
  ASSERT_EQ(img.sem.size(), 1u);
  EXPECT_EQ(img.sem[0].values, (std::vector<std::uint16_t>{7, 0, 42}));
  ASSERT_EQ(img.msg.size(), 1u);
  EXPECT_EQ(img.msg[0].max_bytes, 1000u);
  ASSERT_EQ(img.msg[0].messages.size(), 2u);
  EXPECT_EQ(img.msg[0].messages[0].type, 3);
  EXPECT_EQ(img.msg[0].messages[1].length, std::strlen("one, sent second") + 1);
  EXPECT_EQ(img.limits.count("msgmnb"), 1u);
  // Reading took nothing: both messages are still queued.
  in_namespace_of(ns.pid(), CLONE_NEWIPC, [&] {
    msqid_ds ds{};
    ::msgctl(o.msg, IPC_STAT, &ds);
    EXPECT_EQ(ds.msg_qnum, 2u);
  });
}

TEST_F(SysvIpcTest, MakesThemAgainUnderTheSameIdsInANewNamespace) {
  NamespacedProcess source(CLONE_NEWIPC);
  Objects o;
  IpcImage img;
  in_namespace_of(source.pid(), CLONE_NEWIPC, [&] {
    o = make_objects();
    img = dump(source);
  });
  NamespacedProcess target(CLONE_NEWIPC);
  std::optional<std::string> failure;
  in_namespace_of(target.pid(), CLONE_NEWIPC, [&] {
    make_ipc_objects(img, data_);
    // A restored process attaches the removed segment before finish removes it.
    void* kept = ::shmat(o.removed_shm, nullptr, 0);
    ASSERT_NE(kept, reinterpret_cast<void*>(-1));
    finish_ipc_objects(img);
    EXPECT_STREQ(static_cast<char*>(kept), "removed");
    shmid_ds sds{};
    ASSERT_EQ(::shmctl(o.removed_shm, IPC_STAT, &sds), 0);
    EXPECT_NE(sds.shm_perm.mode & SHM_DEST, 0);
    ::shmdt(kept);

    ASSERT_EQ(::shmget(0x5eed, 0, 0), o.shm);
    ASSERT_EQ(::shmctl(o.shm, IPC_STAT, &sds), 0);
    EXPECT_EQ(sds.shm_perm.mode & 0777, 0640);
    EXPECT_EQ(sds.shm_segsz, 3u * 4096 + 100);
    auto* p = static_cast<char*>(::shmat(o.shm, nullptr, SHM_RDONLY));
    EXPECT_STREQ(p, "first page");
    EXPECT_STREQ(p + 2 * 4096 + 10, "third page");
    EXPECT_EQ(p[4095], 'z');
    EXPECT_STREQ(p + 3 * 4096 + 80, "tail");
    ::shmdt(p);

    ASSERT_EQ(::semget(0x5eee, 0, 0), o.sem);
    unsigned short values[3] = {};
    SemArg arg{};
    arg.array = values;
    ASSERT_EQ(::semctl(o.sem, 0, GETALL, arg), 0);
    EXPECT_EQ(values[0], 7);
    EXPECT_EQ(values[2], 42);

    msqid_ds mds{};
    ASSERT_EQ(::msgctl(o.msg, IPC_STAT, &mds), 0);
    EXPECT_EQ(mds.msg_qbytes, 1000u);
    EXPECT_EQ(mds.msg_perm.mode & 0777, 0620);
    Message m{};
    ASSERT_EQ(::msgrcv(o.msg, &m, sizeof m.text, 0, IPC_NOWAIT), 5);
    EXPECT_EQ(m.type, 3);
    ASSERT_GT(::msgrcv(o.msg, &m, sizeof m.text, 0, IPC_NOWAIT), 0);
    EXPECT_STREQ(m.text, "one, sent second");
  });
  // The source namespace kept its own.
  in_namespace_of(source.pid(), CLONE_NEWIPC, [&] {
    msqid_ds ds{};
    ::msgctl(o.msg, IPC_STAT, &ds);
    EXPECT_EQ(ds.msg_qnum, 2u);
    ::shmdt(o.kept);
  });
}

TEST_F(SysvIpcTest, RefusesANamespaceThatAlreadyHoldsTheKey) {
  NamespacedProcess source(CLONE_NEWIPC), target(CLONE_NEWIPC);
  IpcImage img;
  in_namespace_of(source.pid(), CLONE_NEWIPC, [&] {
    ::shmget(0x5eed, 4096, IPC_CREAT | 0600);
    img = dump(source);
  });
  in_namespace_of(target.pid(), CLONE_NEWIPC, [&] { ::shmget(0x5eed, 4096, IPC_CREAT | 0600); });
  try {
    in_namespace_of(target.pid(), CLONE_NEWIPC, [&] { make_ipc_objects(img, data_); });
    FAIL() << "made a segment over an existing key";
  } catch (const CkptError& e) {
    EXPECT_NE(std::string(e.what()).find("System V shared memory segment"), std::string::npos)
        << e.what();
  }
}

std::string check_error(const IpcImage& img, std::uint64_t data_size) {
  try {
    check_ipc_image(img, data_size);
  } catch (const CkptError& e) {
    EXPECT_EQ(e.kind(), CkptError::kBadImage);
    return e.what();
  }
  return "";
}

TEST(CheckIpcImage, RefusesWhatDoesNotFit) {
  IpcImage good;
  good.limits["msgmnb"] = "16384";
  good.shm.push_back({1, {}, 4096, false, false, 0});
  good.sem.push_back({2, {}, {1}});
  good.msg.push_back({3, {}, 100, {{1, 4096, 10}}});
  EXPECT_EQ(check_error(good, 4106), "");
  EXPECT_NE(check_error(good, 4105).find("message queue 3 lies outside"), std::string::npos);

  IpcImage path = good;
  path.limits["../../sys/vm/drop_caches"] = "3";
  EXPECT_NE(check_error(path, 4106).find("not an IPC namespace limit"), std::string::npos);
  IpcImage value = good;
  value.limits["sem"] = "1\n2";
  EXPECT_NE(check_error(value, 4106).find("has the value"), std::string::npos);
  IpcImage twice = good;
  twice.shm.push_back({1, {}, 10, false, false, 0});
  EXPECT_NE(check_error(twice, 4106).find("two segments have id 1"), std::string::npos);
  IpcImage outside = good;
  outside.shm[0].offset = ~0ULL;
  EXPECT_NE(check_error(outside, 4106).find("segment 1 lies outside"), std::string::npos);
  IpcImage empty = good;
  empty.sem[0].values.clear();
  EXPECT_NE(check_error(empty, 4106).find("has no semaphores"), std::string::npos);
}

}  // namespace
}  // namespace crossrig::engine
