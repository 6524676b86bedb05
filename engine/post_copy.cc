#include "engine/post_copy.h"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <map>
#include <nlohmann/json.hpp>
#include <vector>

#include "common/hex.h"
#include "common/unique_fd.h"
#include "engine/ckpt_error.h"
#include "engine/phase.h"
#include "engine/task_info.h"

namespace crossrig::engine {

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

namespace {

constexpr auto kConnectBudget = 10s;

}  // namespace

std::uint64_t serve_remote_pages(const std::vector<pid_t>& pids, const PageRequests& requests,
                                 const std::function<void(const std::string&)>& progress) {
  const std::size_t ps = static_cast<std::size_t>(::sysconf(_SC_PAGESIZE));
  std::map<std::uint64_t, UniqueFd> mem;
  for (pid_t p : pids) {
    UniqueFd fd(::open(proc_path(p, "mem").c_str(), O_RDONLY | O_CLOEXEC));
    if (!fd) throw_errno("opening the memory of process " + std::to_string(p));
    mem.emplace(static_cast<std::uint64_t>(p), std::move(fd));
  }
  std::uint64_t sent = 0;
  Clock::time_point said = Clock::now();
  std::vector<std::uint8_t> pages;
  for (;;) {
    const Message m = requests.next();
    if (m.type == MessageType::kPagesDone) return sent;
    PageRequest r;
    try {
      if (m.type != MessageType::kPageRequest)
        throw ProtocolError("sent a message other than PAGE_REQUEST or PAGES_DONE");
      r = parse_page_request(m.payload);
    } catch (const ProtocolError& e) {
      throw CkptError(CkptError::kSystem,
                      "the destination broke the post-copy protocol: " + std::string(e.what()));
    }
    const auto it = mem.find(r.pid);
    if (it == mem.end() || r.npages == 0 || r.npages > kMaxPayload / ps)
      throw CkptError(CkptError::kSystem, "the destination asked for " + std::to_string(r.npages) +
                                              " pages of process " + std::to_string(r.pid) +
                                              ", which it cannot have");
    pages.resize(r.npages * ps);
    if (::pread(it->second.get(), pages.data(), pages.size(), static_cast<off_t>(r.vaddr)) !=
        static_cast<ssize_t>(pages.size()))
      throw_errno("reading the pages at " + std::to_string(r.vaddr) + " of process " +
                  std::to_string(r.pid) + " for the destination");
    requests.answer(pages);
    sent += pages.size();
    if (Clock::now() - said >= 1s) {
      said = Clock::now();
      char text[64];
      std::snprintf(text, sizeof text, "post-copy: %.1f MiB sent",
                    static_cast<double>(sent) / (1 << 20));
      progress(text);
    }
  }
}

namespace {

template <typename F>
auto talk(F f) -> decltype(f()) {
  try {
    return f();
  } catch (const NetError& e) {
    throw CkptError(CkptError::kSystem, std::string("lost the source: ") + e.what());
  } catch (const ProtocolError& e) {
    throw CkptError(CkptError::kSystem, std::string("the source breaks the protocol: ") + e.what());
  }
}

}  // namespace

void SourcePages::fetch(pid_t pid, std::uint64_t vaddr, std::span<std::uint8_t> out) {
  const std::size_t ps = static_cast<std::size_t>(::sysconf(_SC_PAGESIZE));
  const std::size_t most = kMaxPayload / ps * ps;
  enter_phase("receive-post-copy");
  for (std::size_t done = 0; done < out.size();) {
    const std::size_t n = std::min(most, out.size() - done);
    const PageRequest req{static_cast<std::uint64_t>(pid), vaddr + done, n / ps};
    const Message m = talk([&] {
      stream_.write_all(encode_message(MessageType::kPageRequest, encode_page_request(req)),
                        Deadline(timeout_));
      return read_message(stream_, Deadline(timeout_));
    });
    if (m.type == MessageType::kError)
      throw CkptError(CkptError::kSystem, "the source refused pages at " +
                                              std::to_string(req.vaddr) + ": " +
                                              parse_text(m.payload, "error"));
    if (m.type != MessageType::kPages || m.payload.size() != n)
      throw CkptError(CkptError::kSystem, "the source answered a request for " + std::to_string(n) +
                                              " bytes with another message");
    std::copy(m.payload.begin(), m.payload.end(), out.begin() + static_cast<std::ptrdiff_t>(done));
    done += n;
  }
}

void SourcePages::all_arrived() {
  try {
    stream_.write_all(encode_message(MessageType::kPagesDone, {}), Deadline(timeout_));
    stream_.close_notify(Deadline(timeout_));
  } catch (const std::exception&) {
  }
}

std::shared_ptr<SourcePages> connect_source(const HostPort& source, const TlsConfig& tls,
                                            pid_t root_pid) {
  const std::string name = format_host_port(source);
  try {
    const Deadline deadline(kConnectBudget);
    TlsStream stream = connect_tls(source, tls, deadline);
    const nlohmann::json hello{{"protocol", kTransferProtocol}, {"pages_of", root_pid}};
    stream.write_all(encode_message(MessageType::kHello, as_bytes(hello.dump())), deadline);
    const Message m = read_message(stream, deadline);
    if (m.type == MessageType::kError)
      throw CkptError(CkptError::kSystem,
                      "the source " + name + " refused us: " + parse_text(m.payload, "error"));
    if (m.type != MessageType::kReady)
      throw ProtocolError("it answered HELLO with another message than READY");
    return std::make_shared<SourcePages>(std::move(stream), kPostCopySilence);
  } catch (const NetError& e) {
    throw CkptError(CkptError::kSystem,
                    "cannot get the pages from " + name + ": " + e.what() +
                        " (start `ckpt dump --lazy-pages --listen` there, or fix --page-server)");
  } catch (const ProtocolError& e) {
    throw CkptError(CkptError::kSystem, name + " is no `ckpt dump --lazy-pages`: " + e.what());
  }
}

void check_source_hello(const Message& hello, pid_t root_pid) {
  if (hello.type != MessageType::kHello) throw ProtocolError("the first message is not HELLO");
  if (const int protocol = parse_hello(hello.payload); protocol != kTransferProtocol)
    throw ProtocolError("protocol " + std::to_string(protocol) + ", not " +
                        std::to_string(kTransferProtocol) + ": use the same ckpt on both hosts");
  const nlohmann::json doc =
      nlohmann::json::parse(hello.payload.begin(), hello.payload.end(), nullptr, false);
  if (!doc.contains("pages_of") || !doc["pages_of"].is_number_integer())
    throw ProtocolError("HELLO does not say whose pages it wants: a page-server client?");
  if (const auto pid = doc["pages_of"].get<std::int64_t>(); pid != root_pid)
    throw ProtocolError("it restores the tree of process " + std::to_string(pid) +
                        ", but this dump holds the pages of " + std::to_string(root_pid));
}

}  // namespace crossrig::engine
