#pragma once
// Both ends of post-copy: the source answers the destination's requests for the pages a dump
// left in the frozen tree (DumpOptions::leave_remote), the destination's lazy-pages server
// asks for them (RemotePages). `ckpt migrate --lazy` runs it over the migration's connection,
// `ckpt dump --lazy-pages` and `ckpt restore --lazy-pages --page-server` over their own.

#include <sys/types.h>

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string>

#include "common/host_port.h"
#include "common/tls.h"
#include "engine/image_transfer.h"
#include "engine/lazy_pages.h"

namespace crossrig::engine {

/// Both ends of post-copy ask or answer without pause until every page is in: silence this
/// long from the other end is a lost link.
inline constexpr std::chrono::seconds kPostCopySilence{60};

/// The source's side of the connection.
struct PageRequests {
  /// The destination's next message; throws CkptError when it does not come in time or the
  /// link is lost.
  std::function<Message()> next;
  /// Sends PAGES with these bytes.
  std::function<void(std::span<const std::uint8_t>)> answer;
};

/// Serves the pages of the processes pids (as held by a dump) until the destination says it
/// has them all (PAGES_DONE); returns the bytes sent. progress gets a line every second.
/// Throws CkptError when the destination breaks the protocol or asks for what is not theirs.
std::uint64_t serve_remote_pages(const std::vector<pid_t>& pids, const PageRequests& requests,
                                 const std::function<void(const std::string&)>& progress);

/// The destination's side: fetches pages over stream, each exchange within timeout.
class SourcePages : public RemotePages {
 public:
  /// Over a connection the caller keeps (a migration's).
  SourcePages(TlsStream& stream, std::chrono::milliseconds timeout)
      : stream_(stream), timeout_(timeout) {}
  /// Over a connection of its own (connect_source).
  SourcePages(TlsStream&& stream, std::chrono::milliseconds timeout)
      : own_(std::move(stream)), stream_(*own_), timeout_(timeout) {}

  void fetch(pid_t pid, std::uint64_t vaddr, std::span<std::uint8_t> out) override;
  /// Says PAGES_DONE: a source that died just now cannot hear it, and the tree must run here.
  /// (Only a link lost before PAGES_DONE arrives, both ends alive, lets the source resume.)
  void all_arrived() override;
  int fd() const override { return stream_.fd(); }

 private:
  std::optional<TlsStream> own_;
  TlsStream& stream_;
  std::chrono::milliseconds timeout_;
};

/// Connects to the `ckpt dump --lazy-pages` on source that holds the pages of the tree with
/// root root_pid, which checks it is the one. Throws CkptError: kUsage for unusable TLS
/// files, kSystem naming the source when it cannot be reached or refuses.
std::shared_ptr<SourcePages> connect_source(const HostPort& source, const TlsConfig& tls,
                                            pid_t root_pid);

/// The source's side of connect_source: the HELLO of a destination that wants the pages of
/// the tree with root root_pid; throws ProtocolError saying what is wrong.
void check_source_hello(const Message& hello, pid_t root_pid);

}  // namespace crossrig::engine
