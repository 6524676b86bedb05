#include "engine/seccomp.h"

#include <algorithm>
#include <string>

#include "common/hex.h"
#include "engine/ckpt_error.h"

namespace crossrig::engine {
namespace {

// struct sock_filter is 8 bytes; the kernel refuses longer programs than BPF_MAXINSNS.
constexpr std::size_t kInsnBytes = 8;
constexpr std::size_t kMaxInsns = 4096;

bool same(const SeccompFilterImage& e, int prev, const SeccompFilter& f) {
  return e.prev == prev && e.flags == f.flags && e.insns == to_hex(f.insns);
}

}  // namespace

int add_seccomp_chain(std::vector<SeccompFilterImage>& table,
                      const std::vector<SeccompFilter>& chain) {
  int prev = -1;
  for (const SeccompFilter& f : chain) {
    auto it = std::find_if(table.begin(), table.end(),
                           [&](const SeccompFilterImage& e) { return same(e, prev, f); });
    if (it == table.end()) {
      table.push_back({prev, f.flags, to_hex(f.insns)});
      it = table.end() - 1;
    }
    prev = static_cast<int>(it - table.begin());
  }
  return prev;
}

std::vector<SeccompFilter> seccomp_chain(const std::vector<SeccompFilterImage>& table, int last) {
  std::vector<SeccompFilter> out;
  // Each entry points strictly below itself, so the walk ends.
  for (int i = last; i != -1;) {
    if (i < -1 || i >= static_cast<int>(table.size()))
      throw CkptError(CkptError::kBadImage,
                      "seccomp filter index " + std::to_string(i) + " is outside the image's list");
    const SeccompFilterImage& e = table[static_cast<std::size_t>(i)];
    auto insns = from_hex(e.insns);
    if (!insns || insns->empty() || insns->size() % kInsnBytes != 0 ||
        insns->size() / kInsnBytes > kMaxInsns)
      throw CkptError(CkptError::kBadImage,
                      "seccomp filter " + std::to_string(i) + " is not a BPF program");
    if (e.prev >= i)
      throw CkptError(CkptError::kBadImage,
                      "seccomp filter " + std::to_string(i) + " is stacked on a later entry");
    out.push_back({e.flags, std::move(*insns)});
    i = e.prev;
  }
  std::reverse(out.begin(), out.end());
  return out;
}

SeccompPlan plan_seccomp(const std::vector<SeccompFilterImage>& table,
                         const std::vector<int>& last_per_thread) {
  std::vector<std::vector<int>> chains;
  for (int last : last_per_thread) {
    seccomp_chain(table, last);  // validates the entries the index walk below relies on
    std::vector<int> idx;
    for (int i = last; i != -1; i = table[static_cast<std::size_t>(i)].prev)
      idx.push_back(i);
    std::reverse(idx.begin(), idx.end());
    chains.push_back(std::move(idx));
  }
  // Entries were shared by content at dump: equal programs stacked on equal ancestors behave
  // the same whether the kernel held them once or twice.
  std::size_t common = chains.empty() ? 0 : chains.front().size();
  for (const auto& c : chains) {
    std::size_t n = 0;
    while (n < common && n < c.size() && c[n] == chains.front()[n])
      ++n;
    common = n;
  }
  SeccompPlan plan;
  auto chain = seccomp_chain(table, common == 0 ? -1 : chains.front()[common - 1]);
  plan.shared = std::move(chain);
  for (const auto& c : chains) {
    std::vector<SeccompFilter> own;
    for (std::size_t n = common; n < c.size(); ++n) {
      const SeccompFilterImage& e = table[static_cast<std::size_t>(c[n])];
      own.push_back({e.flags, *from_hex(e.insns)});
    }
    plan.own.push_back(std::move(own));
  }
  return plan;
}

}  // namespace crossrig::engine
