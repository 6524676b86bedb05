#include "engine/task_image.h"

#include <charconv>
#include <cstdio>

#include "engine/ckpt_error.h"

namespace crossrig::engine {

std::map<std::string, std::string> regs_to_names(const arch::Regs& regs) {
  std::map<std::string, std::string> out;
  for (const arch::RegDesc& r : regs.arch().gp_regs) {
    char buf[24];
    std::snprintf(buf, sizeof buf, "0x%0*llx", static_cast<int>(r.size * 2),
                  static_cast<unsigned long long>(regs.get(r.name)));
    out[std::string(r.name)] = buf;
  }
  return out;
}

arch::Regs regs_from_names(const arch::Arch& arch, const std::map<std::string, std::string>& m) {
  arch::Regs regs(arch);
  for (const arch::RegDesc& r : arch.gp_regs) {
    auto it = m.find(std::string(r.name));
    if (it == m.end())
      throw CkptError(CkptError::kBadImage, "core image lacks register " + std::string(r.name));
    std::string_view s = it->second;
    std::uint64_t v = 0;
    bool ok = s.starts_with("0x");
    if (ok) {
      s.remove_prefix(2);
      auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v, 16);
      ok = ec == std::errc() && p == s.data() + s.size() && s.size() <= r.size * 2;
    }
    if (!ok)
      throw CkptError(CkptError::kBadImage,
                      "register " + std::string(r.name) + " has a malformed value " + it->second);
    regs.set(r.name, v);
  }
  return regs;
}

}  // namespace crossrig::engine
