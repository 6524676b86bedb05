// Fuzz target: the TFTP packet decoder, and the transfer state machine fed decoded garbage.
#include <cstddef>
#include <cstdint>
#include <span>

#include "rig/tftp/tftp_transfer.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::span<const std::uint8_t> bytes(data, size);
  auto decoded = crossrig::rig::tftp::decode(bytes);
  if (const auto* packet = std::get_if<crossrig::rig::tftp::Packet>(&decoded)) {
    if (const auto* request = std::get_if<crossrig::rig::tftp::Request>(packet)) {
      auto n = crossrig::rig::tftp::negotiate(request->options, size, {});
      if (const auto* params = std::get_if<crossrig::rig::tftp::Negotiated>(&n)) {
        crossrig::rig::tftp::ReadTransfer t({size, *params, 3, std::chrono::milliseconds(8000)},
                                            {});
        t.start({});
        t.on_packet(bytes, {});
        t.on_timeout({});
      }
    }
  }
  return 0;
}
