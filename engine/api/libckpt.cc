#include "engine/api/libckpt.h"

#include "engine/dump.h"
#include "engine/restore.h"

namespace crossrig::ckpt {
namespace {

// What dump and pre-dump share: ckpt dump and ckpt pre-dump fill the same fields.
engine::DumpOptions chain_options(const Options& opts) {
  engine::DumpOptions o;
  o.pid = opts.pid;
  o.dir = opts.images_dir;
  o.prev_dir = opts.prev_images_dir;
  o.action_scripts = opts.action_scripts;
  return o;
}

}  // namespace

void dump(const Options& opts) {
  engine::DumpOptions o = chain_options(opts);
  o.leave_running = opts.leave_running;
  o.shell_job = opts.shell_job;
  o.tcp_established = opts.tcp_established;
  engine::dump(o);
}

void pre_dump(const Options& opts) {
  engine::DumpOptions o = chain_options(opts);
  o.pre_dump = true;
  engine::dump(o);
}

Restored restore(const Options& opts) {
  engine::RestoreOptions o;
  o.dir = opts.images_dir;
  o.detach = opts.detach;
  o.action_scripts = opts.action_scripts;
  o.shell_job = opts.shell_job;
  const engine::RestoreResult r = engine::restore(o);
  return {r.pid, r.status};
}

CheckResult check() {
  CheckResult r;
  r.findings = engine::check_kernel();
  r.usable = engine::all_required_ok(r.findings);
  return r;
}

}  // namespace crossrig::ckpt
