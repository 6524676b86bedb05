#include "engine/migrate.h"

#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <system_error>

#include "common/hex.h"
#include "engine/ckpt_error.h"
#include "engine/dump.h"
#include "engine/image_transfer.h"
#include "engine/phase.h"
#include "engine/post_copy.h"

namespace crossrig::engine {

namespace fs = std::filesystem;
using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

namespace {

// Restoring a big tree eagerly on a slow board takes a while; the destination answers once
// the tree is held.
constexpr auto kRestoreBudget = 10min;
constexpr auto kCommitBudget = 60s;

// The directory holding the rounds' metadata, removed at the end when it is ours.
class WorkDir {
 public:
  explicit WorkDir(const std::string& given) {
    if (!given.empty()) {
      path_ = given;
      std::error_code ec;
      fs::create_directories(path_, ec);
      if (!fs::is_directory(path_))
        throw CkptError(CkptError::kUsage,
                        "--work-dir " + path_ + ": cannot make the directory: " + ec.message());
      return;
    }
    const char* tmp = std::getenv("TMPDIR");
    std::string tmpl =
        std::string(tmp != nullptr && *tmp != '\0' ? tmp : "/tmp") + "/ckpt-migrate-XXXXXX";
    if (::mkdtemp(tmpl.data()) == nullptr) throw_errno("making a work directory like " + tmpl);
    path_ = tmpl;
    owned_ = true;
  }
  WorkDir(const WorkDir&) = delete;
  WorkDir& operator=(const WorkDir&) = delete;
  ~WorkDir() {
    if (!owned_) return;
    std::error_code ec;
    fs::remove_all(path_, ec);
  }
  std::string operator/(const std::string& name) const { return path_ + "/" + name; }

 private:
  std::string path_;
  bool owned_ = false;
};

double ms_since(Clock::time_point t) {
  return std::chrono::duration<double, std::milli>(Clock::now() - t).count();
}

std::string mib(std::uint64_t bytes) {
  char text[32];
  std::snprintf(text, sizeof text, "%.1f MiB", static_cast<double>(bytes) / (1 << 20));
  return text;
}

// v with this many decimals.
std::string decimals(double v, int places) {
  char text[32];
  std::snprintf(text, sizeof text, "%.*f", places, v);
  return text;
}

// A dump of the migration's chain into dir, after prev, sent over sender.
DumpOptions chain_dump(const MigrateOptions& opts, ImageSender& sender, std::string dir,
                       const std::string& prev) {
  DumpOptions o;
  o.pid = opts.pid;
  o.dir = std::move(dir);
  o.prev_dir = prev;
  o.track = opts.track;
  o.sender = &sender;
  return o;
}

// Pre-dumps while the tree runs, until a round finds little written or stops shrinking;
// prev becomes the last round's local directory.
void pre_copy(const MigrateOptions& opts, ImageSender& sender, const WorkDir& work,
              MigrateResult& result, std::string& prev,
              const std::function<void(const std::string&)>& progress) {
  for (unsigned round = 1; round <= opts.iterations; ++round) {
    enter_phase("migrate-round");
    const Clock::time_point t = Clock::now();
    DumpOptions o = chain_dump(opts, sender, work / ("pre-" + std::to_string(round)), prev);
    o.pre_dump = true;
    const DumpResult d = dump(o);
    MigrateRound r;
    r.bytes = d.pages_bytes;
    if (const std::uint64_t present = d.pages_bytes + d.pages_in_parent; round > 1 && present > 0)
      r.dirty_percent = 100.0 * static_cast<double>(d.pages_bytes) / static_cast<double>(present);
    r.seconds = ms_since(t) / 1000;
    result.tracking = d.tracking;
    prev = o.dir;
    progress("round " + std::to_string(round) + ": " + mib(r.bytes) + " sent (" +
             decimals(r.dirty_percent, 1) + "% of memory written) in " + decimals(r.seconds, 2) +
             " s");
    // Pages no tracking covers are sent every round: in a small tree they alone can keep a
    // round above the goal, and another round would send them again.
    const bool converged =
        round > 1 && (r.dirty_percent < opts.goal_percent || r.bytes >= result.rounds.back().bytes);
    result.rounds.push_back(r);
    if (converged) return;
  }
}

// Post-copy: serves the destination's requests for the pages the final dump left in the held
// tree, until it has them all.
void serve_pages(ImageSender& sender, const HeldTree& held, MigrateResult& result,
                 const std::function<void(const std::string&)>& progress) {
  enter_phase("migrate-post-copy");
  const Clock::time_point start = Clock::now();
  const PageRequests requests{[&] { return sender.next(kPostCopySilence, "serving pages"); },
                              [&](std::span<const std::uint8_t> pages) {
                                sender.tell(MessageType::kPages, pages, "sending pages");
                              }};
  result.post_copy_bytes = serve_remote_pages(held.pids, requests, progress);
  result.post_copy_ms = ms_since(start);
}

// Freezes the tree and sends its final dump; the destination restores and holds it, and the
// two commit (migrate.h).
void final_dump(const MigrateOptions& opts, ImageSender& sender, const WorkDir& work,
                const std::string& prev, MigrateResult& result,
                const std::function<void(const std::string&)>& progress) {
  const std::string dest = format_host_port(opts.to);
  enter_phase("migrate-final");
  const Clock::time_point freeze = Clock::now();
  // Once COMMIT may be out, an interrupt must not make us resume: the destination runs it.
  std::optional<InterruptsHeld> committing;
  DumpOptions f = chain_dump(opts, sender, work / "dump", prev);
  f.leave_remote = opts.lazy;
  f.decide = [&](const DumpResult& d, HeldTree& held) {
    result.final_bytes = d.pages_bytes;
    result.remote_bytes = d.pages_remote;
    progress("frozen: " + mib(d.pages_bytes) + " sent in " + decimals(ms_since(freeze), 0) + " ms" +
             (opts.lazy ? ", " + mib(d.pages_remote) + " left for post-copy" : "") +
             "; restoring on " + dest);
    enter_phase("migrate-restore");
    const std::string request = nlohmann::json{{"image", "dump"}, {"lazy", opts.lazy}}.dump();
    sender.tell(MessageType::kRestore, as_bytes(request), "asking it to restore");
    sender.await(MessageType::kRestored, kRestoreBudget, "restoring");
    enter_phase("migrate-commit");
    committing.emplace("migrate-commit");
    // From the commit on the destination may run the tree: should we die now, ours must too.
    held.die_with_ckpt(true);
    try {
      sender.tell(MessageType::kCommit, {}, "committing");
      enter_phase("migrate-committed");
      sender.await(MessageType::kDone, kCommitBudget, "committing");
      result.downtime_ms = ms_since(freeze);
      // The destination's copy dies without every page, a lost link included: ours must stay
      // until then.
      if (opts.lazy) serve_pages(sender, held, result, progress);
    } catch (...) {
      // No word that the destination runs it (its copy dies with its ckpt): ours runs on.
      held.die_with_ckpt(false);
      throw;
    }
    return true;
  };
  dump(f);
}

}  // namespace

MigrateResult migrate(const MigrateOptions& opts,
                      const std::function<void(const std::string&)>& progress) {
  const Clock::time_point start = Clock::now();
  MigrateResult result;
  // Before the tree is touched: a destination that refuses us fails here.
  ImageSender sender(opts.to, opts.tls,
                     ServerRole{"destination", "start `ckpt receive --listen` there, or fix --to"});
  const WorkDir work(opts.work_dir);
  std::string prev;
  // What the final dump would refuse, refused before any round is sent: the tree is held
  // as briefly as for a dump without its pages.
  enter_phase("migrate-check");
  {
    DumpOptions check;
    check.pid = opts.pid;
    check.dir = work / "check";
    check.check_only = true;
    dump(check);
  }
  try {
    pre_copy(opts, sender, work, result, prev, progress);
    final_dump(opts, sender, work, prev, result, progress);
  } catch (...) {
    // The tree runs on here: without the pre-copy rounds' tracking of written pages, which a
    // final dump that failed after its commit has ended already (a second end finds no
    // userfaultfd left).
    try {
      end_tracking(opts.pid, prev);
    } catch (const std::exception& e) {
      progress(std::string("could not end the tracking of written pages in the tree: ") + e.what());
    }
    throw;
  }
  result.total_ms = ms_since(start);
  progress("running on " + format_host_port(opts.to) + " after " + decimals(result.downtime_ms, 0) +
           " ms frozen; the copy here is killed");
  return result;
}

}  // namespace crossrig::engine
