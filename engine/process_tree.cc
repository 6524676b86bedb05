#include "engine/process_tree.h"

#include <string>

#include "engine/ckpt_error.h"

namespace crossrig::engine {
namespace {

const TreeMember* parent_of(std::span<const TreeMember> members, const TreeMember& m) {
  if (&m == &members.front()) return nullptr;
  for (const TreeMember& p : members) {
    if (p.pid == m.ppid && !p.zombie) return &p;
  }
  return nullptr;
}

void visit(std::span<const TreeMember> members, std::size_t i, std::vector<std::size_t>& out) {
  out.push_back(i);
  for (bool zombies : {true, false}) {
    for (std::size_t c = 1; c < members.size(); ++c) {
      if (members[c].ppid == members[i].pid && members[c].zombie == zombies && !members[i].zombie)
        visit(members, c, out);
    }
  }
}

std::string name(const TreeMember& m) {
  return std::string(m.zombie ? "zombie " : "process ") + std::to_string(m.pid);
}

}  // namespace

Grouping grouping_of(const TreeMember& m, const TreeMember* parent) {
  if (m.sid == m.pid) return Grouping::kNewSession;
  if (m.pgid == m.pid) return Grouping::kNewGroup;
  if (parent == nullptr || m.pgid == parent->pgid) return Grouping::kInherit;
  return Grouping::kJoinGroup;
}

std::vector<std::size_t> creation_order(std::span<const TreeMember> members) {
  std::vector<std::size_t> out;
  if (!members.empty()) visit(members, 0, out);
  return out;
}

void check_groups(std::span<const TreeMember> members) {
  const std::vector<std::size_t> order = creation_order(members);
  for (std::size_t k = 0; k < order.size(); ++k) {
    const TreeMember& m = members[order[k]];
    const TreeMember* parent = parent_of(members, m);
    const Grouping g = grouping_of(m, parent);
    if (parent != nullptr && g != Grouping::kNewSession && m.sid != parent->sid)
      throw CkptError(CkptError::kUnsupported,
                      name(m) + " is in session " + std::to_string(m.sid) + ", not its parent " +
                          std::to_string(parent->pid) +
                          "'s, and does not lead it: ckpt makes a session again only from its "
                          "leader, which has exited or is outside the dumped tree");
    if (g != Grouping::kJoinGroup) continue;
    bool leader_first = false;
    for (std::size_t j = 0; j < k; ++j) {
      const TreeMember& l = members[order[j]];
      if (l.pid == m.pgid && l.sid == m.sid) leader_first = true;
    }
    if (!leader_first)
      throw CkptError(CkptError::kUnsupported,
                      name(m) + " is in process group " + std::to_string(m.pgid) +
                          ", neither its own nor its parent's, whose leader is not in the "
                          "dumped tree before it (it exited, is outside the tree, or is a later "
                          "branch of it): ckpt makes a group again only from its leader");
  }
}

}  // namespace crossrig::engine
