#pragma once
// System V IPC objects of a tree started in its own IPC namespace: shared memory segments
// with their content, semaphore sets with their values, message queues with their messages,
// and the namespace's limits. ckpt reads and makes them from a thread of its own that joined
// the namespace (setns), so nothing runs in the tree's processes; ids come back the same
// through kernel.{shm,sem,msg}_next_id, which the processes hold as plain ints.

#include <sys/types.h>

#include <cstdint>
#include <functional>
#include <map>
#include <nlohmann/json.hpp>
#include <span>
#include <string>
#include <vector>

#include "engine/image.h"

namespace crossrig::engine {

/// What IPC_SET can give an object back; the creator's ids become ckpt's.
struct IpcPermImage {
  std::int32_t key = 0;
  std::uint32_t uid = 0, gid = 0;
  std::uint32_t mode = 0;  ///< The 0777 bits.
};
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE(IpcPermImage, key, uid, gid, mode)

struct ShmSegmentImage {
  int id = 0;
  IpcPermImage perm;
  std::uint64_t size = 0;
  bool removed = false;  ///< IPC_RMID'ed while still attached (SHM_DEST): removed once attached.
  bool locked = false;   ///< SHM_LOCK'ed.
  std::uint64_t offset = 0;  ///< Its content: size bytes at offset in ipc-data.img.
};
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE(ShmSegmentImage, id, perm, size, removed, locked, offset)

struct SemSetImage {
  int id = 0;
  IpcPermImage perm;
  std::vector<std::uint16_t> values;
};
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE(SemSetImage, id, perm, values)

struct MessageImage {
  std::int64_t type = 0;
  std::uint64_t offset = 0, length = 0;  ///< In ipc-data.img.
};
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE(MessageImage, type, offset, length)

struct MsgQueueImage {
  int id = 0;
  IpcPermImage perm;
  std::uint64_t max_bytes = 0;         ///< msg_qbytes.
  std::vector<MessageImage> messages;  ///< Oldest first.
};
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE(MsgQueueImage, id, perm, max_bytes, messages)

/// ipc.json: one IPC namespace's objects, each kind in id order.
struct IpcImage {
  /// The namespace's own sysctls under /proc/sys/kernel (msgmnb, shmmax, sem...).
  std::map<std::string, std::string> limits;
  std::vector<ShmSegmentImage> shm;
  std::vector<SemSetImage> sem;
  std::vector<MsgQueueImage> msg;
};
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE(IpcImage, limits, shm, sem, msg)

/// Reads every object of the calling thread's IPC namespace, appending segment contents and
/// message texts to data. Segments are attached read-only for the copy and detached again.
IpcImage read_ipc_objects(PagesWriter& data);

/// Makes the objects of img in the calling thread's IPC namespace, which must hold none,
/// under the same ids, and sets its limits. data: ipc-data.img.
void make_ipc_objects(const IpcImage& img, std::span<const std::uint8_t> data);

/// Once every process has attached its segments: removes the ones the image marks removed
/// and sets what would have removed unattached segments before (shm_rmid_forced).
void finish_ipc_objects(const IpcImage& img);

/// Throws kBadImage when img's objects do not fit data_size bytes of ipc-data.img or an id
/// repeats.
void check_ipc_image(const IpcImage& img, std::uint64_t data_size);

}  // namespace crossrig::engine
