// bench-tftp-limit: the protocol's limit for bench-tftp. A minimal TFTP responder that serves
// one file from memory with no timers, no retransmissions and no checks beyond what a
// well-behaved client needs: RRQ -> OACK (blksize, windowsize as asked) -> windows of DATA.
// Prints {"port": N} once listening on 127.0.0.1; runs until killed.
#include <netinet/in.h>
#include <sys/epoll.h>
#include <sys/socket.h>

#include <algorithm>
#include <array>
#include <charconv>
#include <fstream>
#include <iostream>
#include <iterator>
#include <memory>
#include <unordered_map>
#include <vector>

#include "common/unique_fd.h"
#include "rig/tftp/tftp_packet.h"

namespace {

using crossrig::UniqueFd;
using namespace crossrig::rig::tftp;

struct Transfer {
  UniqueFd fd;
  std::uint64_t blksize = 512, window = 1, blocks = 0, acked = 0;
};

std::uint64_t option(const Request& r, std::string_view name, std::uint64_t fallback) {
  auto text = find_option(r.options, name);
  std::uint64_t v = fallback;
  if (text) std::from_chars(text->data(), text->data() + text->size(), v);
  return v;
}

void send_window(Transfer& t, const std::vector<std::uint8_t>& file) {
  std::uint64_t first = t.acked + 1, last = std::min(t.acked + t.window, t.blocks);
  std::vector<std::array<std::uint8_t, 4>> headers(last - first + 1);
  std::vector<std::array<iovec, 2>> iov(headers.size());
  std::vector<mmsghdr> msgs(headers.size());
  for (std::uint64_t b = first; b <= last; ++b) {
    std::size_t i = b - first;
    std::uint64_t offset = (b - 1) * t.blksize;
    std::size_t length = std::min<std::uint64_t>(t.blksize, file.size() - offset);
    encode_data_header(static_cast<std::uint16_t>(b), headers[i]);
    iov[i][0] = {headers[i].data(), 4};
    iov[i][1] = {const_cast<std::uint8_t*>(file.data() + offset), length};
    msgs[i].msg_hdr.msg_iov = iov[i].data();
    msgs[i].msg_hdr.msg_iovlen = 2;
  }
  sendmmsg(t.fd.get(), msgs.data(), static_cast<unsigned>(msgs.size()), 0);
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 2 || std::string_view(argv[1]) == "--help") {
    std::cerr << "Usage: bench-tftp-limit FILE\n(serves FILE under any name on 127.0.0.1, a "
                 "free port printed as JSON; exit codes: 0 never, 2 usage, 1 failure)\n";
    return argc == 2 ? 0 : 2;
  }
  std::ifstream in(argv[1], std::ios::binary);
  std::vector<std::uint8_t> file((std::istreambuf_iterator<char>(in)), {});
  if (!in.good() && !in.eof()) {
    std::cerr << "bench-tftp-limit: cannot read " << argv[1] << "\n";
    return 1;
  }
  UniqueFd listener(socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0));
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof addr;
  if (bind(listener.get(), reinterpret_cast<sockaddr*>(&addr), len) != 0 ||
      getsockname(listener.get(), reinterpret_cast<sockaddr*>(&addr), &len) != 0) {
    std::cerr << "bench-tftp-limit: cannot bind a loopback port\n";
    return 1;
  }
  std::cout << "{\"port\": " << ntohs(addr.sin_port) << "}" << std::endl;
  UniqueFd ep(epoll_create1(EPOLL_CLOEXEC));
  epoll_event ev{EPOLLIN, {}};
  ev.data.fd = listener.get();
  epoll_ctl(ep.get(), EPOLL_CTL_ADD, listener.get(), &ev);
  std::unordered_map<int, std::unique_ptr<Transfer>> transfers;
  std::vector<std::uint8_t> buffer(kMaxPacket);
  for (;;) {
    epoll_event events[64];
    int n = epoll_wait(ep.get(), events, 64, -1);
    for (int i = 0; i < n; ++i) {
      int fd = events[i].data.fd;
      if (fd == listener.get()) {
        sockaddr_in from{};
        socklen_t from_len = sizeof from;
        ssize_t got = recvfrom(fd, buffer.data(), buffer.size(), 0,
                               reinterpret_cast<sockaddr*>(&from), &from_len);
        if (got < 0) continue;
        auto d = decode(std::span<const std::uint8_t>(buffer.data(), std::size_t(got)));
        const auto* p = std::get_if<Packet>(&d);
        const auto* r = p ? std::get_if<Request>(p) : nullptr;
        if (r == nullptr) continue;
        auto t = std::make_unique<Transfer>();
        t->fd.reset(socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0));
        int sndbuf = 8 << 20;
        setsockopt(t->fd.get(), SOL_SOCKET, SO_SNDBUFFORCE, &sndbuf, sizeof sndbuf);
        connect(t->fd.get(), reinterpret_cast<sockaddr*>(&from), from_len);
        t->blksize = std::min<std::uint64_t>(option(*r, "blksize", 512), 65464);
        t->window = option(*r, "windowsize", 1);
        t->blocks = file.size() / t->blksize + 1;
        Oack oack;
        if (find_option(r->options, "blksize"))
          oack.options.emplace_back("blksize", std::to_string(t->blksize));
        if (find_option(r->options, "windowsize"))
          oack.options.emplace_back("windowsize", std::to_string(t->window));
        if (oack.options.empty()) {
          send_window(*t, file);
        } else {
          auto bytes = encode(oack);
          send(t->fd.get(), bytes.data(), bytes.size(), 0);
        }
        ev.data.fd = t->fd.get();
        epoll_ctl(ep.get(), EPOLL_CTL_ADD, t->fd.get(), &ev);
        transfers.emplace(t->fd.get(), std::move(t));
        continue;
      }
      auto it = transfers.find(fd);
      if (it == transfers.end()) continue;
      Transfer& t = *it->second;
      ssize_t got = recv(fd, buffer.data(), buffer.size(), 0);
      if (got != 4 || buffer[1] != 4) continue;
      auto block = static_cast<std::uint16_t>(buffer[2] << 8 | buffer[3]);
      t.acked += static_cast<std::uint16_t>(block - static_cast<std::uint16_t>(t.acked));
      if (t.acked >= t.blocks) {
        transfers.erase(it);
      } else {
        send_window(t, file);
      }
    }
  }
}
