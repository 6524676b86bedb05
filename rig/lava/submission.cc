#include "rig/lava/submission.h"

#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <stdexcept>

namespace crossrig::rig::lava {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

std::string metadata(const YAML::Node& job, const char* key) {
  const YAML::Node m = job["metadata"];
  if (!m || !m.IsMap() || !m[key] || !m[key].IsScalar()) return "";
  return m[key].Scalar();
}

std::string text(const json& j, const char* key, const std::string& where) {
  auto it = j.find(key);
  if (it == j.end() || !it->is_string()) {
    throw std::runtime_error(where + ": '" + key + "' is missing or not a string");
  }
  return it->get<std::string>();
}

}  // namespace

std::vector<JobFile> read_job_files(const std::string& dir) {
  std::vector<fs::path> paths;
  std::error_code ec;
  for (const auto& e : fs::directory_iterator(fs::path(dir) / "jobs", ec)) {
    if (e.path().extension() == ".yaml") paths.push_back(e.path());
  }
  std::sort(paths.begin(), paths.end());
  std::vector<JobFile> files;
  for (const auto& p : paths) {
    std::ifstream in(p);
    std::ostringstream body;
    body << in.rdbuf();
    if (!in) throw std::runtime_error("cannot read " + p.string());
    JobFile f;
    f.path = "jobs/" + p.filename().string();
    f.text = body.str();
    YAML::Node job;
    try {
      job = YAML::Load(f.text);
    } catch (const YAML::Exception& e) {
      throw std::runtime_error(p.string() + " is not YAML: " + e.what());
    }
    if (!job.IsMap()) throw std::runtime_error(p.string() + " is not a LAVA job (not a mapping)");
    const std::string stem = p.stem().string();
    f.board = metadata(job, "rig.board");
    f.arch = metadata(job, "rig.arch");
    f.boot = metadata(job, "rig.boot");
    const auto dash = stem.rfind('-');
    if (f.board.empty()) f.board = dash == std::string::npos ? stem : stem.substr(0, dash);
    f.job = stem.starts_with(f.board + "-") ? stem.substr(f.board.size() + 1) : stem;
    files.push_back(std::move(f));
  }
  return files;
}

json to_json(const Submission& s) {
  json jobs = json::array();
  for (const auto& j : s.jobs) {
    jobs.push_back({{"board", j.board},
                    {"arch", j.arch},
                    {"boot", j.boot},
                    {"job", j.job},
                    {"file", j.file},
                    {"id", j.id},
                    {"url", j.url}});
  }
  return {{"server", s.server}, {"submitted", s.submitted}, {"jobs", jobs}};
}

Submission submission_from_json(const json& j, const std::string& origin) {
  if (!j.is_object()) throw std::runtime_error(origin + ": not a JSON object");
  Submission s;
  s.server = text(j, "server", origin);
  s.submitted = text(j, "submitted", origin);
  auto jobs = j.find("jobs");
  if (jobs == j.end() || !jobs->is_array()) {
    throw std::runtime_error(origin + ": 'jobs' is missing or not a list");
  }
  for (std::size_t i = 0; i < jobs->size(); ++i) {
    const json& e = (*jobs)[i];
    const std::string where = origin + ": jobs[" + std::to_string(i) + "]";
    if (!e.is_object()) throw std::runtime_error(where + ": not an object");
    SubmittedJob job;
    job.board = text(e, "board", where);
    job.arch = text(e, "arch", where);
    job.boot = text(e, "boot", where);
    job.job = text(e, "job", where);
    job.file = text(e, "file", where);
    job.url = text(e, "url", where);
    auto id = e.find("id");
    if (id == e.end() || !id->is_number_integer() || id->get<long>() <= 0) {
      throw std::runtime_error(where + ": 'id' is not a job id");
    }
    job.id = id->get<long>();
    s.jobs.push_back(std::move(job));
  }
  return s;
}

std::string submission_path(const std::string& dir) {
  return (fs::path(dir) / "submitted.json").string();
}

}  // namespace crossrig::rig::lava
