// libFuzzer target: the HTTP parser against hostile peers, whole and split in two.

#include <cstddef>
#include <cstdint>
#include <span>

#include "plugctl/http_message.h"

namespace {

template <class Message>
void parse(std::span<const std::uint8_t> bytes) {
  crossrig::plugctl::HttpParser<Message> whole(512, 4096);
  whole.feed(bytes);
  std::size_t split = bytes.empty() ? 0 : bytes[0] % bytes.size();
  crossrig::plugctl::HttpParser<Message> parts(512, 4096);
  if (parts.feed(bytes.first(split)) == crossrig::plugctl::HttpParser<Message>::State::kNeedMore) {
    parts.feed(bytes.subspan(split));
  }
  if (parts.state() != whole.state()) __builtin_trap();
  if (whole.state() == crossrig::plugctl::HttpParser<Message>::State::kComplete) {
    if (parts.consumed() != whole.consumed()) __builtin_trap();
    crossrig::plugctl::HttpParser<Message> again;
    auto wire = serialize(whole.message());
    if (again.feed({reinterpret_cast<const std::uint8_t*>(wire.data()), wire.size()}) !=
        crossrig::plugctl::HttpParser<Message>::State::kComplete) {
      __builtin_trap();
    }
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::span<const std::uint8_t> bytes(data, size);
  parse<crossrig::plugctl::HttpRequest>(bytes);
  parse<crossrig::plugctl::HttpResponse>(bytes);
  return 0;
}
