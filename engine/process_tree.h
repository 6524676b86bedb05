#pragma once
// Sessions and process groups of a dumped tree: restore makes them again only from their
// leaders, so the dump checks that every member's session and group can be rebuilt so.

#include <cstddef>
#include <span>
#include <vector>

namespace crossrig::engine {

/// One process of the tree, live or zombie, with the ids /proc/PID/stat shows.
struct TreeMember {
  int pid = 0, ppid = 0, pgid = 0, sid = 0;
  bool zombie = false;
};

/// How restore puts a process into its session and process group.
enum class Grouping {
  kInherit,     ///< Stays in its parent's (the root: in ckpt's).
  kNewSession,  ///< setsid(): leads a session and its first group.
  kNewGroup,    ///< setpgid(0, 0): leads a group of its parent's session.
  kJoinGroup,   ///< setpgid(0, pgid): joins a group led by a process restored before it.
};

/// The grouping of member m whose parent is parent (nullptr for the root).
Grouping grouping_of(const TreeMember& m, const TreeMember* parent);

/// The order restore creates the members in (indices; members[0] is the root): depth first,
/// a process before its children, a parent's zombies before its live children, otherwise in
/// the given order. It mirrors restore_process().
std::vector<std::size_t> creation_order(std::span<const TreeMember> members);

/// Throws kUnsupported naming the first member whose session or process group restore cannot
/// make again: a session other than its parent's that it does not lead, or a group whose
/// leader is outside the tree, gone, or created after it.
void check_groups(std::span<const TreeMember> members);

}  // namespace crossrig::engine
