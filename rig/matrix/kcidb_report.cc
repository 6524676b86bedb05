#include <cctype>
#include <cmath>
#include <regex>
#include <set>
#include <string>
#include <string_view>

#include "common/percent_encode.h"
#include "rig/matrix/reports.h"

namespace crossrig::rig::matrix {
namespace {

using nlohmann::json;

constexpr const char* kOrigin = "crossrig";
// The schema's limit on log_excerpt, in characters; cutting bytes keeps under it.
constexpr std::size_t kMaxExcerpt = 16384;

// Strings reach KCIDB as JSON, which must be UTF-8, and the schema forbids NUL in every text
// field. Names and errors may carry console bytes, so broken sequences become U+FFFD (nlohmann's
// replacing serializer does the decoding) and NULs are dropped.
std::string clean(const std::string& s) {
  std::string text =
      json::parse(json(s).dump(-1, ' ', false, json::error_handler_t::replace)).get<std::string>();
  std::erase(text, '\0');
  return text;
}

bool rfc3339(const std::string& s) {
  static const std::regex kTime(
      R"(\d{4}-(0[1-9]|1[0-2])-(0[1-9]|[12]\d|3[01])[Tt]([01]\d|2[0-3]):[0-5]\d:([0-5]\d|60))"
      R"((\.\d+)?([Zz]|[+-]([01]\d|2[0-3]):[0-5]\d))");
  return std::regex_match(s, kTime);
}

// An absolute URI as RFC 3986 spells it: a scheme, then only characters a URI may hold.
bool absolute_uri(std::string_view s) {
  static const std::regex kUri(
      R"([A-Za-z][A-Za-z0-9+.-]*:([A-Za-z0-9._~:/?#@!$&'()*+,;=-]|\[|\]|%[0-9A-Fa-f]{2})*)");
  return std::regex_match(s.begin(), s.end(), kUri);
}

// Where a file of the night's directory is published; "" when there is no file, or when
// url_base does not make an absolute URL (KCIDB's URLs must be, a bare path would fail it).
std::string link(const Links& links, const std::string& date, const std::string& relative) {
  if (relative.empty()) return "";
  std::string base = links.url_base;
  if (!base.empty() && base.back() != '/') base += '/';
  std::string url = base + percent_encode_path(date + "/" + relative);
  return absolute_uri(url) ? url : "";
}

// The test's place in KCIDB's dot-separated tree: "ckpt/restore_threads" is
// "ckpt.restore_threads". The schema allows only [A-Za-z0-9_-] in a segment and no empty
// segment, so other bytes become '_' and an empty segment is "_".
std::string test_path(const std::string& name) {
  std::string out;
  std::string segment;
  auto close = [&] {
    out += segment.empty() ? "_" : segment;
    segment.clear();
  };
  for (unsigned char c : name) {
    if (c == '/') {
      close();
      out += '.';
    } else {
      segment += std::isalnum(c) || c == '_' || c == '-' ? static_cast<char>(c) : '_';
    }
  }
  close();
  return out;
}

const char* kcidb_status(Status s) {
  switch (s) {
    case Status::kPass:
      return "PASS";
    case Status::kFail:
      return "FAIL";
    case Status::kSkip:
      return "SKIP";
    case Status::kError:
      return "ERROR";
    case Status::kMiss:
      return "MISS";
  }
  return "ERROR";
}

void set_time(json& object, const char* key, const std::string& time) {
  if (rfc3339(time)) object[key] = time;
}

void set_text(json& object, const char* key, const std::string& text) {
  if (!text.empty()) object[key] = clean(text);
}

// Zero is the data model's "not measured" (a job that did not run), so it is left out.
void set_seconds(json& object, const char* key, double seconds) {
  if (std::isfinite(seconds) && seconds > 0) object[key] = seconds;
}

std::string build_id(const Night& night, const std::string& arch) {
  return std::string(kOrigin) + ":" + night.date + ":build:" + clean(arch);
}

bool lower_hex40(const std::string& s) {
  return s.size() == 40 && s.find_first_not_of("0123456789abcdef") == std::string::npos;
}

json checkout(const Night& night, const std::string& id) {
  const Source& src = night.source;
  json c = {{"id", id}, {"origin", kOrigin}, {"valid", true}};
  if (src.repository.starts_with("https://") && absolute_uri(src.repository)) {
    c["git_repository_url"] = src.repository;
  }
  if (lower_hex40(src.commit)) c["git_commit_hash"] = src.commit;
  set_text(c, "git_repository_branch", src.branch);
  set_text(c, "git_commit_name", src.describe);
  set_text(c, "comment", src.describe);
  set_time(c, "start_time", night.started);
  set_time(c, "origin_tests_finish_time", night.finished);
  return c;
}

json output_file(const std::string& path) {
  // A resource's name must be a plain file name; the path's last component is one.
  std::string name = clean(path.substr(path.find_last_of('/') + 1));
  std::string url = "file://" + percent_encode_path(path);
  if (!path.starts_with('/') || name.empty() || !absolute_uri(url)) return nullptr;
  return {{"name", name}, {"url", url}};
}

// The schema allows only [a-z0-9_] in an architecture; any other name is kept in misc.
void set_architecture(json& object, const std::string& arch) {
  static const std::regex kArch("[a-z0-9_]*");
  if (std::regex_match(arch, kArch)) {
    object["architecture"] = arch;
  } else {
    object["misc"]["arch"] = clean(arch);
  }
}

json build(const Night& night, const Build& b, const std::string& checkout_id, const Links& links) {
  json out = {{"id", build_id(night, b.arch)},
              {"checkout_id", checkout_id},
              {"origin", kOrigin},
              {"status", b.ok ? "PASS" : "FAIL"}};
  set_architecture(out, b.arch);
  set_text(out, "command", b.command);
  set_seconds(out, "duration", b.seconds);
  set_time(out, "start_time", b.started);
  if (auto log = link(links, night.date, b.log); !log.empty()) out["log_url"] = log;
  json files = json::array();
  for (const auto* path : {&b.kernel, &b.ramdisk}) {
    if (json file = output_file(*path); !file.is_null()) files.push_back(std::move(file));
  }
  if (!files.empty()) out["output_files"] = std::move(files);
  if (!b.kernel_release.empty()) out["misc"]["kernel_release"] = clean(b.kernel_release);
  if (!b.source.empty()) out["misc"]["source"] = clean(b.source);
  return out;
}

// A board's arch with no build this night (the kernels came from elsewhere, e.g. a run without
// builds): its tests still need a build to point at. The build carries no status, which KCIDB
// reads as "not known", so it neither passes nor fails anything.
json external_build(const Night& night, const std::string& arch, const std::string& checkout_id) {
  json out = {{"id", build_id(night, arch)},
              {"checkout_id", checkout_id},
              {"origin", kOrigin},
              {"comment", "not built by this run: the boards booted kernels made elsewhere"}};
  set_architecture(out, arch);
  return out;
}

// What every test of a board shares: its build, where and when it ran, its log.
json board_test(const Night& night, const Column& column, const BoardRun* run,
                const std::string& id, const std::string& path, const char* status) {
  json t = {{"id", id},
            {"build_id", build_id(night, column.arch)},
            {"origin", kOrigin},
            {"path", path},
            {"status", status}};
  t["environment"]["comment"] =
      clean(column.board + " (" + column.arch + ", " + column.boot + ") on " + night.host);
  t["environment"]["misc"] = {
      {"board", clean(column.board)}, {"arch", clean(column.arch)}, {"boot", clean(column.boot)}};
  if (run) set_time(t, "start_time", run->started);
  return t;
}

std::string history(const Cell& cell) {
  if (cell.regression && !cell.last_pass.empty()) return "regression: passed on " + cell.last_pass;
  if (!cell.failing_since.empty()) return "failing since " + cell.failing_since;
  return "";
}

json cell_test(const Night& night, const Column& column, const BoardRun* run,
               const std::string& board_id, const std::string& name, const Cell& cell,
               const Links& links) {
  json t = board_test(night, column, run, board_id + ":" + clean(name), test_path(name),
                      kcidb_status(cell.status));
  if (auto log = link(links, night.date, cell.log); !log.empty()) t["log_url"] = log;
  if (cell.measurement && std::isfinite(*cell.measurement)) {
    t["number"]["value"] = *cell.measurement;
    if (!cell.units.empty()) t["number"]["unit"] = clean(cell.units);
  }
  std::string comment = cell.status == Status::kMiss ? "not reported tonight" : "";
  if (std::string since = history(cell); !since.empty()) {
    comment += comment.empty() ? since : "; " + since;
  }
  set_text(t, "comment", comment);
  t["misc"]["regression"] = cell.regression;
  t["misc"]["fixed"] = cell.fixed;
  if (!cell.failing_since.empty()) t["misc"]["failing_since"] = cell.failing_since;
  if (!cell.last_pass.empty()) t["misc"]["last_pass"] = cell.last_pass;
  return t;
}

// As in the JUnit report: a job that could not run, or failed without a failing test, is a
// test of its own so the board's outcome is never missing from the totals. Null otherwise.
json job_test(const Night& night, const Column& column, const BoardRun* run,
              const std::string& board_id, bool failure_reported, const Links& links) {
  std::string why;
  const char* status = nullptr;
  if (column.result == "error") {
    why = column.error.empty() ? "the job did not complete" : column.error;
    status = "ERROR";
  } else if (column.result == "fail" && !failure_reported) {
    why = "the job failed but no test of it failed";
    status = "FAIL";
  }
  if (status == nullptr) return nullptr;
  json t = board_test(night, column, run, board_id, "job", status);
  std::string excerpt = clean(why);
  if (excerpt.size() > kMaxExcerpt) excerpt.resize(kMaxExcerpt);
  t["log_excerpt"] = clean(excerpt);
  t["comment"] = clean(why);
  if (auto log = link(links, night.date, column.console_log); !log.empty()) t["log_url"] = log;
  if (run) set_seconds(t, "duration", run->seconds);
  return t;
}

}  // namespace

nlohmann::json kcidb_json(const Night& night, const MatrixView& view, const Links& links) {
  const std::string commit =
      lower_hex40(night.source.commit) ? night.source.commit.substr(0, 12) : "local";
  const std::string checkout_id = std::string(kOrigin) + ":" + night.date + ":" + commit;

  json builds = json::array();
  std::set<std::string> built;
  for (const auto& b : night.builds) {
    builds.push_back(build(night, b, checkout_id, links));
    built.insert(b.arch);
  }
  for (const auto& column : view.columns) {
    if (built.insert(column.arch).second) {
      builds.push_back(external_build(night, column.arch, checkout_id));
    }
  }

  json tests = json::array();
  for (const auto& column : view.columns) {
    const BoardRun* run = night.find(column.board);
    const std::string board_id =
        std::string(kOrigin) + ":" + night.date + ":" + clean(column.board);
    bool failure_reported = false;
    for (const auto& name : view.tests) {
      const Cell* cell = view.cell(name, column.board);
      if (cell == nullptr) continue;
      tests.push_back(cell_test(night, column, run, board_id, name, *cell, links));
      failure_reported |= cell->status == Status::kFail || cell->status == Status::kError;
    }
    if (json job = job_test(night, column, run, board_id, failure_reported, links);
        !job.is_null()) {
      tests.push_back(std::move(job));
    }
  }

  return {{"version", {{"major", 5}, {"minor", 3}}},
          {"checkouts", json::array({checkout(night, checkout_id)})},
          {"builds", std::move(builds)},
          {"tests", std::move(tests)}};
}

}  // namespace crossrig::rig::matrix
