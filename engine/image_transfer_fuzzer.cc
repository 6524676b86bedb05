// Feeds arbitrary bytes to the page server's side of the image transfer, as frames in a row:
// the header decoder, the control messages' parsers and the receiver's state machine, which
// must only ever throw their documented errors and leave no partial image behind.
#include <stdlib.h>

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <string>

#include "engine/ckpt_error.h"
#include "engine/image_transfer.h"

using namespace crossrig::engine;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static const std::string root = [] {
    char tmpl[] = "/tmp/image-transfer-fuzz.XXXXXX";
    if (::mkdtemp(tmpl) == nullptr) abort();
    return std::string(tmpl);
  }();
  {
    ImageReceiver receiver(root);
    std::size_t at = 0;
    try {
      while (size - at >= kHeaderSize) {
        const auto [type, len] =
            decode_header(std::span<const std::uint8_t, kHeaderSize>(data + at, kHeaderSize));
        at += kHeaderSize;
        if (len > size - at) break;
        const Message m{type, std::vector<std::uint8_t>(data + at, data + at + len)};
        at += len;
        try {
          (void)parse_text(m.payload, type == MessageType::kError ? "error" : "path");
        } catch (const ProtocolError&) {
        }
        receiver.on_message(m);
      }
    } catch (const ProtocolError&) {
    } catch (const CkptError&) {
    }
    if (receiver.committed()) std::filesystem::remove_all(receiver.path());
  }
  // A receiver that did not commit removes what it wrote.
  if (!std::filesystem::is_empty(root)) abort();
  return 0;
}
