#include "rig/lava/http_client.h"

#include <curl/curl.h>

#include <mutex>

namespace crossrig::rig::lava {
namespace {

struct Sink {
  std::string* body;
  std::size_t max;
  bool overflow = false;
};

std::size_t append(char* data, std::size_t size, std::size_t count, void* user) {
  auto* sink = static_cast<Sink*>(user);
  const std::size_t n = size * count;
  if (sink->body->size() + n > sink->max) {
    sink->overflow = true;
    return 0;  // makes curl fail the transfer with CURLE_WRITE_ERROR
  }
  sink->body->append(data, n);
  return n;
}

struct HeaderList {
  curl_slist* list = nullptr;
  ~HeaderList() { curl_slist_free_all(list); }
};

}  // namespace

HttpClient::HttpClient(HttpLimits limits) : limits_(limits) {
  // curl_global_init is not thread-safe; once for the process, before the first handle.
  static std::once_flag once;
  std::call_once(once, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
  curl_ = curl_easy_init();
  if (!curl_) throw HttpError("cannot create a libcurl handle (out of memory)");
}

HttpClient::~HttpClient() {
  curl_easy_cleanup(static_cast<CURL*>(curl_));
}

HttpReply HttpClient::get(const std::string& url, const std::vector<std::string>& headers) {
  return perform(url, headers, nullptr);
}

HttpReply HttpClient::post(const std::string& url, const std::vector<std::string>& headers,
                           const std::string& body) {
  return perform(url, headers, &body);
}

HttpReply HttpClient::perform(const std::string& url, const std::vector<std::string>& headers,
                              const std::string* body) {
  CURL* c = static_cast<CURL*>(curl_);
  curl_easy_reset(c);
  HttpReply reply;
  Sink sink{&reply.body, limits_.max_body};
  HeaderList list;
  for (const auto& h : headers) {
    curl_slist* next = curl_slist_append(list.list, h.c_str());
    if (!next) throw HttpError("out of memory building the request to " + url);
    list.list = next;
  }
  char error[CURL_ERROR_SIZE] = "";
  curl_easy_setopt(c, CURLOPT_URL, url.c_str());
  curl_easy_setopt(c, CURLOPT_ERRORBUFFER, error);
  curl_easy_setopt(c, CURLOPT_HTTPHEADER, list.list);
  curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, append);
  curl_easy_setopt(c, CURLOPT_WRITEDATA, &sink);
  curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 1L);
  curl_easy_setopt(c, CURLOPT_MAXREDIRS, 5L);
  // Redirects may not downgrade to plain HTTP or leave HTTP(S): the token goes along.
  curl_easy_setopt(c, CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
  curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
  curl_easy_setopt(c, CURLOPT_ACCEPT_ENCODING, "");
  curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT, static_cast<long>(limits_.connect.count()));
  curl_easy_setopt(c, CURLOPT_TIMEOUT, static_cast<long>(limits_.total.count()));
  curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(c, CURLOPT_USERAGENT, "crossrig-rig/0.1");
  if (body) {
    curl_easy_setopt(c, CURLOPT_POST, 1L);
    curl_easy_setopt(c, CURLOPT_POSTFIELDS, body->data());
    curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(body->size()));
  }
  const CURLcode rc = curl_easy_perform(c);
  if (sink.overflow) {
    throw HttpError(url + ": the reply is larger than " + std::to_string(limits_.max_body >> 20) +
                    " MiB");
  }
  if (rc != CURLE_OK) {
    throw HttpError(url + ": " + (error[0] ? std::string(error) : curl_easy_strerror(rc)));
  }
  curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &reply.status);
  char* type = nullptr;
  if (curl_easy_getinfo(c, CURLINFO_CONTENT_TYPE, &type) == CURLE_OK && type) {
    reply.content_type = type;
  }
  return reply;
}

}  // namespace crossrig::rig::lava
