#include "rig/lava/lava_server.h"

#include <cerrno>
#include <cstdlib>
#include <fstream>

namespace crossrig::rig::lava {
namespace {

using nlohmann::json;

[[noreturn]] void protocol(const std::string& what) {
  throw LavaError(LavaError::kProtocol, what);
}

std::string text_field(const json& j, const char* key) {
  auto it = j.find(key);
  if (it == j.end() || it->is_null()) return "";
  if (!it->is_string()) protocol(std::string("field '") + key + "' is not a string");
  return it->get<std::string>();
}

long id_field(const json& j, const char* key) {
  auto it = j.find(key);
  if (it == j.end() || !it->is_number_integer()) {
    protocol(std::string("field '") + key + "' is not an integer");
  }
  return it->get<long>();
}

// LAVA sends measurements as decimal strings ("812.5000000000").
std::optional<double> measurement_field(const json& j) {
  auto it = j.find("measurement");
  if (it == j.end() || it->is_null()) return std::nullopt;
  if (it->is_number()) return it->get<double>();
  if (!it->is_string()) protocol("field 'measurement' is neither a number nor a string");
  const std::string text = it->get<std::string>();
  errno = 0;
  char* end = nullptr;
  const double v = std::strtod(text.c_str(), &end);
  if (text.empty() || *end != '\0' || errno == ERANGE) {
    protocol("measurement '" + text + "' is not a number");
  }
  return v;
}

[[noreturn]] void unreachable(const HttpError& e) {
  throw LavaError(LavaError::kUnreachable,
                  std::string(e.what()) + "; check the server's URL and that it is up");
}

bool starts_with_http(std::string_view url) {
  return url.starts_with("http://") || url.starts_with("https://");
}

void strip_suffix(std::string& s, std::string_view suffix) {
  if (s.size() >= suffix.size() &&
      s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0) {
    s.resize(s.size() - suffix.size());
  }
}

}  // namespace

std::string server_base_url(std::string_view url) {
  if (!starts_with_http(url)) {
    throw std::invalid_argument("'" + std::string(url) +
                                "' is not a LAVA server's URL: give http://HOST/ or https://HOST/");
  }
  std::string base(url);
  while (base.ends_with('/'))
    base.pop_back();
  strip_suffix(base, "/RPC2");
  strip_suffix(base, "/api/v0.2");
  strip_suffix(base, "/api");
  const auto host = base.find("//") + 2;
  if (base.substr(host, base.find('/', host) - host).find('@') != std::string::npos) {
    throw std::invalid_argument("give the user's token in --token-file, not in the URL '" +
                                std::string(url) + "'");
  }
  return base + "/";
}

std::string read_token_file(const std::string& path) {
  std::ifstream in(path);
  if (!in) throw std::runtime_error("cannot read the token file " + path);
  std::string line;
  std::getline(in, line);
  const auto first = line.find_first_not_of(" \t\r");
  const auto last = line.find_last_not_of(" \t\r");
  if (first == std::string::npos) {
    throw std::runtime_error(path +
                             " holds no token: put the API token (lava-server's Profile page, "
                             "or `lava-server manage tokens add --user NAME`) on its first line");
  }
  return line.substr(first, last - first + 1);
}

LavaJob parse_job(const json& reply) {
  if (!reply.is_object()) protocol("a job is not a JSON object");
  LavaJob job;
  job.id = id_field(reply, "id");
  job.state = text_field(reply, "state");
  job.health = text_field(reply, "health");
  if (job.state.empty()) protocol("job " + std::to_string(job.id) + " has no state");
  job.description = text_field(reply, "description");
  job.failure_comment = text_field(reply, "failure_comment");
  job.submit_time = text_field(reply, "submit_time");
  job.start_time = text_field(reply, "start_time");
  job.end_time = text_field(reply, "end_time");
  // The device by name, or its id on servers that serialize the key.
  auto dev = reply.find("actual_device");
  if (dev != reply.end() && dev->is_string()) job.actual_device = dev->get<std::string>();
  if (dev != reply.end() && dev->is_number_integer()) {
    job.actual_device = std::to_string(dev->get<long>());
  }
  return job;
}

std::vector<LavaTestCase> parse_test_cases(
    const json& page, const std::vector<std::pair<long, std::string>>& suites) {
  auto results = page.find("results");
  if (!page.is_object() || results == page.end() || !results->is_array()) {
    protocol("a page of test cases has no 'results' list");
  }
  std::vector<LavaTestCase> cases;
  for (const auto& c : *results) {
    if (!c.is_object()) protocol("a test case is not a JSON object");
    LavaTestCase t;
    t.name = text_field(c, "name");
    t.result = text_field(c, "result");
    t.unit = text_field(c, "unit");
    t.measurement = measurement_field(c);
    // The suite as its id (what /tests/ gives), or as its name.
    auto suite = c.find("suite");
    if (suite != c.end() && suite->is_string()) {
      t.suite = suite->get<std::string>();
    } else {
      const long id = id_field(c, "suite");
      for (const auto& [sid, name] : suites) {
        if (sid == id) t.suite = name;
      }
      if (t.suite.empty()) protocol("test case '" + t.name + "' names an unknown suite");
    }
    cases.push_back(std::move(t));
  }
  return cases;
}

LavaServer::LavaServer(std::string_view url, std::string token, HttpLimits limits)
    : base_(server_base_url(url)), token_(std::move(token)), http_(limits) {}

std::string LavaServer::job_url(long id) const {
  return base_ + "scheduler/job/" + std::to_string(id);
}

std::vector<std::string> LavaServer::headers(bool json_body) const {
  std::vector<std::string> h{"Accept: application/json"};
  if (json_body) h.emplace_back("Content-Type: application/json");
  if (!token_.empty()) h.push_back("Authorization: Token " + token_);
  return h;
}

void LavaServer::fail(const HttpReply& reply, const std::string& what) const {
  // LAVA explains a refusal in "message" (submissions) or "detail" (Django REST framework).
  std::string why;
  const json j = json::parse(reply.body, nullptr, false);
  if (j.is_object()) {
    why = text_field(j, "message");
    if (why.empty()) why = text_field(j, "detail");
  }
  const std::string status = "HTTP " + std::to_string(reply.status);
  const std::string said = why.empty() ? status : status + ": " + why;
  if (reply.status == 401 || reply.status == 403) {
    throw LavaError(LavaError::kAuth,
                    base_ + " refused " + what + " (" + said +
                        "); check the token file's token and that its user may do this");
  }
  if (reply.status == 404) throw LavaError(LavaError::kNotFound, what + ": " + said);
  if (reply.status == 400) throw LavaError(LavaError::kRefused, what + ": " + said);
  if (reply.status >= 500) {
    // LAVA answers some refusals (a job's unknown tag) with a crash: only its log says why.
    throw LavaError(LavaError::kRefused,
                    what + ": " + said + ": " + base_ + " failed on it; its django.log says why");
  }
  throw LavaError(LavaError::kProtocol, what + ": " + said + " from " + base_);
}

json LavaServer::get_json(const std::string& path, const std::string& what) {
  // The API's "next" links are absolute, with the host Django saw (behind a proxy, maybe not
  // ours): follow only their path, on the server the token is for.
  std::string rel = path;
  if (auto at = path.find("/api/v0.2/"); at != std::string::npos) {
    rel = path.substr(at + std::string_view("/api/v0.2/").size());
  }
  HttpReply reply;
  try {
    reply = http_.get(base_ + "api/v0.2/" + rel, headers(false));
  } catch (const HttpError& e) {
    unreachable(e);
  }
  if (reply.status != 200) fail(reply, what);
  json j = json::parse(reply.body, nullptr, false);
  if (j.is_discarded()) {
    protocol(what + ": " + base_ +
             " did not answer with JSON; is it a LAVA server (2020 or newer)?");
  }
  return j;
}

std::vector<long> LavaServer::submit(const std::string& definition) {
  HttpReply reply;
  try {
    reply = http_.post(base_ + "api/v0.2/jobs/", headers(true),
                       json{{"definition", definition}}.dump());
  } catch (const HttpError& e) {
    unreachable(e);
  }
  if (reply.status != 201) fail(reply, "the job");
  const json j = json::parse(reply.body, nullptr, false);
  auto ids = j.is_object() ? j.find("job_ids") : j.end();
  if (ids == j.end() || !ids->is_array() || ids->empty()) {
    protocol("a submission's reply has no job_ids");
  }
  std::vector<long> out;
  for (const auto& id : *ids) {
    // A multinode job's sub-ids are "12.0", "12.1".
    if (id.is_number_integer()) {
      out.push_back(id.get<long>());
    } else if (id.is_string()) {
      out.push_back(std::strtol(id.get<std::string>().c_str(), nullptr, 10));
    } else {
      protocol("a job id is neither a number nor a string");
    }
  }
  return out;
}

LavaJob LavaServer::job(long id) {
  return parse_job(get_json("jobs/" + std::to_string(id) + "/", "job " + std::to_string(id)));
}

std::vector<LavaTestCase> LavaServer::tests(long id) {
  const std::string job = "jobs/" + std::to_string(id) + "/";
  const std::string what = "the test results of job " + std::to_string(id);
  std::vector<std::pair<long, std::string>> suites;
  for (std::string next = job + "suites/?limit=1000"; !next.empty();) {
    const json page = get_json(next, what);
    auto results = page.find("results");
    if (results == page.end() || !results->is_array()) protocol(what + ": no 'results' list");
    for (const auto& s : *results)
      suites.emplace_back(id_field(s, "id"), text_field(s, "name"));
    next = text_field(page, "next");
  }
  std::vector<LavaTestCase> cases;
  for (std::string next = job + "tests/?limit=1000"; !next.empty();) {
    const json page = get_json(next, what);
    auto more = parse_test_cases(page, suites);
    cases.insert(cases.end(), more.begin(), more.end());
    next = text_field(page, "next");
  }
  return cases;
}

std::string LavaServer::log(long id) {
  HttpReply reply;
  const std::string url = base_ + "api/v0.2/jobs/" + std::to_string(id) + "/logs/";
  try {
    reply = http_.get(url, headers(false));
  } catch (const HttpError& e) {
    unreachable(e);
  }
  // A job that never started has no log file: LAVA answers 404.
  if (reply.status == 404) return "";
  if (reply.status != 200) fail(reply, "the log of job " + std::to_string(id));
  return reply.body;
}

}  // namespace crossrig::rig::lava
