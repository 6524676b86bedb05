#include "engine/show.h"

#include <fmt/format.h>
#include <fmt/ranges.h>
#include <sys/socket.h>

#include <algorithm>
#include <map>

#include "arch/arch.h"
#include "engine/ckpt_error.h"
#include "engine/task_image.h"
#include "engine/unix_sockets.h"

namespace crossrig::engine {

namespace {

std::string hex(std::uint64_t v) {
  return fmt::format("{:#018x}", v);
}

// The thread pointer from its registers, high half first where it takes two.
std::uint64_t thread_pointer(const arch::Regs& regs) {
  std::uint64_t tp = 0;
  for (std::string_view name : regs.arch().tls) {
    const auto& d = *std::find_if(regs.arch().gp_regs.begin(), regs.arch().gp_regs.end(),
                                  [&](const arch::RegDesc& r) { return r.name == name; });
    tp = (d.size >= 8 ? 0 : tp << (8 * d.size)) | regs.get(name);
  }
  return tp;
}

// What a kernel object of the image holds, as a suffix to its fd's line.
std::string event_state(const std::string& kind, const nlohmann::json& e) {
  auto u64 = [&](const char* name) { return e.value(name, std::uint64_t{0}); };
  if (kind == "eventfd")
    return fmt::format(", count {}{}", u64("count"),
                       e.value("semaphore", false) ? " semaphore" : "");
  if (kind == "timerfd")
    return fmt::format(", clock {} next in {}.{:09}s every {}.{:09}s, {} unread{}",
                       e.value("clockid", 0), u64("value_sec"), u64("value_nsec"),
                       u64("interval_sec"), u64("interval_nsec"), u64("ticks"),
                       e.value("settime_flags", 0) & 1 ? " absolute" : "");
  if (kind == "signalfd") return ", signals " + hex(u64("sigmask"));
  std::vector<int> fds;
  for (const auto& w : e.value("watches", nlohmann::json::array()))
    fds.push_back(w.value("fd", -1));
  return fmt::format(", watches fds {} of process {}", fmt::join(fds, ","), e.value("owner", 0));
}

// A unix socket's type, state, name, peer and queue, as a suffix to its fd's line.
std::string socket_state(const nlohmann::json& s, const nlohmann::json& sockets) {
  static const std::map<int, std::string> types = {
      {SOCK_STREAM, "stream"}, {SOCK_DGRAM, "datagram"}, {SOCK_SEQPACKET, "seqpacket"}};
  auto type = types.find(s.value("type", 0));
  std::string out =
      fmt::format(", unix {} {}", type == types.end() ? "?" : type->second, s.value("state", "?"));
  const std::string name = s.value("name", "");
  if (!name.empty())
    out += " " + printable_name(name) + (s.value("deleted", false) ? " (deleted)" : "");
  const int peer = s.value("peer", -1);
  const nlohmann::json none = nlohmann::json::object();
  const auto& p = peer >= 0 && static_cast<std::size_t>(peer) < sockets.size()
                      ? sockets[static_cast<std::size_t>(peer)]
                      : none;
  if (s.value("state", "") == "listening") out += fmt::format(" backlog {}", s.value("backlog", 0));
  if (p.value("listener", -1) >= 0)
    out += ", waiting in the listener's queue";
  else if (peer >= 0)
    out += fmt::format(" to socket {}", p.value("ino", 0));
  else if (!s.value("peer_name", "").empty())
    out += " to " + printable_name(s.value("peer_name", ""));
  else if (s.value("state", "") == "connected")
    out += " to a closed peer";
  std::uint64_t bytes = 0;
  for (const auto& q : s.value("queue", nlohmann::json::array()))
    bytes += q.value("length", std::uint64_t{0});
  if (bytes != 0) out += fmt::format(", {} bytes queued in {} parts", bytes, s["queue"].size());
  return out;
}

// A TCP or UDP socket's state, addresses and queues, as a suffix to its fd's line.
std::string inet_state(const nlohmann::json& s) {
  const bool v6 = s.value("family", 0) == AF_INET6;
  auto endpoint = [&](const char* address, const char* port) {
    const std::string a = s.value(address, "");
    return (v6 ? "[" + a + "]" : a) + ":" + std::to_string(s.value(port, 0));
  };
  std::string out = fmt::format(", {} {} {}", s.value("type", 0) == SOCK_STREAM ? "TCP" : "UDP",
                                s.value("state", "?"), endpoint("address", "port"));
  if (!s.value("peer_address", "").empty()) out += " to " + endpoint("peer_address", "peer_port");
  if (s.value("state", "") == "listening") out += fmt::format(" backlog {}", s.value("backlog", 0));
  if (s.value("state", "") == "established")
    out += fmt::format(", {} bytes to read, {} to send ({} not sent yet)",
                       s.value("recv_length", std::uint64_t{0}),
                       s.value("send_length", std::uint64_t{0}),
                       s.value("unsent_length", std::uint64_t{0}));
  return out;
}

}  // namespace

const arch::Arch* image_arch(const nlohmann::json& inventory) {
  const std::string name = inventory.value("arch", "");
  const arch::Arch* a = arch::find_arch(name);
  if (a == nullptr) return nullptr;
  const std::string endian = a->endian == arch::Endian::kBig ? "big" : "little";
  if (inventory.value("endianness", endian) != endian) {
    throw CkptError(CkptError::kBadImage, "image inventory says arch " + name + " is " +
                                              inventory.value("endianness", "") + "-endian, but " +
                                              name + " is " + endian + "-endian");
  }
  return a;
}

nlohmann::json decode_core(const arch::Arch& a, const nlohmann::json& core) {
  arch::Regs regs = regs_from_names(a, core.at("regs").get<std::map<std::string, std::string>>());
  return {{"pc", hex(regs.pc())}, {"sp", hex(regs.sp())}, {"tls", hex(thread_pointer(regs))}};
}

nlohmann::json image_to_json(const ImageReader& image) {
  nlohmann::json doc;
  doc["inventory"] = image.inventory();
  const arch::Arch* a = image_arch(image.inventory());
  // A pre-dump holds only memory: each process's pagemap.
  if (image.inventory().value("kind", "") == "pre-dump") {
    doc["pre_dumped"] = nlohmann::json::object();
    for (const auto& [name, entry] : image.inventory().at("files").items()) {
      if (name.starts_with("pagemap-") && name.ends_with(".json"))
        doc["pre_dumped"][name.substr(8, name.size() - 13)] = image.json(name);
    }
    return doc;
  }
  doc["tree"] = image.json("tree.json");
  doc["files"] = image.json("files.json");
  if (doc["tree"].value("namespaces", nlohmann::json::object()).value("ipc", false))
    doc["ipc"] = image.json("ipc.json");
  if (doc["tree"].value("namespaces", nlohmann::json::object()).value("mnt", false))
    doc["mounts"] = image.json("mounts.json");
  // Written only by dump --manage-cgroups.
  if (image.inventory().at("files").contains("cgroups.json"))
    doc["cgroups"] = image.json("cgroups.json");
  for (const auto& p : doc["tree"]["processes"]) {
    if (p.value("zombie", false)) continue;
    std::string id = std::to_string(p.at("pid").get<int>());
    nlohmann::json proc;
    proc["task"] = image.json("task-" + id + ".json");
    proc["mm"] = image.json("mm-" + id + ".json");
    proc["pagemap"] = image.json("pagemap-" + id + ".json");
    for (const auto& tid : p.at("threads")) {
      nlohmann::json core = image.json("core-" + std::to_string(tid.get<int>()) + ".json");
      if (a != nullptr) core["decoded"] = decode_core(*a, core);
      proc["cores"].push_back(std::move(core));
    }
    doc["processes"][id] = proc;
  }
  return doc;
}

namespace {

// Keys are ints; ftok-style keys read best as unsigned hex.
std::uint32_t key_of(const nlohmann::json& object) {
  return static_cast<std::uint32_t>(object["perm"].value("key", std::int32_t{0}));
}

// The pages a pagemap lists as stored in its image, as held by the parent image, and as left
// on the source of a post-copy migration.
struct PageCounts {
  std::uint64_t stored = 0, in_parent = 0, remote = 0;
};

PageCounts page_counts(const nlohmann::json& pagemap) {
  PageCounts c;
  for (const auto& p : pagemap) {
    const auto n = p.value("npages", std::uint64_t{0});
    if (p.value("remote", false))
      c.remote += n;
    else
      (p.value("in_parent", false) ? c.in_parent : c.stored) += n;
  }
  return c;
}

// The mounts restore changes in the copy of ckpt's namespace; the inherited ones by count.
void print_mounts(const nlohmann::json& mounts, std::ostream& out) {
  int inherited = 0;
  std::vector<std::string> made;
  for (const auto& m : mounts.value("mounts", nlohmann::json::array())) {
    const std::string how = m.value("how", "");
    if (how == "inherited") {
      ++inherited;
      continue;
    }
    std::string line =
        fmt::format("  {} {} {}", m.value("mountpoint", ""), how, m.value("fstype", ""));
    if (how == "bind")
      line += fmt::format(" from {}{}", m.value("from", ""),
                          m.value("from_tree", false) ? " (the tree's)" : "");
    if (const auto files = m.value("files", nlohmann::json::array()); !files.empty())
      line += fmt::format(", {} files", files.size());
    made.push_back(line + ", " + m.value("propagation", ""));
  }
  out << fmt::format("own mount namespace: {} mounts of ckpt's kept, {} made\n", inherited,
                     made.size());
  for (const std::string& line : made)
    out << line << "\n";
}

void print_ipc(const nlohmann::json& ipc, std::ostream& out) {
  out << "own IPC namespace\n";
  for (const auto& s : ipc.value("shm", nlohmann::json::array()))
    out << fmt::format("  shm segment {} key {:#x} mode {:03o} {} bytes{}{}\n", s.value("id", 0),
                       key_of(s), s["perm"].value("mode", 0), s.value("size", 0),
                       s.value("removed", false) ? " removed" : "",
                       s.value("locked", false) ? " locked" : "");
  for (const auto& s : ipc.value("sem", nlohmann::json::array()))
    out << fmt::format("  semaphore set {} key {:#x} mode {:03o} values {}\n", s.value("id", 0),
                       key_of(s), s["perm"].value("mode", 0),
                       s.value("values", nlohmann::json::array()).dump());
  for (const auto& q : ipc.value("msg", nlohmann::json::array()))
    out << fmt::format("  message queue {} key {:#x} mode {:03o} {} messages\n", q.value("id", 0),
                       key_of(q), q["perm"].value("mode", 0),
                       q.value("messages", nlohmann::json::array()).size());
}

}  // namespace

void print_image(const nlohmann::json& doc, std::ostream& out) {
  const auto& inv = doc["inventory"];
  const arch::Arch* a = image_arch(inv);
  out << fmt::format("image format {} · arch {} ({}-endian, {} B pages) · kernel {} · {}\n",
                     inv.value("format_version", 0), inv.value("arch", "?"),
                     inv.value("endianness", "?"), inv.value("page_size", 0),
                     inv.value("kernel_release", "?"), inv.value("created_by", "?"));
  if (a == nullptr) {
    out << "this ckpt has no register table for arch " << inv.value("arch", "?")
        << ": registers are listed by name, undecoded\n";
  }
  if (inv.contains("parent"))
    out << fmt::format("follows the pre-dump {} (written pages found by {})\n",
                       inv.value("parent", ""), inv.value("track", "?"));
  if (doc.contains("pre_dumped")) {
    out << fmt::format("pre-dump: memory only; pages written after it are found by {}\n",
                       inv.value("track", "?"));
    for (const auto& [id, pagemap] : doc["pre_dumped"].items()) {
      const PageCounts c = page_counts(pagemap);
      out << fmt::format("process {}: {} pages stored, {} in the parent image\n", id, c.stored,
                         c.in_parent);
    }
    return;
  }
  if (const auto ns = doc["tree"].value("namespaces", nlohmann::json::object()); ns.is_object()) {
    if (ns.value("uts", false))
      out << fmt::format("own UTS namespace: hostname {} domain {}\n", ns.value("hostname", ""),
                         ns.value("domainname", ""));
    if (ns.value("ipc", false)) print_ipc(doc.value("ipc", nlohmann::json::object()), out);
    if (ns.value("net", false))
      out << fmt::format("own network namespace: lo {}\n",
                         ns.value("loopback_up", false) ? "up" : "down");
    if (ns.value("mnt", false)) print_mounts(doc.value("mounts", nlohmann::json::object()), out);
    if (ns.value("pid", false)) {
      std::vector<std::string> pids;
      for (const auto& p : ns.value("pids", nlohmann::json::array()))
        pids.push_back(fmt::format("{}={}", p.at(0).get<int>(), p.at(1).get<int>()));
      out << fmt::format("own PID namespace: {}\n", fmt::join(pids, " "));
    }
  }
  const auto cgroups = doc.value("cgroups", nlohmann::json::object());
  auto cgroup = [](const nlohmann::json& cg) {
    return fmt::format("{}:{}", cg.value("controllers", ""), cg.value("path", ""));
  };
  for (const auto& d : cgroups.value("dirs", nlohmann::json::array())) {
    std::vector<std::string> props;
    for (const auto& p : d.value("properties", nlohmann::json::array()))
      props.push_back(p.value("name", "") + "=" + p.value("value", ""));
    out << fmt::format("cgroup {} {}\n", cgroup(d.value("cgroup", nlohmann::json::object())),
                       fmt::join(props, " "));
  }
  for (const auto& p : doc["tree"]["processes"]) {
    if (p.value("zombie", false))
      out << fmt::format("\nzombie {} (child of {}) wait status {:#x}\n", p.value("pid", 0),
                         p.value("ppid", 0), p.value("exit_code", 0));
  }
  for (const auto& [id, proc] : doc["processes"].items()) {
    const auto& t = proc["task"];
    out << fmt::format("\nprocess {} ({}) ppid {} pgid {} sid {} cwd {} umask {:03o}{}{}\n", id,
                       t.value("comm", ""), t.value("ppid", 0), t.value("pgid", 0),
                       t.value("sid", 0), t.value("cwd", ""), t.value("umask", 0u),
                       t.value("stopped", false) ? " stopped" : "",
                       t.value("child_subreaper", false) ? " subreaper" : "");
    for (const auto& c : cgroups.value("processes", nlohmann::json::array())) {
      if (std::to_string(c.value("pid", 0)) != id) continue;
      std::vector<std::string> in;
      for (const auto& cg : c.value("cgroups", nlohmann::json::array()))
        in.push_back(cgroup(cg));
      out << fmt::format("  cgroups {}\n", fmt::join(in, " "));
    }
    const PageCounts pc = page_counts(proc["pagemap"]);
    out << fmt::format(
        "  {} mappings, {} pages stored{}{}, exe {}\n", proc["mm"]["vmas"].size(), pc.stored,
        pc.in_parent == 0 ? "" : fmt::format(", {} in the parent image", pc.in_parent),
        pc.remote == 0 ? "" : fmt::format(", {} left on the migration's source", pc.remote),
        proc["mm"].value("exe", ""));
    for (const auto& v : proc["mm"]["vmas"]) {
      int prot = v.value("prot", 0);
      out << fmt::format("  {:012x}-{:012x} {}{}{}{} {:<6} {}\n",
                         v.value("start", std::uint64_t{0}), v.value("end", std::uint64_t{0}),
                         prot & 1 ? 'r' : '-', prot & 2 ? 'w' : '-', prot & 4 ? 'x' : '-',
                         v.value("shared", false) ? 's' : 'p', v.value("kind", ""),
                         v.value("path", ""));
    }
    for (const auto& it : t.value("itimers", nlohmann::json::array()))
      out << fmt::format("  interval timer {} left {}.{:06}s period {}.{:06}s\n",
                         it.value("which", 0), it.value("value_sec", 0L),
                         it.value("value_usec", 0L), it.value("interval_sec", 0L),
                         it.value("interval_usec", 0L));
    for (const auto& pt : t.value("posix_timers", nlohmann::json::array()))
      out << fmt::format(
          "  POSIX timer {} clock {} notify {} signal {} value {:#x} left "
          "{}.{:09}s period {}.{:09}s\n",
          pt.value("id", 0), pt.value("clockid", 0), pt.value("notify", 0), pt.value("signo", 0),
          pt.value("sigval", std::uint64_t{0}), pt.value("value_sec", 0L),
          pt.value("value_nsec", 0L), pt.value("interval_sec", 0L), pt.value("interval_nsec", 0L));
    int n = 0;
    for (const auto& f : t["seccomp_filters"])
      out << fmt::format("  seccomp filter {}: {} instructions on {}, flags {:#x}\n", n++,
                         f.value("insns", std::string()).size() / 16, f.value("prev", -1),
                         f.value("flags", std::uint64_t{0}));
    for (const auto& fd : t["fds"]) {
      const int file = fd.value("file", -1);
      const auto& files = doc["files"]["files"];
      const nlohmann::json f = file >= 0 && static_cast<std::size_t>(file) < files.size()
                                   ? files[static_cast<std::size_t>(file)]
                                   : nlohmann::json::object();
      std::string queued;
      const int pipe = f.value("pipe", -1);
      if (pipe >= 0 && static_cast<std::size_t>(pipe) < doc["files"]["pipes"].size())
        queued =
            fmt::format(", {} bytes queued",
                        doc["files"]["pipes"][static_cast<std::size_t>(pipe)].value("length", 0));
      const int event = f.value("event", -1);
      if (event >= 0 && static_cast<std::size_t>(event) < doc["files"]["events"].size())
        queued += event_state(f.value("kind", ""),
                              doc["files"]["events"][static_cast<std::size_t>(event)]);
      const int socket = f.value("socket", -1);
      const auto& sockets = doc["files"].value("sockets", nlohmann::json::array());
      if (socket >= 0 && static_cast<std::size_t>(socket) < sockets.size())
        queued += socket_state(sockets[static_cast<std::size_t>(socket)], sockets);
      const int inet = f.value("inet", -1);
      const auto& inets = doc["files"].value("inet_sockets", nlohmann::json::array());
      if (inet >= 0 && static_cast<std::size_t>(inet) < inets.size())
        queued += inet_state(inets[static_cast<std::size_t>(inet)]);
      out << fmt::format("  fd {} file {}: {} {} pos {}{}{}\n", fd.value("fd", 0), file,
                         f.value("kind", "?"), f.value("path", ""), f.value("pos", 0), queued,
                         fd.value("cloexec", false) ? " cloexec" : "");
    }
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
      if (c.contains("decoded")) {
        const auto& d = c["decoded"];
        out << fmt::format("    pc {} sp {} thread pointer {}\n", d.value("pc", ""),
                           d.value("sp", ""), d.value("tls", ""));
      }
      // In the order of the arch's register table, as its debuggers list them.
      std::vector<std::string> names;
      if (a != nullptr) {
        for (const arch::RegDesc& r : a->gp_regs)
          names.emplace_back(r.name);
      } else {
        for (const auto& [name, value] : c["regs"].items())
          names.push_back(name);
      }
      int col = 0;
      for (const std::string& name : names) {
        out << fmt::format("    {:>9} {}", name, c["regs"].value(name, "?"))
            << (++col % 3 ? "" : "\n");
      }
      if (col % 3) out << "\n";
    }
  }
}

}  // namespace crossrig::engine
