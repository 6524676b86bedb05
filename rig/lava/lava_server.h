#pragma once
// A LAVA server's REST API (v0.2), the part rig uses: submitting jobs and reading what became
// of them. Requests authenticate with an API token ("Authorization: Token ..."), as lavacli's
// do; reading public jobs needs none.

#include <nlohmann/json.hpp>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "rig/lava/http_client.h"

namespace crossrig::rig::lava {

/// What went wrong talking to LAVA, by what the user does about it.
class LavaError : public std::runtime_error {
 public:
  enum Kind {
    kUnreachable,  ///< No reply: check the URL, the network, the server.
    kAuth,         ///< The token was refused or lacks the right: check the token file.
    kRefused,      ///< The server refused the request (a job it does not accept): its message.
    kNotFound,     ///< No such job, or not visible to this token.
    kProtocol,     ///< A reply that is not what LAVA sends: not a LAVA server, or another API.
  };
  LavaError(Kind kind, const std::string& what) : std::runtime_error(what), kind_(kind) {}
  Kind kind() const { return kind_; }

 private:
  Kind kind_;
};

/// A job as the scheduler sees it.
struct LavaJob {
  long id = 0;
  /// "Submitted", "Scheduling", "Scheduled", "Running", "Canceling", "Finished".
  std::string state;
  /// "Unknown" until finished, then "Complete", "Incomplete" or "Canceled".
  std::string health;
  std::string description, actual_device, failure_comment;
  /// RFC 3339 as LAVA gives them; empty when not reached.
  std::string submit_time, start_time, end_time;

  bool finished() const { return state == "Finished"; }
};

/// One test case a job reported.
struct LavaTestCase {
  std::string suite;  ///< "lava" for LAVA's own actions, else a test definition or monitor.
  /// LAVA's name: for a monitor's case, the TEST_CASE_ID it printed made lower case, with '_'
  /// for '/' (the original is only in the job's log: see lava_log.h).
  std::string name;
  std::string result;  ///< "pass", "fail", "skip", "unknown".
  std::optional<double> measurement;
  std::string unit;
};

/// The server's base URL from what a user may give: the web UI's address, with or without a
/// trailing slash, or the API's or XML-RPC's (.../api/v0.2/, .../RPC2). Throws
/// std::invalid_argument for anything but an http(s) URL.
std::string server_base_url(std::string_view url);

/// The token in a file: its first line, surrounding white space removed. Throws
/// std::runtime_error naming the file when it cannot be read or holds none.
std::string read_token_file(const std::string& path);

/// Parsers of the API's replies, shared with their tests; throw LavaError(kProtocol).
LavaJob parse_job(const nlohmann::json& reply);
/// A page of /jobs/ID/tests/; suites maps the suite ids the cases carry to names.
std::vector<LavaTestCase> parse_test_cases(const nlohmann::json& page,
                                           const std::vector<std::pair<long, std::string>>& suites);

class LavaServer {
 public:
  /// url as server_base_url takes it; token empty for anonymous reads.
  LavaServer(std::string_view url, std::string token, HttpLimits limits = {});

  const std::string& base_url() const { return base_; }
  /// The job's page in the web UI.
  std::string job_url(long id) const;

  /// Submits a job definition (YAML); the ids of the jobs it made (several for multinode).
  std::vector<long> submit(const std::string& definition);
  LavaJob job(long id);
  std::vector<LavaTestCase> tests(long id);
  /// The job's log as LAVA keeps it (YAML); empty if the job has none yet.
  std::string log(long id);

 private:
  nlohmann::json get_json(const std::string& path, const std::string& what);
  [[noreturn]] void fail(const HttpReply& reply, const std::string& what) const;
  std::vector<std::string> headers(bool json_body) const;

  std::string base_, token_;
  HttpClient http_;
};

}  // namespace crossrig::rig::lava
