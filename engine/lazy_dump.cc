#include "engine/lazy_dump.h"

#include <unistd.h>

#include <optional>

#include "engine/ckpt_error.h"
#include "engine/image_transfer.h"
#include "engine/phase.h"
#include "engine/post_copy.h"
#include "engine/tls_listener.h"

namespace crossrig::engine {

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

namespace {

constexpr auto kHandshakeBudget = 10s;

// The first destination that presents a certificate of our CA and asks for this tree's
// pages; others are refused and waited past.
TlsStream accept_destination(TlsListener& listener, pid_t root, const LazyDumpOptions& opts,
                             const LazyDumpEvents& events, std::string& peer) {
  const Clock::time_point until = Clock::now() + opts.wait;
  while (opts.wait.count() == 0 || Clock::now() < until) {
    enter_phase("lazy-dump-wait");
    std::optional<Accepted> client = listener.accept(200);
    if (!client) continue;
    std::optional<TlsStream> stream;
    // The socket stays open after a failed handshake destroyed its stream, to drain it.
    UniqueFd kept(::dup(client->fd.get()));
    try {
      stream.emplace(listener.context(), std::move(client->fd), client->peer,
                     Deadline(kHandshakeBudget));
      check_source_hello(read_message(*stream, Deadline(kHandshakeBudget)), root);
      stream->write_all(encode_message(MessageType::kReady, {}), Deadline(kHandshakeBudget));
    } catch (const std::exception& e) {
      events.refused(client->peer, e.what());
      drop_client(stream, kept.get(), e.what());
      continue;
    }
    peer = client->peer;
    return std::move(*stream);
  }
  throw CkptError(CkptError::kSystem, "no destination asked for the pages within " +
                                          std::to_string(opts.wait.count()) +
                                          " s; the tree runs on here");
}

}  // namespace

LazyDumpResult dump_lazy(LazyDumpOptions opts, const LazyDumpEvents& events) {
  // Before the tree is touched: a taken port or unusable certificates fail here.
  TlsListener listener(opts.listen, opts.tls, "--listen");
  events.listening(listener.port());
  LazyDumpResult result;
  opts.dump.leave_remote = true;
  opts.dump.decide = [&](const DumpResult& d, HeldTree& held) {
    events.waiting(d);
    TlsStream stream = accept_destination(listener, opts.dump.pid, opts, events, result.peer);
    const Clock::time_point start = Clock::now();
    events.progress("serving " + result.peer);
    // From now on the destination may run the tree: should we die, ours must too.
    held.die_with_ckpt(true);
    try {
      const PageRequests requests{
          [&] {
            enter_phase("lazy-dump-serve");
            Message m = read_message(stream, Deadline(kPostCopySilence));
            if (m.type == MessageType::kError)
              throw CkptError(CkptError::kSystem,
                              "the destination gave up: " + parse_text(m.payload, "error"));
            return m;
          },
          [&](std::span<const std::uint8_t> pages) {
            stream.write_all(encode_message(MessageType::kPages, pages),
                             Deadline(kPostCopySilence));
          }};
      result.served_bytes = serve_remote_pages(held.pids, requests, events.progress);
    } catch (const NetError& e) {
      held.die_with_ckpt(false);
      throw CkptError(CkptError::kSystem, "lost the destination " + result.peer + " (" + e.what() +
                                              ") before it had every page; the tree "
                                              "runs on here");
    } catch (const ProtocolError& e) {
      held.die_with_ckpt(false);
      throw CkptError(CkptError::kSystem, "the destination " + result.peer +
                                              " broke the protocol (" + e.what() +
                                              "); the tree runs on here");
    } catch (...) {
      held.die_with_ckpt(false);
      throw;
    }
    result.serve_seconds = std::chrono::duration<double>(Clock::now() - start).count();
    return true;
  };
  result.dump = dump(opts.dump);
  return result;
}

}  // namespace crossrig::engine
