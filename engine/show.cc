#include "engine/show.h"

#include <fmt/format.h>
#include <fmt/ranges.h>

namespace crossrig::engine {

nlohmann::json image_to_json(const ImageReader& image) {
  nlohmann::json doc;
  doc["inventory"] = image.inventory();
  doc["tree"] = image.json("tree.json");
  for (const auto& p : doc["tree"]["processes"]) {
    if (p.value("zombie", false)) continue;
    std::string id = std::to_string(p.at("pid").get<int>());
    nlohmann::json proc;
    proc["task"] = image.json("task-" + id + ".json");
    proc["mm"] = image.json("mm-" + id + ".json");
    proc["pagemap"] = image.json("pagemap-" + id + ".json");
    for (const auto& tid : p.at("threads"))
      proc["cores"].push_back(image.json("core-" + std::to_string(tid.get<int>()) + ".json"));
    doc["processes"][id] = proc;
  }
  return doc;
}

void print_image(const nlohmann::json& doc, std::ostream& out) {
  const auto& inv = doc["inventory"];
  out << fmt::format("image format {} · arch {} ({}-endian, {} B pages) · kernel {} · {}\n",
                     inv.value("format_version", 0), inv.value("arch", "?"),
                     inv.value("endianness", "?"), inv.value("page_size", 0),
                     inv.value("kernel_release", "?"), inv.value("created_by", "?"));
  for (const auto& p : doc["tree"]["processes"]) {
    if (p.value("zombie", false))
      out << fmt::format("\nzombie {} (child of {}) wait status {:#x}\n", p.value("pid", 0),
                         p.value("ppid", 0), p.value("exit_code", 0));
  }
  for (const auto& [id, proc] : doc["processes"].items()) {
    const auto& t = proc["task"];
    out << fmt::format("\nprocess {} ({}) ppid {} pgid {} sid {} cwd {} umask {:03o}\n", id,
                       t.value("comm", ""), t.value("ppid", 0), t.value("pgid", 0),
                       t.value("sid", 0), t.value("cwd", ""), t.value("umask", 0u));
    std::uint64_t pages = 0;
    for (const auto& p : proc["pagemap"])
      pages += p.value("npages", std::uint64_t{0});
    out << fmt::format("  {} mappings, {} pages stored, exe {}\n", proc["mm"]["vmas"].size(), pages,
                       proc["mm"].value("exe", ""));
    for (const auto& v : proc["mm"]["vmas"]) {
      int prot = v.value("prot", 0);
      out << fmt::format("  {:012x}-{:012x} {}{}{}{} {:<6} {}\n",
                         v.value("start", std::uint64_t{0}), v.value("end", std::uint64_t{0}),
                         prot & 1 ? 'r' : '-', prot & 2 ? 'w' : '-', prot & 4 ? 'x' : '-',
                         v.value("shared", false) ? 's' : 'p', v.value("kind", ""),
                         v.value("path", ""));
    }
    int n = 0;
    for (const auto& f : t["seccomp_filters"])
      out << fmt::format("  seccomp filter {}: {} instructions on {}, flags {:#x}\n", n++,
                         f.value("insns", std::string()).size() / 16, f.value("prev", -1),
                         f.value("flags", std::uint64_t{0}));
    for (const auto& fd : t["fds"])
      out << fmt::format("  fd {} {} pos {}\n", fd.value("fd", 0), fd.value("path", ""),
                         fd.value("pos", 0));
    for (const auto& c : proc["cores"]) {
      const auto& cr = c["creds"];
      auto ids = [](const nlohmann::json& v) {
        return v.is_array() ? fmt::format("{}", fmt::join(v.get<std::vector<long>>(), "/")) : "?";
      };
      out << fmt::format(
          "  thread {} sigmask {:016x} uids {} gids {} cap_eff {:016x}{} seccomp filter {}\n",
          c.value("tid", 0), c.value("sigmask", std::uint64_t{0}), ids(cr["uids"]), ids(cr["gids"]),
          cr.value("cap_eff", std::uint64_t{0}),
          cr.value("no_new_privs", false) ? " no_new_privs" : "", c.value("seccomp_filter", -1));
      int col = 0;
      for (const auto& [name, value] : c["regs"].items()) {
        out << fmt::format("    {:>8} {}", name, value.get<std::string>())
            << (++col % 3 ? "" : "\n");
      }
      if (col % 3) out << "\n";
    }
  }
}

}  // namespace crossrig::engine
