#pragma once
// What `rig lava submit` handed to a LAVA server, kept beside the export (DIR/submitted.json)
// so that `rig matrix --from-lava DIR` knows which jobs make the night and which board each is.

#include <algorithm>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

namespace crossrig::rig::lava {

/// A job file of an export, read for submission.
struct JobFile {
  std::string path;  ///< Relative to the export: jobs/BOARD-JOB.yaml.
  std::string text;
  /// From the job's metadata (rig.board, rig.arch, rig.boot), which rig lava export writes;
  /// for a job written by hand, board is the file's name up to its last '-', arch and boot
  /// empty.
  std::string board, arch, boot;
  std::string job;  ///< The file name's part after the board: "default".
};

/// The job files of the export in dir (dir/jobs/*.yaml, by name); throws std::runtime_error
/// naming a file that cannot be read or is not YAML.
std::vector<JobFile> read_job_files(const std::string& dir);

struct SubmittedJob {
  std::string board, arch, boot, job, file;
  long id = 0;
  std::string url;  ///< The job's page on the server.
};

struct Submission {
  std::string server;     ///< The server's base URL.
  std::string submitted;  ///< RFC 3339, UTC.
  std::vector<SubmittedJob> jobs;
};

nlohmann::json to_json(const Submission& s);
/// Throws std::runtime_error naming origin and the bad field.
Submission submission_from_json(const nlohmann::json& j, const std::string& origin);

/// dir/submitted.json.
std::string submission_path(const std::string& dir);

/// Keeps the jobs (JobFile or SubmittedJob) of the wanted boards, in their order; "" or, when a
/// wanted board has no job among them, the problem, naming where they come from.
template <class Job>
std::string keep_boards(std::vector<Job>& jobs, const std::vector<std::string>& wanted,
                        const std::string& where) {
  for (const auto& b : wanted) {
    if (std::none_of(jobs.begin(), jobs.end(), [&](const Job& j) { return j.board == b; })) {
      return "no job of board '" + b + "' in " + where;
    }
  }
  std::erase_if(jobs, [&](const Job& j) {
    return std::find(wanted.begin(), wanted.end(), j.board) == wanted.end();
  });
  return "";
}

}  // namespace crossrig::rig::lava
