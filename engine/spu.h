#pragma once
// Cell SPU contexts, which a dump must refuse. On the PowerXCell 8i a task runs programs on
// its SPUs through spufs: a context is a directory on a spufs mount (spu_create), and the task
// maps its files (the local store "mem", "cntl", "signal1" ...) into its memory. An SPU's
// state lives in the SPU and in kernel objects no syscall can recreate by path, so an image of
// such a task could not be restored; ckpt refuses it before touching it.

#include <sys/types.h>

#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "engine/proc_parse.h"

namespace crossrig::engine {

/// Device numbers of the spufs mounts in a /proc/PID/mountinfo text.
std::set<dev_t> spufs_devices(std::string_view mountinfo);

/// The first mapping of maps that lies on one of the spufs devices, described for a message
/// ("0xADDR-0xADDR of /spu/..."), or nullopt.
std::optional<std::string> spu_mapping(const std::vector<MapsEntry>& maps,
                                       const std::set<dev_t>& spufs);

/// Throws CkptError kUnsupported, naming the process and the mapping or fd, when a process of
/// pids holds an SPU context; reads /proc only, so nothing is changed in any task.
void refuse_spu_contexts(const std::vector<pid_t>& pids);

}  // namespace crossrig::engine
