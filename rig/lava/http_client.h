#pragma once
// HTTP(S) requests to a LAVA server through libcurl: TLS with the system's trusted CAs and host
// name checks, proxies from the environment, redirects, compressed and chunked bodies, which a
// LAVA behind Apache or nginx uses and our plug-sized HTTP code (plugctl/http_message) does not
// handle.

#include <chrono>
#include <cstddef>
#include <stdexcept>
#include <string>
#include <vector>

namespace crossrig::rig::lava {

/// The request did not get a reply: unreachable, refused, timed out, a TLS failure, a reply
/// over the size limit. The message is curl's, with the URL.
class HttpError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

struct HttpReply {
  long status = 0;
  std::string content_type;
  std::string body;
};

struct HttpLimits {
  std::chrono::seconds connect{20};
  /// For the whole request, reply included: a job's log can be tens of MiB.
  std::chrono::seconds total{300};
  std::size_t max_body = std::size_t{1} << 30;
};

/// One connection (kept alive between requests to the same server). Not thread-safe.
class HttpClient {
 public:
  explicit HttpClient(HttpLimits limits = {});
  ~HttpClient();
  HttpClient(const HttpClient&) = delete;
  HttpClient& operator=(const HttpClient&) = delete;

  /// headers are "Name: value" lines. Any status is a reply; only a transport failure throws.
  HttpReply get(const std::string& url, const std::vector<std::string>& headers);
  HttpReply post(const std::string& url, const std::vector<std::string>& headers,
                 const std::string& body);

 private:
  HttpReply perform(const std::string& url, const std::vector<std::string>& headers,
                    const std::string* body);

  HttpLimits limits_;
  void* curl_;
};

}  // namespace crossrig::rig::lava
