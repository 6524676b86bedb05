#include "plugctl/http_message.h"

#include <gtest/gtest.h>

#include "common/hex.h"

namespace crossrig::plugctl {
namespace {

using RequestParser = HttpParser<HttpRequest>;
using ResponseParser = HttpParser<HttpResponse>;

const std::string kHandshake =
    "POST /app/handshake1 HTTP/1.1\r\n"
    "Host: 127.0.0.1\r\n"
    "content-length: 4\r\n"
    "\r\n"
    "seedNEXT";

TEST(HttpHeaders, GetIsCaseInsensitiveAndSetReplaces) {
  HttpHeaders h;
  h.set("Set-Cookie", "TP_SESSIONID=a");
  h.set("set-cookie", "TP_SESSIONID=b");
  h.set("Host", "x");
  ASSERT_EQ(h.items.size(), 2u);
  EXPECT_EQ(h.get("SET-COOKIE"), "TP_SESSIONID=b");
  EXPECT_EQ(h.get("host"), "x");
  EXPECT_EQ(h.get("Cookie"), std::nullopt);
}

TEST(HttpSerialize, RequestAddsContentLengthAndDropsAStaleOne) {
  HttpRequest r{"POST", "/app/request?seq=5", {}, "abc"};
  r.headers.set("Content-Length", "99");
  r.headers.set("Cookie", "TP_SESSIONID=x");
  EXPECT_EQ(serialize(r),
            "POST /app/request?seq=5 HTTP/1.1\r\nCookie: TP_SESSIONID=x\r\n"
            "Content-Length: 3\r\n\r\nabc");
}

TEST(HttpSerialize, ResponseRoundTrips) {
  HttpResponse r{200, "OK", {}, std::string("\x00\xff\r\n\r\n", 6)};
  r.headers.set("Set-Cookie", "TP_SESSIONID=abc;TIMEOUT=86400");
  std::string wire = serialize(r);
  ResponseParser p;
  ASSERT_EQ(p.feed(as_bytes(wire)), ResponseParser::State::kComplete) << p.error();
  EXPECT_EQ(p.message().status, 200);
  EXPECT_EQ(p.message().reason, "OK");
  EXPECT_EQ(p.message().body, r.body);
  EXPECT_EQ(p.message().headers.get("set-cookie"), "TP_SESSIONID=abc;TIMEOUT=86400");
  EXPECT_EQ(p.consumed(), wire.size());
}

TEST(HttpParser, ParsesARequestFedInEverySplit) {
  for (std::size_t split = 0; split <= kHandshake.size(); ++split) {
    RequestParser p;
    std::string_view all = kHandshake;
    auto first = p.feed(as_bytes(all.substr(0, split)));
    auto state =
        first == RequestParser::State::kNeedMore ? p.feed(as_bytes(all.substr(split))) : first;
    ASSERT_EQ(state, RequestParser::State::kComplete) << "split at " << split;
    EXPECT_EQ(p.message().method, "POST");
    EXPECT_EQ(p.message().target, "/app/handshake1");
    EXPECT_EQ(p.message().body, "seed");
    EXPECT_EQ(p.consumed(), kHandshake.size() - 4) << "the pipelined bytes are not ours";
  }
}

TEST(HttpParser, ParsesByteByByte) {
  RequestParser p;
  RequestParser::State s = RequestParser::State::kNeedMore;
  std::size_t fed = 0;
  for (char c : kHandshake) {
    s = p.feed(as_bytes(std::string_view(&c, 1)));
    ++fed;
    if (s != RequestParser::State::kNeedMore) break;
  }
  ASSERT_EQ(s, RequestParser::State::kComplete);
  EXPECT_EQ(fed, p.consumed());
  EXPECT_EQ(p.message().body, "seed");
}

TEST(HttpParser, NoContentLengthMeansEmptyBody) {
  ResponseParser p;
  ASSERT_EQ(p.feed(as_bytes("HTTP/1.1 403 Forbidden\r\nServer: x\r\n\r\n")),
            ResponseParser::State::kComplete);
  EXPECT_EQ(p.message().status, 403);
  EXPECT_EQ(p.message().reason, "Forbidden");
  EXPECT_TRUE(p.message().body.empty());
}

TEST(HttpParser, StatusLineWithoutReason) {
  ResponseParser p;
  ASSERT_EQ(p.feed(as_bytes("HTTP/1.1 200\r\nContent-Length: 0\r\n\r\n")),
            ResponseParser::State::kComplete)
      << p.error();
  EXPECT_EQ(p.message().status, 200);
  EXPECT_EQ(p.message().reason, "");
}

TEST(HttpParser, RefusesAnOverlongHead) {
  RequestParser p(64);
  std::string head = "GET / HTTP/1.1\r\nX-Junk: " + std::string(100, 'a');
  EXPECT_EQ(p.feed(as_bytes(head)), RequestParser::State::kError);
  EXPECT_NE(p.error().find("longer than 64"), std::string::npos) << p.error();
}

TEST(HttpParser, RefusesAnOverlongHeadArrivingSlowly) {
  RequestParser p(64);
  RequestParser::State s = RequestParser::State::kNeedMore;
  for (int i = 0; i < 200 && s == RequestParser::State::kNeedMore; ++i)
    s = p.feed(as_bytes("a"));
  EXPECT_EQ(s, RequestParser::State::kError);
}

TEST(HttpParser, RefusesABodyOverTheLimit) {
  RequestParser p(1024, 100);
  EXPECT_EQ(p.feed(as_bytes("POST / HTTP/1.1\r\nContent-Length: 101\r\n\r\n")),
            RequestParser::State::kError);
  EXPECT_NE(p.error().find("101 bytes exceeds"), std::string::npos) << p.error();
  RequestParser huge;
  EXPECT_EQ(
      huge.feed(as_bytes("POST / HTTP/1.1\r\nContent-Length: 99999999999999999999999\r\n\r\n")),
      RequestParser::State::kError);
}

TEST(HttpParser, RefusesMalformedMessages) {
  const char* bad_requests[] = {
      "GARBAGE\r\n\r\n",
      "GET /\r\n\r\n",
      "GET / HTTP/2\r\n\r\n",
      "G(T / HTTP/1.1\r\n\r\n",
      "POST / HTTP/1.1\r\nNoColon\r\n\r\n",
      "POST / HTTP/1.1\r\n folded: x\r\n\r\n",
      "POST / HTTP/1.1\r\nContent-Length: -1\r\n\r\n",
      "POST / HTTP/1.1\r\nContent-Length: 1x\r\n\r\n",
      "POST / HTTP/1.1\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n",
      "POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n",
  };
  for (const char* text : bad_requests) {
    RequestParser p;
    EXPECT_EQ(p.feed(as_bytes(text)), RequestParser::State::kError) << text;
    EXPECT_FALSE(p.error().empty());
  }
  const char* bad_responses[] = {"HTTP/1.1 OK\r\n\r\n", "HTTP/1.1 20\r\n\r\n",
                                 "HTTP/1.1 2000 OK\r\n\r\n", "SSH-2.0-OpenSSH\r\n\r\n",
                                 "HTTP/1.1 099 Low\r\n\r\n"};
  for (const char* text : bad_responses) {
    ResponseParser p;
    EXPECT_EQ(p.feed(as_bytes(text)), ResponseParser::State::kError) << text;
  }
}

TEST(HttpParser, StaysCompleteAndConsumesNothingMore) {
  RequestParser p;
  ASSERT_EQ(p.feed(as_bytes("GET / HTTP/1.1\r\n\r\n")), RequestParser::State::kComplete);
  std::size_t used = p.consumed();
  EXPECT_EQ(p.feed(as_bytes("more")), RequestParser::State::kComplete);
  EXPECT_EQ(p.consumed(), used);
}

}  // namespace
}  // namespace crossrig::plugctl
