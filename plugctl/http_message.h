#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace crossrig::plugctl {

/// Header fields in the order they came, with case-insensitive look-up.
struct HttpHeaders {
  std::vector<std::pair<std::string, std::string>> items;

  /// The value of the first field called name (any case), if there is one.
  std::optional<std::string> get(std::string_view name) const;
  /// Replaces the field called name (any case) or appends it.
  void set(std::string name, std::string value);
};

/// One HTTP/1.1 request: what a KLAP client sends.
struct HttpRequest {
  std::string method, target;
  HttpHeaders headers;
  std::string body;
};

/// One HTTP/1.1 response: what a KLAP device answers.
struct HttpResponse {
  int status = 0;
  std::string reason;
  HttpHeaders headers;
  std::string body;
};

/// The bytes of a request; sets Content-Length from the body (any given one is dropped).
std::string serialize(const HttpRequest& request);
/// The bytes of a response; sets Content-Length from the body (any given one is dropped).
std::string serialize(const HttpResponse& response);

/// Incremental parser for one message; limits guard against hostile peers.
/// Bodies are Content-Length only: chunked transfer coding is refused, and a message without
/// Content-Length has an empty body.
template <class Message>
class HttpParser {
 public:
  enum class State { kNeedMore, kComplete, kError };

  explicit HttpParser(std::size_t max_head = 16 * 1024, std::size_t max_body = 1 << 20);

  /// Takes the next bytes of the stream, split anywhere; bytes past the end of the message
  /// are left unconsumed (see consumed()).
  State feed(std::span<const std::uint8_t> bytes);
  State state() const { return state_; }
  /// The parsed message; complete only in State::kComplete.
  const Message& message() const { return message_; }
  /// Why parsing failed, in State::kError.
  std::string error() const { return error_; }
  /// Bytes of the input, over all feed() calls, that belonged to this message.
  std::size_t consumed() const { return consumed_; }

 private:
  State fail(std::string why);
  State parse_head(std::string_view head);

  std::size_t max_head_, max_body_;
  State state_ = State::kNeedMore;
  bool head_done_ = false;
  std::string head_;
  std::size_t body_length_ = 0;
  std::size_t consumed_ = 0;
  Message message_;
  std::string error_;
};

extern template class HttpParser<HttpRequest>;
extern template class HttpParser<HttpResponse>;

}  // namespace crossrig::plugctl
