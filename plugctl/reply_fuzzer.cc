// Fuzzes every decoder of bytes a plug (or something pretending to be one) sends us: the XOR
// TCP frame and the JSON reply checks and device-model readers behind it, the TDP discovery
// reply and discovery answer parser, and the HTTP response parser under any split.
// Expected rejections are PlugError; anything else escaping is a bug.

#include <cstddef>
#include <cstdint>
#include <span>

#include "plugctl/device_model.h"
#include "plugctl/discover.h"
#include "plugctl/discovery_codec.h"
#include "plugctl/errors.h"
#include "plugctl/http_message.h"
#include "plugctl/klap_transport.h"
#include "plugctl/reply.h"

namespace {

using crossrig::plugctl::PlugError;
using nlohmann::json;

void xor_reply(std::span<const std::uint8_t> data) {
  using namespace crossrig::plugctl;
  try {
    json reply = parse_json_reply(decode_xor_tcp_reply(data, "fuzz"), "fuzz");
    check_reply({{"system", {{"get_sysinfo", json::object()}}}}, reply, "fuzz");
    json info = sysinfo_of(reply, "fuzz");
    summarize_sysinfo(info, "fuzz");
    auto outlets = outlets_of(info, "fuzz");
    if (!outlets.empty()) select_outlet(outlets, "2", "fuzz");
    normalize_realtime(info, "fuzz");
  } catch (const PlugError&) {
  }
  try {
    json reply = parse_json_reply(
        std::string_view(reinterpret_cast<const char*>(data.data()), data.size()), "fuzz");
    normalize_stats(reply.contains("day_list") ? reply["day_list"] : reply, "fuzz");
    format_device_time(reply, "fuzz");
  } catch (const PlugError&) {
  }
}

void http_response(std::span<const std::uint8_t> data) {
  using crossrig::plugctl::HttpParser;
  using crossrig::plugctl::HttpResponse;
  HttpParser<HttpResponse> parser(1024, 4096);
  std::size_t split = data.empty() ? 0 : data[0] % (data.size() + 1);
  auto state = parser.feed(data.first(split));
  if (state == HttpParser<HttpResponse>::State::kNeedMore) state = parser.feed(data.subspan(split));
  if (state == HttpParser<HttpResponse>::State::kComplete) {
    if (auto cookie = parser.message().headers.get("Set-Cookie")) {
      crossrig::plugctl::klap_session_cookie(*cookie);
    }
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* bytes, std::size_t size) {
  std::span<const std::uint8_t> data(bytes, size);
  xor_reply(data);
  crossrig::plugctl::decode_klap_discovery_reply(data);
  crossrig::plugctl::parse_discovery_answer(data, "127.0.0.1");
  http_response(data);
  return 0;
}
