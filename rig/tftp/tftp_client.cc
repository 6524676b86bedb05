#include "rig/tftp/tftp_client.h"

#include <poll.h>
#include <sys/socket.h>

#include <cerrno>
#include <charconv>
#include <cstring>

#include "common/unique_fd.h"

namespace crossrig::rig::tftp {
namespace {

std::uint16_t number_option(const std::vector<Option>& options, std::string_view name,
                            std::uint16_t fallback) {
  auto text = find_option(options, name);
  if (!text) return fallback;
  std::uint16_t value = fallback;
  std::from_chars(text->data(), text->data() + text->size(), value);
  return value;
}

}  // namespace

FetchResult fetch(const crossrig::SocketAddress& server, const std::string& file,
                  const FetchOptions& options) {
  FetchResult result;
  crossrig::UniqueFd fd(socket(server.family(), SOCK_DGRAM | SOCK_CLOEXEC, 0));
  if (!fd) {
    result.error = std::string("socket: ") + std::strerror(errno);
    return result;
  }
  int rcvbuf = options.receive_buffer;
  if (setsockopt(fd.get(), SOL_SOCKET, SO_RCVBUFFORCE, &rcvbuf, sizeof rcvbuf) != 0) {
    setsockopt(fd.get(), SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof rcvbuf);
  }
  Request request{Opcode::kRrq, file, options.mode, {}};
  if (options.blksize) request.options.emplace_back("blksize", std::to_string(options.blksize));
  if (options.tsize) request.options.emplace_back("tsize", "0");
  if (options.windowsize) {
    request.options.emplace_back("windowsize", std::to_string(options.windowsize));
  }
  std::vector<std::uint8_t> last_sent = encode(request);
  crossrig::SocketAddress peer = server;
  bool connected = false;
  std::uint16_t blksize = 512, windowsize = 1;
  std::uint64_t expected = 1;   // next block wanted
  std::uint64_t in_window = 0;  // blocks since the last ACK
  std::vector<std::uint8_t> buffer(kMaxPacket + 1);
  int retries = 0;

  auto send_last = [&] {
    return sendto(fd.get(), last_sent.data(), last_sent.size(), 0, peer.get(), peer.length) >= 0;
  };
  auto ack = [&](std::uint64_t block) {
    last_sent = encode(Ack{static_cast<std::uint16_t>(block & 0xffff)});
    in_window = 0;
    return send_last();
  };
  if (!send_last()) {
    result.error = std::string("send: ") + std::strerror(errno);
    return result;
  }
  for (;;) {
    pollfd p{fd.get(), POLLIN, 0};
    int ready = poll(&p, 1, static_cast<int>(options.timeout.count()));
    if (ready == 0) {
      if (++retries > options.retries) {
        result.error = "timed out after " + std::to_string(options.retries) + " retries";
        return result;
      }
      if (expected > 1 || connected) {
        ack(expected - 1);
      } else {
        send_last();
      }
      continue;
    }
    crossrig::SocketAddress from;
    from.length = sizeof from.storage;
    ssize_t n = recvfrom(fd.get(), buffer.data(), buffer.size(), 0, from.get(), &from.length);
    if (n < 0) {
      if (errno == EINTR) continue;
      result.error = std::string("receive: ") + std::strerror(errno);
      return result;
    }
    if (!connected) {
      peer = from;
      connected = true;
    } else if (std::memcmp(from.get(), peer.get(), peer.length) != 0) {
      continue;  // another TID
    }
    auto decoded = decode(std::span<const std::uint8_t>(buffer.data(), std::size_t(n)));
    const auto* packet = std::get_if<Packet>(&decoded);
    if (packet == nullptr) continue;
    if (const auto* e = std::get_if<Error>(packet)) {
      result.error = e->message;
      result.code = e->code;
      return result;
    }
    if (const auto* o = std::get_if<Oack>(packet)) {
      if (expected != 1) continue;
      result.oack = o->options;
      blksize = number_option(o->options, "blksize", 512);
      windowsize = number_option(o->options, "windowsize", 1);
      ack(0);
      continue;
    }
    const auto* data = std::get_if<Data>(packet);
    if (data == nullptr) continue;
    if (data->block != static_cast<std::uint16_t>(expected & 0xffff)) {
      // A gap: say where we are so the server resends from there (RFC 7440).
      if (static_cast<std::uint16_t>(data->block - expected) < 0x8000) ack(expected - 1);
      continue;
    }
    retries = 0;
    if (options.keep_data)
      result.data.insert(result.data.end(), data->data.begin(), data->data.end());
    result.bytes += data->data.size();
    ++expected;
    ++in_window;
    if (data->data.size() < blksize) {
      ack(expected - 1);
      result.ok = true;
      return result;
    }
    if (in_window >= windowsize) ack(expected - 1);
  }
}

}  // namespace crossrig::rig::tftp
