#include "engine/receive.h"

#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <optional>
#include <system_error>

#include "common/hex.h"
#include "engine/ckpt_error.h"
#include "engine/image.h"
#include "engine/image_transfer.h"
#include "engine/phase.h"
#include "engine/post_copy.h"
#include "engine/restore.h"

namespace crossrig::engine {

namespace fs = std::filesystem;
using namespace std::chrono_literals;

namespace {

void reply(TlsStream& stream, MessageType type, const nlohmann::json& body,
           std::chrono::milliseconds budget) {
  stream.write_all(encode_message(type, as_bytes(body.dump())), Deadline(budget));
}

struct RestoreRequest {
  std::string image;
  bool lazy = false;
};

RestoreRequest parse_restore(std::span<const std::uint8_t> payload) {
  const nlohmann::json doc = nlohmann::json::parse(payload.begin(), payload.end(), nullptr, false);
  if (!doc.is_object() || !doc.contains("image") || !doc["image"].is_string() ||
      !doc.value("lazy", nlohmann::json(false)).is_boolean())
    throw ProtocolError("RESTORE needs {\"image\": NAME, \"lazy\": BOOL}");
  RestoreRequest r{doc["image"].get<std::string>(), doc.value("lazy", false)};
  check_component(r.image, "the image to restore");
  return r;
}

// Waits for the lazy-pages server of a post-copy migration; true when it got every page.
bool post_copy_done(pid_t server) {
  int status = 0;
  while (::waitpid(server, &status, 0) < 0) {
    if (errno != EINTR) return false;
  }
  return WIFEXITED(status) && WEXITSTATUS(status) == 0;
}

}  // namespace

Receiver::Receiver(ReceiveOptions opts) : opts_(std::move(opts)) {
  std::error_code ec;
  fs::create_directories(opts_.dir, ec);
  if (!fs::is_directory(opts_.dir))
    throw CkptError(CkptError::kUsage,
                    "receive -D " + opts_.dir + ": cannot make the directory: " + ec.message());
  listener_ = std::make_unique<TlsListener>(opts_.listen, opts_.tls, "--listen");
}

ReceiveResult Receiver::run(
    const std::function<void(const std::string& peer, const std::string& why)>& refused) {
  while (!g_interrupted.load()) {
    // Wakes up now and then to see interrupts.
    std::optional<Accepted> client = listener_->accept(200);
    if (!client) continue;
    ReceiveResult r;
    r.peer = client->peer;
    std::optional<TlsStream> stream;
    // The socket stays open after a failed handshake destroyed its stream, to drain it.
    UniqueFd kept(::dup(client->fd.get()));
    try {
      stream.emplace(listener_->context(), std::move(client->fd), r.peer, Deadline(opts_.timeout));
    } catch (const std::exception& e) {
      refused(r.peer, e.what());
      drop_client(stream, kept.get(), e.what());
      continue;
    }
    r.subject = stream->peer_subject();
    bool keep_images = false;
    try {
      const pid_t lazy_server = serve(*stream, r);
      if (lazy_server == 0) {
        r.migrated = true;
        stream->close_notify(Deadline(1s));
        return r;
      }
      // The server has the connection now: its end is the migration's.
      const auto start = std::chrono::steady_clock::now();
      if (post_copy_done(lazy_server)) {
        r.migrated = true;
        r.post_copy_seconds =
            std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
        return r;
      }
      r.error =
          "post-copy failed (the lazy-pages server says why above): the tree was killed here "
          "and runs on at the source, unless the source itself was lost";
    } catch (const std::exception& e) {
      if (r.migrated) return r;
      r.error = e.what();
      drop_client(stream, kept.get(), r.error);
      // Useless once the source resumed; after a commit they may be the process's only copy.
      keep_images = r.committed;
    }
    if (!keep_images) {
      for (const std::string& image : r.images) {
        std::error_code ec;
        fs::remove_all(image, ec);
      }
    }
    return r;
  }
  ReceiveResult r;
  r.error = "interrupted before a migration came";
  return r;
}

pid_t Receiver::serve(TlsStream& stream, ReceiveResult& r) {
  ImageReceiver images(opts_.dir);
  for (;;) {
    const Message m = read_message(stream, Deadline(opts_.timeout));
    if (m.type == MessageType::kRestore && images.between_images()) {
      const RestoreRequest req = parse_restore(m.payload);
      const std::string dir = opts_.dir + "/" + req.image;
      if (std::find(r.images.begin(), r.images.end(), dir) == r.images.end())
        throw ProtocolError("RESTORE of " + req.image + ", which was not received");
      return restore_held(stream, dir, req.lazy, r);
    }
    if (m.type == MessageType::kBegin) enter_phase("receive-image");
    const std::optional<Message> answer = images.on_message(m);
    if (images.committed()) {
      r.images.push_back(images.path());
      r.bytes += images.bytes();
      images.next_image();
    }
    if (answer)
      stream.write_all(encode_message(answer->type, answer->payload), Deadline(opts_.timeout));
  }
}

pid_t Receiver::restore_held(TlsStream& stream, const std::string& dir, bool lazy,
                             ReceiveResult& r) {
  enter_phase("receive-restore");
  r.lazy = lazy;
  r.pid = ImageReader(dir, ImageReader::Contents::kMetadataOnly)
              .inventory()
              .value("root_pid", pid_t{0});
  RestoreOptions o;
  o.dir = dir;
  o.detach = true;
  o.pidfile = opts_.pidfile;
  o.lazy_pages = lazy;
  pid_t lazy_server = 0;
  if (lazy) {
    o.remote_pages = std::make_shared<SourcePages>(stream, opts_.timeout);
    o.lazy_server_started = [&](pid_t server) { lazy_server = server; };
  }
  // Once DONE may be out, an interrupt must not kill the tree: the source kills its copy.
  std::optional<InterruptsHeld> committing;
  // The tree is built and held, dying with us: the source may now give up its copy.
  o.before_running = [&] {
    reply(stream, MessageType::kRestored, {{"pid", r.pid}}, opts_.timeout);
    enter_phase("receive-commit");
    const Message m = read_message(stream, Deadline(opts_.timeout));
    if (m.type != MessageType::kCommit)
      throw ProtocolError("the source sent another message than COMMIT after RESTORED");
    committing.emplace("receive-release");
    enter_phase("receive-release");
    // The source committed: its copy dies with its ckpt, and is killed once it hears this.
    // A source that died just now cannot hear it, and the tree must run here. (Only a link
    // lost between COMMIT and this DONE, both ends alive, lets the source resume too.)
    try {
      reply(stream, MessageType::kDone, nlohmann::json::object(), 2s);
    } catch (const std::exception&) {
    }
    r.committed = true;
  };
  restore(o);
  if (lazy_server == 0) r.migrated = true;
  return lazy_server;
}

}  // namespace crossrig::engine
