#include "rig/matrix/night.h"

#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <stdexcept>

namespace crossrig::rig::matrix {
namespace {

constexpr std::pair<Status, std::string_view> kStatusNames[] = {{Status::kPass, "pass"},
                                                                {Status::kFail, "fail"},
                                                                {Status::kSkip, "skip"},
                                                                {Status::kError, "error"},
                                                                {Status::kMiss, "miss"}};

nlohmann::json optional_seconds(const std::optional<double>& s) {
  return s ? nlohmann::json(*s) : nlohmann::json(nullptr);
}

/// Reads fields of one JSON object, naming the object and field in every error.
class Fields {
 public:
  Fields(const nlohmann::json& j, std::string where) : j_(j), where_(std::move(where)) {
    if (!j_.is_object()) fail("", "is not an object");
  }

  std::string text(const char* key, bool required = false) const {
    const auto it = j_.find(key);
    if (it == j_.end() || it->is_null()) {
      if (required) fail(key, "is missing");
      return {};
    }
    if (!it->is_string()) fail(key, "is not a string");
    return it->get<std::string>();
  }

  std::optional<double> number(const char* key) const {
    const auto it = j_.find(key);
    if (it == j_.end() || it->is_null()) return std::nullopt;
    if (!it->is_number()) fail(key, "is not a number");
    return it->get<double>();
  }

  /// A number, or the text of one as LAVA signal lines carry it (rig run keeps it as text).
  /// Text that is no number is no measurement: the test's result still counts, as in LAVA.
  std::optional<double> measurement(const char* key) const {
    const auto it = j_.find(key);
    if (it == j_.end() || !it->is_string()) return number(key);
    const std::string text = it->get<std::string>();
    char* end = nullptr;
    const double value = std::strtod(text.c_str(), &end);
    if (text.empty() || *end != '\0' || !std::isfinite(value)) return std::nullopt;
    return value;
  }

  bool flag(const char* key) const {
    const auto it = j_.find(key);
    if (it == j_.end() || !it->is_boolean()) fail(key, "is not true or false");
    return it->get<bool>();
  }

  const nlohmann::json& array(const char* key) const {
    static const nlohmann::json kEmpty = nlohmann::json::array();
    const auto it = j_.find(key);
    if (it == j_.end() || it->is_null()) return kEmpty;
    if (!it->is_array()) fail(key, "is not an array");
    return *it;
  }

  const nlohmann::json& object(const char* key) const {
    static const nlohmann::json kEmpty = nlohmann::json::object();
    const auto it = j_.find(key);
    if (it == j_.end() || it->is_null()) return kEmpty;
    return *it;
  }

  std::string where(const std::string& sub) const { return where_ + "." + sub; }

  [[noreturn]] void fail(const std::string& key, const std::string& what) const {
    throw std::runtime_error(where_ + (key.empty() ? "" : "." + key) + " " + what);
  }

 private:
  const nlohmann::json& j_;
  std::string where_;
};

TestResult test_from(const nlohmann::json& j, const std::string& where) {
  Fields f(j, where);
  TestResult t;
  t.name = f.text("name", true);
  const std::string result = f.text("result", true);
  const auto status = parse_status(result);
  if (!status) f.fail("result", "is '" + result + "', not pass, fail, skip, error or miss");
  t.status = *status;
  t.measurement = f.measurement("measurement");
  t.units = f.text("units");
  return t;
}

/// What results.json and rig run's results say alike of a board's job: who ran it, its result,
/// the last attempt's times and its tests.
BoardRun job_fields(const Fields& f, const std::string& where) {
  BoardRun r;
  r.board = f.text("board", true);
  r.arch = f.text("arch", true);
  r.boot = f.text("boot");
  r.result = f.text("result", true);
  r.error = f.text("error");
  Fields times(f.object("times"), where + ".times");
  r.firmware_s = times.number("firmware");
  r.kernel_s = times.number("kernel");
  r.job_s = times.number("job");
  const auto& tests = f.array("tests");
  for (std::size_t t = 0; t < tests.size(); ++t) {
    r.tests.push_back(test_from(tests[t], where + ".tests[" + std::to_string(t) + "]"));
  }
  return r;
}

/// path relative to base when it lies below base, else path as it is.
std::string below(const std::string& path, const std::string& base) {
  if (path.empty()) return path;
  const auto rel = std::filesystem::path(path).lexically_relative(base);
  if (rel.empty() || *rel.begin() == "..") return path;
  return rel.string();
}

}  // namespace

std::string_view status_name(Status s) {
  for (const auto& [status, name] : kStatusNames) {
    if (status == s) return name;
  }
  return "error";
}

std::optional<Status> parse_status(std::string_view name) {
  for (const auto& [status, n] : kStatusNames) {
    if (n == name) return status;
  }
  if (name == "unknown") return Status::kError;
  return std::nullopt;
}

const BoardRun* Night::find(const std::string& board) const {
  for (const auto& r : boards) {
    if (r.board == board) return &r;
  }
  return nullptr;
}

nlohmann::json to_json(const Night& night) {
  nlohmann::json builds = nlohmann::json::array();
  for (const auto& b : night.builds) {
    builds.push_back({{"arch", b.arch},
                      {"ok", b.ok},
                      {"command", b.command},
                      {"log", b.log},
                      {"started", b.started},
                      {"seconds", b.seconds},
                      {"kernel", b.kernel},
                      {"ramdisk", b.ramdisk},
                      {"kernel_release", b.kernel_release},
                      {"source", b.source}});
  }
  nlohmann::json boards = nlohmann::json::array();
  for (const auto& r : night.boards) {
    nlohmann::json tests = nlohmann::json::array();
    for (const auto& t : r.tests) {
      nlohmann::json jt = {{"name", t.name}, {"result", status_name(t.status)}};
      if (t.measurement) jt["measurement"] = *t.measurement;
      if (!t.units.empty()) jt["units"] = t.units;
      tests.push_back(jt);
    }
    boards.push_back({{"board", r.board},
                      {"arch", r.arch},
                      {"boot", r.boot},
                      {"result", r.result},
                      {"error", r.error},
                      {"console_log", r.console_log},
                      {"job_dir", r.job_dir},
                      {"kernel", r.kernel},
                      {"kernel_sha256", r.kernel_sha256},
                      {"started", r.started},
                      {"seconds", r.seconds},
                      {"times",
                       {{"firmware", optional_seconds(r.firmware_s)},
                        {"kernel", optional_seconds(r.kernel_s)},
                        {"job", optional_seconds(r.job_s)}}},
                      {"tests", tests}});
  }
  return {{"date", night.date},
          {"started", night.started},
          {"finished", night.finished},
          {"host", night.host},
          {"source",
           {{"repository", night.source.repository},
            {"commit", night.source.commit},
            {"branch", night.source.branch},
            {"describe", night.source.describe}}},
          {"builds", builds},
          {"boards", boards}};
}

Night night_from_json(const nlohmann::json& j, const std::string& origin) {
  Fields f(j, origin);
  Night n;
  n.date = f.text("date", true);
  n.started = f.text("started");
  n.finished = f.text("finished");
  n.host = f.text("host");
  Fields source(f.object("source"), f.where("source"));
  n.source = {source.text("repository"), source.text("commit"), source.text("branch"),
              source.text("describe")};
  const auto& builds = f.array("builds");
  for (std::size_t i = 0; i < builds.size(); ++i) {
    Fields b(builds[i], f.where("builds[" + std::to_string(i) + "]"));
    Build out;
    out.arch = b.text("arch", true);
    out.ok = b.flag("ok");
    out.command = b.text("command");
    out.log = b.text("log");
    out.started = b.text("started");
    out.seconds = b.number("seconds").value_or(0);
    out.kernel = b.text("kernel");
    out.ramdisk = b.text("ramdisk");
    out.kernel_release = b.text("kernel_release");
    out.source = b.text("source");
    n.builds.push_back(std::move(out));
  }
  const auto& boards = f.array("boards");
  for (std::size_t i = 0; i < boards.size(); ++i) {
    const std::string where = f.where("boards[" + std::to_string(i) + "]");
    Fields b(boards[i], where);
    BoardRun r = job_fields(b, where);
    r.console_log = b.text("console_log");
    r.job_dir = b.text("job_dir");
    r.kernel = b.text("kernel");
    r.kernel_sha256 = b.text("kernel_sha256");
    r.started = b.text("started");
    r.seconds = b.number("seconds").value_or(0);
    n.boards.push_back(std::move(r));
  }
  return n;
}

BoardRun board_run_from_job(const nlohmann::json& job, const std::string& night_dir) {
  const std::string where = "rig run's results";
  Fields f(job, where);
  BoardRun r = job_fields(f, where);
  r.job_dir = below(f.text("job_dir"), night_dir);
  r.console_log = below(f.text("console_log"), night_dir);
  return r;
}

}  // namespace crossrig::rig::matrix
