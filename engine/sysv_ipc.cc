#include "engine/sysv_ipc.h"

#include <fcntl.h>
#include <sys/ipc.h>
#include <sys/msg.h>
#include <sys/sem.h>
#include <sys/shm.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <set>

#include "common/unique_fd.h"
#include "engine/ckpt_error.h"
#include "engine/ptrace_task.h"
#include "engine/task_info.h"

namespace crossrig::engine {
namespace {

// The IPC namespace's own sysctls that shape its objects. shm_rmid_forced comes last: set
// before the restored processes attach, it would remove segments ckpt made and left
// unattached.
constexpr const char* kLimits[] = {"msgmax", "msgmnb", "msgmni", "sem",
                                   "shmall", "shmmax", "shmmni", "shm_rmid_forced"};
constexpr const char* kRmidForced = "shm_rmid_forced";

// glibc leaves the caller to define semctl's fourth argument.
union SemArg {
  int val;
  semid_ds* buf;
  unsigned short* array;
  seminfo* info;
};

std::string sysctl_path(const std::string& name) {
  return "/proc/sys/kernel/" + name;
}

void write_sysctl(const std::string& name, const std::string& value) {
  const std::string path = sysctl_path(name);
  if (read_trimmed(path) == value) return;
  write_file(path, value,
             "setting kernel." + name + " to " + value + " in the restored IPC namespace");
}

// The id the next object of this kind gets; needs CONFIG_CHECKPOINT_RESTORE.
void choose_next_id(const char* kind, int id) {
  const std::string name = std::string(kind) + "_next_id";
  if (::access(sysctl_path(name).c_str(), W_OK) != 0)
    throw CkptError(CkptError::kUnsupported,
                    "this kernel has no kernel." + name +
                        ", so System V objects cannot get their ids back; restore under a "
                        "kernel built with CONFIG_CHECKPOINT_RESTORE");
  write_sysctl(name, std::to_string(id));
}

void check_made(const char* kind, const std::string& what, int want, int got) {
  if (got < 0) throw_errno("making " + what + " again");
  if (got != want)
    throw CkptError(CkptError::kSystem, "making " + what + " again gave it id " +
                                            std::to_string(got) + " despite kernel." + kind +
                                            "_next_id");
}

IpcPermImage perm_of(const ipc_perm& p) {
  return {p.__key, p.uid, p.gid, static_cast<std::uint32_t>(p.mode & 0777)};
}

void set_perm(ipc_perm& p, const IpcPermImage& img) {
  p.uid = img.uid;
  p.gid = img.gid;
  p.mode = static_cast<unsigned short>(img.mode & 0777);
}

// A segment attached in ckpt for as long as the copy takes.
class Attached {
 public:
  Attached(int id, int flags, const std::string& what) : at_(::shmat(id, nullptr, flags)) {
    if (at_ == reinterpret_cast<void*>(-1)) throw_errno("attaching " + what + " to copy it");
  }
  Attached(const Attached&) = delete;
  Attached& operator=(const Attached&) = delete;
  ~Attached() { ::shmdt(at_); }
  std::uint8_t* bytes() const { return static_cast<std::uint8_t*>(at_); }

 private:
  void* at_;
};

std::string segment_name(int id) {
  return "System V shared memory segment " + std::to_string(id);
}
std::string set_name(int id) {
  return "System V semaphore set " + std::to_string(id);
}
std::string queue_name(int id) {
  return "System V message queue " + std::to_string(id);
}

void read_segments(IpcImage& img, PagesWriter& data) {
  shm_info info{};
  const int last = ::shmctl(0, SHM_INFO, reinterpret_cast<shmid_ds*>(&info));
  if (last < 0) throw_errno("listing System V shared memory segments");
  for (int index = 0; index <= last; ++index) {
    shmid_ds ds{};
    const int id = ::shmctl(index, SHM_STAT, &ds);
    if (id < 0) continue;  // a free slot
    ShmSegmentImage s{id,
                      perm_of(ds.shm_perm),
                      ds.shm_segsz,
                      (ds.shm_perm.mode & SHM_DEST) != 0,
                      (ds.shm_perm.mode & SHM_LOCKED) != 0,
                      data.size()};
    Attached at(id, SHM_RDONLY, segment_name(id));
    data.append(std::span(at.bytes(), s.size));
    img.shm.push_back(s);
  }
}

void read_semaphores(IpcImage& img) {
  seminfo info{};
  SemArg arg{};
  arg.info = &info;
  const int last = ::semctl(0, 0, SEM_INFO, arg);
  if (last < 0) throw_errno("listing System V semaphore sets");
  for (int index = 0; index <= last; ++index) {
    semid_ds ds{};
    arg.buf = &ds;
    const int id = ::semctl(index, 0, SEM_STAT, arg);
    if (id < 0) continue;
    std::vector<unsigned short> values(ds.sem_nsems);
    arg.array = values.data();
    if (::semctl(id, 0, GETALL, arg) != 0) throw_errno("reading " + set_name(id));
    img.sem.push_back({id, perm_of(ds.sem_perm), {values.begin(), values.end()}});
  }
}

void read_queues(IpcImage& img, PagesWriter& data) {
  msginfo info{};
  const int last = ::msgctl(0, MSG_INFO, reinterpret_cast<msqid_ds*>(&info));
  if (last < 0) throw_errno("listing System V message queues");
  for (int index = 0; index <= last; ++index) {
    msqid_ds ds{};
    const int id = ::msgctl(index, MSG_STAT, &ds);
    if (id < 0) continue;
    MsgQueueImage q{id, perm_of(ds.msg_perm), ds.msg_qbytes, {}};
    // No message is longer than all the queue holds.
    std::vector<std::uint8_t> buf(sizeof(long) + ds.__msg_cbytes);
    for (msgqnum_t i = 0; i < ds.msg_qnum; ++i) {
      const ssize_t n =
          ::msgrcv(id, buf.data(), ds.__msg_cbytes, static_cast<long>(i), IPC_NOWAIT | MSG_COPY);
      if (n < 0 && errno == ENOSYS)
        throw CkptError(CkptError::kUnsupported,
                        "this kernel cannot copy messages out of " + queue_name(id) +
                            " (msgrcv's MSG_COPY needs CONFIG_CHECKPOINT_RESTORE)");
      if (n < 0) throw_errno("copying message " + std::to_string(i) + " of " + queue_name(id));
      long type = 0;
      std::memcpy(&type, buf.data(), sizeof type);
      q.messages.push_back({type, data.size(), static_cast<std::uint64_t>(n)});
      data.append(std::span(buf.data() + sizeof(long), static_cast<std::size_t>(n)));
    }
    img.msg.push_back(std::move(q));
  }
}

void make_segment(const ShmSegmentImage& s, std::span<const std::uint8_t> data) {
  const std::string what = segment_name(s.id);
  choose_next_id("shm", s.id);
  check_made("shm", what, s.id, ::shmget(s.perm.key, s.size, IPC_CREAT | IPC_EXCL | 0600));
  {
    Attached at(s.id, 0, what);
    // A new segment reads as zeros: pages of zeros stay unallocated, as they were.
    const std::size_t page = static_cast<std::size_t>(::sysconf(_SC_PAGESIZE));
    const std::uint8_t* from = data.data() + s.offset;
    for (std::size_t off = 0; off < s.size; off += page) {
      const std::size_t n = std::min<std::size_t>(page, s.size - off);
      if (std::any_of(from + off, from + off + n, [](std::uint8_t b) { return b != 0; }))
        std::memcpy(at.bytes() + off, from + off, n);
    }
  }
  shmid_ds ds{};
  set_perm(ds.shm_perm, s.perm);
  if (::shmctl(s.id, IPC_SET, &ds) != 0) throw_errno("setting the owner and mode of " + what);
  if (s.locked && ::shmctl(s.id, SHM_LOCK, nullptr) != 0) throw_errno("locking " + what);
}

void make_semaphores(const SemSetImage& s) {
  const std::string what = set_name(s.id);
  choose_next_id("sem", s.id);
  check_made("sem", what, s.id,
             ::semget(s.perm.key, static_cast<int>(s.values.size()), IPC_CREAT | IPC_EXCL | 0600));
  std::vector<unsigned short> values(s.values.begin(), s.values.end());
  SemArg arg{};
  arg.array = values.data();
  if (::semctl(s.id, 0, SETALL, arg) != 0) throw_errno("setting the values of " + what);
  semid_ds ds{};
  set_perm(ds.sem_perm, s.perm);
  arg.buf = &ds;
  if (::semctl(s.id, 0, IPC_SET, arg) != 0) throw_errno("setting the owner and mode of " + what);
}

void make_queue(const MsgQueueImage& q, std::span<const std::uint8_t> data) {
  const std::string what = queue_name(q.id);
  choose_next_id("msg", q.id);
  check_made("msg", what, q.id, ::msgget(q.perm.key, IPC_CREAT | IPC_EXCL | 0600));
  // Before the messages: a queue may hold more than a new one takes.
  msqid_ds ds{};
  set_perm(ds.msg_perm, q.perm);
  ds.msg_qbytes = q.max_bytes;
  if (::msgctl(q.id, IPC_SET, &ds) != 0)
    throw_errno("setting the owner, mode and size (" + std::to_string(q.max_bytes) + " bytes) of " +
                what);
  std::vector<std::uint8_t> buf;
  for (const MessageImage& m : q.messages) {
    buf.resize(sizeof(long) + m.length);
    const long type = static_cast<long>(m.type);
    std::memcpy(buf.data(), &type, sizeof type);
    std::copy_n(data.data() + m.offset, m.length, buf.data() + sizeof(long));
    if (::msgsnd(q.id, buf.data(), m.length, IPC_NOWAIT) != 0)
      throw_errno("queueing a message of " + std::to_string(m.length) + " bytes in " + what);
  }
}

}  // namespace

IpcImage read_ipc_objects(PagesWriter& data) {
  IpcImage img;
  for (const char* name : kLimits) {
    if (::access(sysctl_path(name).c_str(), R_OK) == 0)
      img.limits[name] = read_trimmed(sysctl_path(name));
  }
  read_segments(img, data);
  read_semaphores(img);
  read_queues(img, data);
  return img;
}

void make_ipc_objects(const IpcImage& img, std::span<const std::uint8_t> data) {
  for (const auto& [name, value] : img.limits) {
    if (name != kRmidForced) write_sysctl(name, value);
  }
  for (const ShmSegmentImage& s : img.shm)
    make_segment(s, data);
  for (const SemSetImage& s : img.sem)
    make_semaphores(s);
  for (const MsgQueueImage& q : img.msg)
    make_queue(q, data);
}

void finish_ipc_objects(const IpcImage& img) {
  for (const ShmSegmentImage& s : img.shm) {
    if (s.removed && ::shmctl(s.id, IPC_RMID, nullptr) != 0)
      throw_errno("removing " + segment_name(s.id) + " again once attached");
  }
  if (auto it = img.limits.find(kRmidForced); it != img.limits.end())
    write_sysctl(kRmidForced, it->second);
}

void check_ipc_image(const IpcImage& img, std::uint64_t data_size) {
  auto bad = [](const std::string& what) {
    throw CkptError(CkptError::kBadImage, "ipc.json: " + what);
  };
  auto inside = [&](std::uint64_t offset, std::uint64_t length) {
    return offset <= data_size && length <= data_size - offset;
  };
  for (const auto& [name, value] : img.limits) {
    const std::string& key = name;
    if (std::find_if(std::begin(kLimits), std::end(kLimits),
                     [&](const char* k) { return key == k; }) == std::end(kLimits))
      bad("kernel." + name + " is not an IPC namespace limit ckpt sets");
    if (value.find_first_not_of("0123456789 \t") != std::string::npos)
      bad("kernel." + name + " has the value \"" + value + "\"");
  }
  std::set<int> ids;
  for (const ShmSegmentImage& s : img.shm) {
    if (!ids.insert(s.id).second) bad("two segments have id " + std::to_string(s.id));
    if (!inside(s.offset, s.size)) bad(segment_name(s.id) + " lies outside ipc-data.img");
  }
  ids.clear();
  for (const SemSetImage& s : img.sem) {
    if (!ids.insert(s.id).second) bad("two semaphore sets have id " + std::to_string(s.id));
    if (s.values.empty()) bad(set_name(s.id) + " has no semaphores");
  }
  ids.clear();
  for (const MsgQueueImage& q : img.msg) {
    if (!ids.insert(q.id).second) bad("two message queues have id " + std::to_string(q.id));
    for (const MessageImage& m : q.messages) {
      if (!inside(m.offset, m.length))
        bad("a message of " + queue_name(q.id) + " lies outside ipc-data.img");
    }
  }
}

}  // namespace crossrig::engine
