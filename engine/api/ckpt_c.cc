// The C functions of ckpt.h over the C++ API of libckpt.h: options converted, every exception
// turned into a status and this thread's message.
#include <algorithm>
#include <cstring>
#include <exception>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "engine/api/ckpt.h"
#include "engine/api/libckpt.h"

namespace {

using crossrig::ckpt::Error;

constexpr bool same(ckpt_status status, Error::Kind kind) {
  return static_cast<int>(status) == static_cast<int>(kind);
}
static_assert(same(CKPT_E_USAGE, Error::kUsage) && same(CKPT_E_UNSUPPORTED, Error::kUnsupported) &&
                  same(CKPT_E_BAD_IMAGE, Error::kBadImage) && same(CKPT_E_SYSTEM, Error::kSystem) &&
                  same(CKPT_E_DENIED, Error::kDenied),
              "ckpt.h's codes are ckpt's exit codes, CkptError's kinds");

thread_local std::string t_last_error;

void remember(const char* prefix, const char* what) noexcept {
  try {
    t_last_error = std::string(prefix) + what;
  } catch (...) {
    // No memory for the message: the status still says what kind of failure it was.
    t_last_error.clear();
  }
}

// Runs f, the status of what it threw (or CKPT_OK) returned; nothing escapes to C.
template <typename F>
ckpt_status guarded(F&& f) noexcept {
  try {
    std::forward<F>(f)();
    t_last_error.clear();
    return CKPT_OK;
  } catch (const Error& e) {
    remember("", e.what());
    return static_cast<ckpt_status>(e.kind());
  } catch (const std::exception& e) {
    remember("internal error: ", e.what());
  } catch (...) {
    remember("internal error: ", "an exception that is no std::exception");
  }
  return CKPT_E_INTERNAL;
}

// No plausible ckpt_opts grows this big: a larger size is the garbage of a struct that
// ckpt_opts_init() never filled, and reading that far would leave the caller's object.
constexpr std::size_t kMaxOptsSize = 4096;

// The caller's struct as this library's: fields past an older caller's size keep their
// defaults, and a newer caller may not have set fields this library lacks (clone3's rule).
ckpt_opts known_fields(const ckpt_opts* in) {
  if (in == nullptr) {
    throw Error(Error::kUsage, "no options: pass a struct ckpt_opts filled by ckpt_opts_init()");
  }
  const std::size_t mine = sizeof(ckpt_opts);
  if (in->size < sizeof in->size || in->size > kMaxOptsSize) {
    throw Error(Error::kUsage, "struct ckpt_opts of size " + std::to_string(in->size) +
                                   " was not filled by ckpt_opts_init()");
  }
  ckpt_opts out{};
  ckpt_opts_init(&out);
  std::memcpy(&out, in, std::min(in->size, mine));
  const auto* bytes = reinterpret_cast<const unsigned char*>(in);
  if (std::any_of(bytes + std::min(in->size, mine), bytes + in->size,
                  [](unsigned char b) { return b != 0; })) {
    throw Error(Error::kUsage, "struct ckpt_opts of " + std::to_string(in->size) +
                                   " bytes sets fields this libckpt (" + std::to_string(mine) +
                                   " bytes) does not know: build against its ckpt.h");
  }
  out.size = mine;
  return out;
}

crossrig::ckpt::Options cpp_options(const ckpt_opts* in) {
  const ckpt_opts c = known_fields(in);
  crossrig::ckpt::Options o;
  o.pid = c.pid;
  o.images_dir = c.images_dir != nullptr ? c.images_dir : "";
  o.prev_images_dir = c.prev_images_dir != nullptr ? c.prev_images_dir : "";
  o.leave_running = c.leave_running;
  o.shell_job = c.shell_job;
  o.tcp_established = c.tcp_established;
  o.detach = c.detach;
  for (const char* const* s = c.action_scripts; s != nullptr && *s != nullptr; ++s)
    o.action_scripts.emplace_back(*s);
  return o;
}

// ckpt_findings with the C++ findings its strings point into.
struct Findings : ckpt_findings {
  explicit Findings(std::vector<crossrig::ckpt::Finding> f) : ckpt_findings{}, held(std::move(f)) {
    for (const crossrig::ckpt::Finding& x : held) {
      c_items.push_back(
          {x.feature.c_str(), x.ok, x.required, x.detail.c_str(), x.consequence.c_str()});
    }
    count = c_items.size();
    items = c_items.data();
  }
  std::vector<crossrig::ckpt::Finding> held;
  std::vector<ckpt_finding> c_items;
};

}  // namespace

extern "C" {

ckpt_status ckpt_dump(const ckpt_opts* opts) {
  return guarded([&] { crossrig::ckpt::dump(cpp_options(opts)); });
}

ckpt_status ckpt_pre_dump(const ckpt_opts* opts) {
  return guarded([&] { crossrig::ckpt::pre_dump(cpp_options(opts)); });
}

ckpt_status ckpt_restore(const ckpt_opts* opts, pid_t* pid, int* exit_status) {
  return guarded([&] {
    const crossrig::ckpt::Restored r = crossrig::ckpt::restore(cpp_options(opts));
    if (pid != nullptr) *pid = r.pid;
    if (exit_status != nullptr) *exit_status = r.exit_status;
  });
}

ckpt_status ckpt_check(ckpt_findings** findings) {
  if (findings != nullptr) *findings = nullptr;
  std::unique_ptr<Findings> made;
  const ckpt_status status = guarded([&] {
    if (findings == nullptr)
      throw Error(Error::kUsage, "ckpt_check needs where to put the findings");
    crossrig::ckpt::CheckResult r = crossrig::ckpt::check();
    made = std::make_unique<Findings>(std::move(r.findings));
    if (r.usable) return;
    std::string missing;
    for (const crossrig::ckpt::Finding& f : made->held) {
      if (f.required && !f.ok)
        missing += (missing.empty() ? "" : "; ") + f.feature + ": " + f.detail;
    }
    throw Error(Error::kUnsupported, "this system lacks what dump and restore require: " + missing);
  });
  if (status == CKPT_OK || status == CKPT_E_UNSUPPORTED) *findings = made.release();
  return status;
}

void ckpt_findings_free(ckpt_findings* findings) {
  delete static_cast<Findings*>(findings);
}

ckpt_status ckpt_dump_self(const char* service_address, const ckpt_opts* opts, bool* restored) {
  return guarded([&] {
    if (service_address == nullptr)
      throw Error(Error::kUsage, "ckpt_dump_self needs the service's socket path");
    const auto r = crossrig::ckpt::dump_self(service_address, cpp_options(opts));
    if (restored != nullptr) *restored = r == crossrig::ckpt::SelfDump::kRestored;
  });
}

const char* ckpt_last_error(void) {
  return t_last_error.c_str();
}

}  // extern "C"
