#include "plugctl/http_message.h"

#include <algorithm>
#include <charconv>
#include <type_traits>

namespace crossrig::plugctl {

namespace {

constexpr std::string_view kCrlf = "\r\n";
constexpr std::string_view kHeadEnd = "\r\n\r\n";

bool iequals(std::string_view a, std::string_view b) {
  return std::equal(a.begin(), a.end(), b.begin(), b.end(), [](char x, char y) {
    auto lower = [](char c) { return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c; };
    return lower(x) == lower(y);
  });
}

// RFC 9110 token characters, which method and field names are made of.
bool is_token(std::string_view s) {
  static constexpr std::string_view kExtra = "!#$%&'*+-.^_`|~";
  return !s.empty() && std::all_of(s.begin(), s.end(), [](char c) {
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
           kExtra.find(c) != std::string_view::npos;
  });
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t'))
    s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t'))
    s.remove_suffix(1);
  return s;
}

bool is_http1_version(std::string_view v) {
  return v == "HTTP/1.1" || v == "HTTP/1.0";
}

void append_fields(std::string& out, const HttpHeaders& headers, std::size_t body_size) {
  for (const auto& [name, value] : headers.items) {
    if (iequals(name, "Content-Length")) continue;
    out.append(name).append(": ").append(value).append(kCrlf);
  }
  out.append("Content-Length: ").append(std::to_string(body_size)).append(kCrlf).append(kCrlf);
}

}  // namespace

std::optional<std::string> HttpHeaders::get(std::string_view name) const {
  for (const auto& [n, v] : items) {
    if (iequals(n, name)) return v;
  }
  return std::nullopt;
}

void HttpHeaders::set(std::string name, std::string value) {
  for (auto& [n, v] : items) {
    if (iequals(n, name)) {
      v = std::move(value);
      return;
    }
  }
  items.emplace_back(std::move(name), std::move(value));
}

std::string serialize(const HttpRequest& request) {
  std::string out = request.method + ' ' + request.target + " HTTP/1.1\r\n";
  append_fields(out, request.headers, request.body.size());
  return out + request.body;
}

std::string serialize(const HttpResponse& response) {
  std::string out = "HTTP/1.1 " + std::to_string(response.status) + ' ' + response.reason + "\r\n";
  append_fields(out, response.headers, response.body.size());
  return out + response.body;
}

template <class Message>
HttpParser<Message>::HttpParser(std::size_t max_head, std::size_t max_body)
    : max_head_(max_head), max_body_(max_body) {}

template <class Message>
typename HttpParser<Message>::State HttpParser<Message>::fail(std::string why) {
  error_ = std::move(why);
  return state_ = State::kError;
}

template <class Message>
typename HttpParser<Message>::State HttpParser<Message>::feed(std::span<const std::uint8_t> bytes) {
  if (state_ != State::kNeedMore) return state_;
  if (!head_done_) {
    std::size_t old = head_.size();
    std::size_t take = std::min(bytes.size(), max_head_ - old);
    head_.append(reinterpret_cast<const char*>(bytes.data()), take);
    std::size_t from = old >= kHeadEnd.size() - 1 ? old - (kHeadEnd.size() - 1) : 0;
    std::size_t end = head_.find(kHeadEnd, from);
    if (end == std::string::npos) {
      if (head_.size() >= max_head_) {
        return fail("HTTP header is longer than " + std::to_string(max_head_) + " bytes");
      }
      consumed_ += take;
      return state_;
    }
    std::size_t used = end + kHeadEnd.size() - old;
    consumed_ += used;
    bytes = bytes.subspan(used);
    head_.resize(end);
    head_done_ = true;
    if (parse_head(head_) == State::kError) return state_;
  }
  std::size_t take = std::min(bytes.size(), body_length_ - message_.body.size());
  message_.body.append(reinterpret_cast<const char*>(bytes.data()), take);
  consumed_ += take;
  if (message_.body.size() == body_length_) state_ = State::kComplete;
  return state_;
}

template <class Message>
typename HttpParser<Message>::State HttpParser<Message>::parse_head(std::string_view head) {
  std::size_t eol = head.find(kCrlf);
  std::string_view start = head.substr(0, eol);
  std::string_view rest = eol == std::string_view::npos ? std::string_view{} : head.substr(eol + 2);

  if constexpr (std::is_same_v<Message, HttpRequest>) {
    std::size_t sp1 = start.find(' ');
    std::size_t sp2 = sp1 == std::string_view::npos ? sp1 : start.find(' ', sp1 + 1);
    if (sp2 == std::string_view::npos || !is_token(start.substr(0, sp1)) || sp2 == sp1 + 1 ||
        !is_http1_version(start.substr(sp2 + 1))) {
      return fail("malformed HTTP request line \"" + std::string(start.substr(0, 80)) + "\"");
    }
    message_.method = start.substr(0, sp1);
    message_.target = start.substr(sp1 + 1, sp2 - sp1 - 1);
  } else {
    std::size_t sp1 = start.find(' ');
    std::string_view code =
        sp1 == std::string_view::npos ? std::string_view{} : start.substr(sp1 + 1, 3);
    int status = 0;
    auto [ptr, ec] = std::from_chars(code.data(), code.data() + code.size(), status);
    bool tail_ok = start.size() == sp1 + 4 || (start.size() > sp1 + 4 && start[sp1 + 4] == ' ');
    if (sp1 == std::string_view::npos || !is_http1_version(start.substr(0, sp1)) ||
        code.size() != 3 || ec != std::errc{} || ptr != code.data() + 3 || status < 100 ||
        !tail_ok) {
      return fail("malformed HTTP status line \"" + std::string(start.substr(0, 80)) + "\"");
    }
    message_.status = status;
    message_.reason = start.size() > sp1 + 5 ? start.substr(sp1 + 5) : std::string_view{};
  }

  std::optional<std::size_t> length;
  while (!rest.empty()) {
    eol = rest.find(kCrlf);
    std::string_view line = rest.substr(0, eol);
    rest = eol == std::string_view::npos ? std::string_view{} : rest.substr(eol + 2);
    std::size_t colon = line.find(':');
    if (colon == std::string_view::npos || !is_token(line.substr(0, colon))) {
      return fail("malformed HTTP header line \"" + std::string(line.substr(0, 80)) + "\"");
    }
    std::string_view name = line.substr(0, colon);
    std::string_view value = trim(line.substr(colon + 1));
    if (iequals(name, "Transfer-Encoding")) {
      return fail("HTTP Transfer-Encoding \"" + std::string(value.substr(0, 40)) +
                  "\" is not supported; only Content-Length bodies are");
    }
    if (iequals(name, "Content-Length")) {
      std::size_t n = 0;
      auto [ptr, ec] = std::from_chars(value.data(), value.data() + value.size(), n);
      if (value.empty() || ec != std::errc{} || ptr != value.data() + value.size()) {
        return fail("invalid HTTP Content-Length \"" + std::string(value.substr(0, 40)) + "\"");
      }
      if (length && *length != n) return fail("conflicting HTTP Content-Length fields");
      if (n > max_body_) {
        return fail("HTTP body of " + std::to_string(n) + " bytes exceeds the limit of " +
                    std::to_string(max_body_) + " bytes");
      }
      length = n;
    }
    message_.headers.items.emplace_back(std::string(name), std::string(value));
  }
  body_length_ = length.value_or(0);
  return state_;
}

template class HttpParser<HttpRequest>;
template class HttpParser<HttpResponse>;

}  // namespace crossrig::plugctl
