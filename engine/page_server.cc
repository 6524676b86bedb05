#include "engine/page_server.h"

#include <condition_variable>
#include <filesystem>
#include <memory>
#include <mutex>
#include <optional>
#include <thread>

#include "engine/ckpt_error.h"
#include "engine/image_transfer.h"
#include "engine/phase.h"

namespace crossrig::engine {

PageServer::PageServer(PageServerOptions opts) : opts_(std::move(opts)) {
  if (!std::filesystem::is_directory(opts_.dir))
    throw CkptError(CkptError::kUsage,
                    "page-server -D " + opts_.dir + ": no such directory; make it first");
  listener_ = std::make_unique<TlsListener>(opts_.listen, opts_.tls, "--listen");
}

PageServer::~PageServer() = default;

TransferReport PageServer::serve(UniqueFd fd, std::string peer) const {
  TransferReport r;
  r.peer = std::move(peer);
  ImageReceiver receiver(opts_.dir);
  std::optional<TlsStream> stream;
  // The socket stays open after a failed handshake destroyed its stream, to drain it.
  UniqueFd kept(::dup(fd.get()));
  try {
    stream.emplace(listener_->context(), std::move(fd), r.peer, Deadline(opts_.timeout));
    r.subject = stream->peer_subject();
    while (!receiver.committed()) {
      const Message m = read_message(*stream, Deadline(opts_.timeout));
      const std::optional<Message> reply = receiver.on_message(m);
      if (reply)
        stream->write_all(encode_message(reply->type, reply->payload), Deadline(opts_.timeout));
    }
    r.committed = true;
    stream->close_notify(Deadline(std::chrono::seconds(2)));
  } catch (const std::exception& e) {
    r.error = e.what();
    drop_client(stream, kept.get(), r.error);
  }
  r.path = receiver.path();
  r.files = receiver.files();
  r.bytes = receiver.bytes();
  return r;
}

std::size_t PageServer::run(const std::function<void(const TransferReport&)>& report) {
  // Shared with the connections' threads, which may still unlock it after run() returned.
  struct Counts {
    std::mutex m;
    std::condition_variable ended;
    std::size_t active = 0, committed = 0;
  };
  auto counts = std::make_shared<Counts>();
  while (!stop_ && !g_interrupted.load()) {
    // Wakes up now and then to see stop() and interrupts.
    std::optional<Accepted> client = listener_->accept(200);
    if (!client) continue;
    UniqueFd fd = std::move(client->fd);
    std::string peer = std::move(client->peer);
    std::unique_lock lock(counts->m);
    if (counts->active >= opts_.max_clients) {
      TransferReport busy;
      busy.peer = peer;
      busy.error =
          "refused: already serving " + std::to_string(counts->active) + " clients (--max-clients)";
      report(busy);
      continue;
    }
    ++counts->active;
    std::thread([this, &report, counts, fd = std::move(fd), peer = std::move(peer)]() mutable {
      const TransferReport r = serve(std::move(fd), std::move(peer));
      std::lock_guard done(counts->m);
      if (r.committed) {
        ++counts->committed;
        if (opts_.once) stop_ = true;
      }
      report(r);
      --counts->active;
      counts->ended.notify_all();
    }).detach();
  }
  std::unique_lock lock(counts->m);
  counts->ended.wait(lock, [&] { return counts->active == 0; });
  return counts->committed;
}

}  // namespace crossrig::engine
