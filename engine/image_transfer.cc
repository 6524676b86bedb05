#include "engine/image_transfer.h"

#include <fcntl.h>
#include <openssl/evp.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <filesystem>
#include <map>
#include <nlohmann/json.hpp>

#include "common/hex.h"
#include "engine/ckpt_error.h"
#include "engine/image.h"

namespace crossrig::engine {

namespace fs = std::filesystem;
using namespace std::chrono_literals;

namespace {

// How long the client waits for one message of the server: READY comes at once, DONE once
// the server has checked and committed the image (files are synced as they end).
constexpr auto kReplyBudget = 60s;
// How long one frame may take to go out: a server that stops reading for this long is gone.
constexpr auto kSendBudget = 60s;

nlohmann::json parse_object(std::span<const std::uint8_t> payload, const char* what) {
  nlohmann::json doc = nlohmann::json::parse(payload.begin(), payload.end(), nullptr, false);
  if (doc.is_discarded() || !doc.is_object())
    throw ProtocolError(std::string(what) + " is not a JSON object");
  return doc;
}

std::string string_field(const nlohmann::json& doc, const char* key, const char* what) {
  auto it = doc.find(key);
  if (it == doc.end() || !it->is_string())
    throw ProtocolError(std::string(what) + " lacks the text field \"" + key + "\"");
  return it->get<std::string>();
}

int int_field(const nlohmann::json& doc, const char* key, const char* what) {
  auto it = doc.find(key);
  if (it == doc.end() || !it->is_number_integer())
    throw ProtocolError(std::string(what) + " lacks the number field \"" + key + "\"");
  return it->get<int>();
}

std::vector<std::uint8_t> json_payload(const nlohmann::json& doc) {
  const std::string text = doc.dump();
  return {text.begin(), text.end()};
}

const char* type_name(MessageType t) {
  switch (t) {
    case MessageType::kHello:
      return "HELLO";
    case MessageType::kBegin:
      return "BEGIN";
    case MessageType::kFile:
      return "FILE";
    case MessageType::kData:
      return "DATA";
    case MessageType::kFileEnd:
      return "FILE_END";
    case MessageType::kEnd:
      return "END";
    case MessageType::kReady:
      return "READY";
    case MessageType::kDone:
      return "DONE";
    case MessageType::kError:
      return "ERROR";
    case MessageType::kRestore:
      return "RESTORE";
    case MessageType::kRestored:
      return "RESTORED";
    case MessageType::kCommit:
      return "COMMIT";
    case MessageType::kPageRequest:
      return "PAGE_REQUEST";
    case MessageType::kPages:
      return "PAGES";
    case MessageType::kPagesDone:
      return "PAGES_DONE";
  }
  return "?";
}

}  // namespace

std::vector<std::uint8_t> encode_page_request(const PageRequest& r) {
  std::vector<std::uint8_t> out(24);
  const std::uint64_t fields[] = {r.pid, r.vaddr, r.npages};
  for (std::size_t f = 0; f < 3; ++f) {
    for (std::size_t i = 0; i < 8; ++i)
      out[f * 8 + i] = static_cast<std::uint8_t>(fields[f] >> (56 - 8 * i));
  }
  return out;
}

PageRequest parse_page_request(std::span<const std::uint8_t> payload) {
  if (payload.size() != 24)
    throw ProtocolError("PAGE_REQUEST of " + std::to_string(payload.size()) +
                        " bytes instead of 24");
  std::uint64_t fields[3] = {};
  for (std::size_t f = 0; f < 3; ++f) {
    for (std::size_t i = 0; i < 8; ++i)
      fields[f] = (fields[f] << 8) | payload[f * 8 + i];
  }
  return {fields[0], fields[1], fields[2]};
}

std::vector<std::uint8_t> encode_message(MessageType type, std::span<const std::uint8_t> payload) {
  if (payload.size() > kMaxPayload)
    throw std::logic_error("a frame of " + std::to_string(payload.size()) + " bytes");
  const auto len = static_cast<std::uint32_t>(payload.size());
  std::vector<std::uint8_t> out(kHeaderSize + payload.size());
  out[0] = static_cast<std::uint8_t>(type);
  for (int i = 0; i < 4; ++i)
    out[1 + i] = static_cast<std::uint8_t>(len >> (24 - 8 * i));
  std::copy(payload.begin(), payload.end(), out.begin() + kHeaderSize);
  return out;
}

std::pair<MessageType, std::uint32_t> decode_header(std::span<const std::uint8_t, kHeaderSize> h) {
  if (h[0] < static_cast<std::uint8_t>(MessageType::kHello) ||
      h[0] > static_cast<std::uint8_t>(MessageType::kPagesDone))
    throw ProtocolError("unknown message type " + std::to_string(h[0]) + " (not a ckpt peer?)");
  const std::uint32_t len = (std::uint32_t{h[1]} << 24) | (std::uint32_t{h[2]} << 16) |
                            (std::uint32_t{h[3]} << 8) | std::uint32_t{h[4]};
  const auto type = static_cast<MessageType>(h[0]);
  if (len > kMaxPayload)
    throw ProtocolError(std::string(type_name(type)) + " message of " + std::to_string(len) +
                        " bytes, more than the limit of " + std::to_string(kMaxPayload));
  return {type, len};
}

Message read_message(TlsStream& stream, const Deadline& deadline) {
  std::array<std::uint8_t, kHeaderSize> h;
  stream.read_exact(h, deadline);
  const auto [type, len] = decode_header(h);
  Message m{type, std::vector<std::uint8_t>(len)};
  stream.read_exact(m.payload, deadline);
  return m;
}

void check_component(const std::string& name, const char* what) {
  if (name.empty() || name.starts_with('.') || name.find('/') != std::string::npos ||
      name.find('\0') != std::string::npos || name.size() > 255)
    throw ProtocolError(std::string(what) + " \"" + name +
                        "\" is not a plain name (one path component, not starting with '.')");
}

int parse_hello(std::span<const std::uint8_t> payload) {
  return int_field(parse_object(payload, "HELLO"), "protocol", "HELLO");
}

BeginFields parse_begin(std::span<const std::uint8_t> payload) {
  const nlohmann::json doc = parse_object(payload, "BEGIN");
  BeginFields f{string_field(doc, "name", "BEGIN"), int_field(doc, "format_version", "BEGIN")};
  check_component(f.name, "image name");
  return f;
}

FileFields parse_file(std::span<const std::uint8_t> payload) {
  const nlohmann::json doc = parse_object(payload, "FILE");
  FileFields f{string_field(doc, "name", "FILE"), string_field(doc, "algo", "FILE")};
  check_component(f.name, "file name");
  if (f.name == "inventory.json") throw ProtocolError("FILE names inventory.json, which END sends");
  if (f.algo != "sha256" && f.algo != "xxh3")
    throw ProtocolError("FILE " + f.name + " has unknown checksum algorithm " + f.algo);
  return f;
}

std::string parse_text(std::span<const std::uint8_t> payload, const char* key) {
  return string_field(parse_object(payload, "reply"), key, "reply");
}

// ---- The client ----

ImageSender::ImageSender(const HostPort& server, const TlsConfig& tls, const std::string& name)
    : ImageSender(server, tls,
                  ServerRole{"page server",
                             "start `ckpt page-server --listen` there, or fix --page-server"}) {
  begin(name);
}

TlsStream connect_tls(const HostPort& server, const TlsConfig& tls, const Deadline& deadline) {
  std::optional<TlsContext> ctx;
  try {
    ctx.emplace(TlsContext::Role::kClient, tls);
  } catch (const TlsConfigError& e) {
    throw CkptError(CkptError::kUsage, e.what());
  }
  return TlsStream(*ctx, connect_tcp(server, deadline), format_host_port(server), deadline);
}

ImageSender::ImageSender(const HostPort& server, const TlsConfig& tls, ServerRole role)
    : server_(format_host_port(server)), role_(std::move(role)) {
  guarded("connecting", [&] {
    stream_.emplace(connect_tls(server, tls, Deadline(10s)));
    send(MessageType::kHello, json_payload({{"protocol", kTransferProtocol}}));
    expect_reply(MessageType::kReady, "HELLO", kReplyBudget);
  });
}

void ImageSender::begin(const std::string& name) {
  guarded("beginning an image", [&] {
    send(MessageType::kBegin,
         json_payload({{"name", name}, {"format_version", kImageFormatVersion}}));
    expect_reply(MessageType::kReady, "BEGIN", kReplyBudget);
  });
}

void ImageSender::tell(MessageType type, std::span<const std::uint8_t> payload, const char* doing) {
  guarded(doing, [&] { send(type, payload); });
}

Message ImageSender::await(MessageType reply, std::chrono::milliseconds budget, const char* doing) {
  return guarded(doing, [&] { return expect_reply(reply, doing, budget); });
}

Message ImageSender::next(std::chrono::milliseconds budget, const char* doing) {
  return guarded(doing, [&] { return receive(budget); });
}

ImageSender::~ImageSender() = default;

template <typename F>
auto ImageSender::guarded(const char* doing, F f) -> decltype(f()) {
  try {
    return f();
  } catch (const ProtocolError& e) {
    throw CkptError(CkptError::kSystem, role_.name + " " + server_ + " (" + doing +
                                            ") breaks the transfer protocol: " + e.what() +
                                            "; does it run ckpt of this version?");
  } catch (const NetError& e) {
    std::string why = e.what();
    // A server that gave up on us says why before it closes; its word beats "reset by peer".
    if (e.kind() == NetError::kClosed && stream_) {
      try {
        receive(2s);
      } catch (const CkptError& reply) {
        why = reply.what();
      } catch (const NetError& alert) {
        if (alert.kind() == NetError::kAuth) why = alert.what();
      } catch (const std::exception&) {
      }
    }
    throw CkptError(CkptError::kSystem,
                    role_.name + " " + server_ + " (" + doing + "): " + why +
                        (why.find("--tls-cacert") != std::string::npos ? ""
                         : e.kind() == NetError::kUnreachable
                             ? "; " + role_.hint
                             : "; check that ckpt still runs there, and the network"));
  }
}

void ImageSender::send(MessageType type, std::span<const std::uint8_t> payload) {
  frame_ = encode_message(type, payload);
  stream_->write_all(frame_, Deadline(kSendBudget));
}

Message ImageSender::expect_reply(MessageType type, const char* to,
                                  std::chrono::milliseconds budget) {
  Message m = receive(budget);
  if (m.type != type)
    throw ProtocolError(std::string("answered ") + to + " with " + type_name(m.type) +
                        " instead of " + type_name(type));
  return m;
}

Message ImageSender::receive(std::chrono::milliseconds budget) {
  Message m = read_message(*stream_, Deadline(budget));
  if (m.type == MessageType::kError)
    throw CkptError(CkptError::kSystem,
                    role_.name + " " + server_ + " refused: " + parse_text(m.payload, "error"));
  return m;
}

void ImageSender::begin_file(const std::string& name, const std::string& algo) {
  guarded("sending", [&] {
    send(MessageType::kFile, json_payload({{"name", name}, {"algo", algo}}));
  });
}

void ImageSender::write(std::span<const std::uint8_t> bytes) {
  guarded("sending", [&] {
    while (!bytes.empty()) {
      const std::size_t n = std::min(bytes.size(), kDataChunk);
      send(MessageType::kData, bytes.first(n));
      bytes = bytes.subspan(n);
    }
  });
}

void ImageSender::end_file() {
  guarded("sending", [&] { send(MessageType::kFileEnd, {}); });
}

void ImageSender::send_file(const std::string& name, const std::string& algo,
                            const std::string& path) {
  UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (!fd) throw_errno("opening " + path + " to send it");
  begin_file(name, algo);
  std::vector<std::uint8_t> buf(kDataChunk);
  for (;;) {
    const ssize_t n = ::read(fd.get(), buf.data(), buf.size());
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) throw_errno("reading " + path + " to send it");
    if (n == 0) break;
    write(std::span(buf.data(), static_cast<std::size_t>(n)));
  }
  end_file();
}

std::string ImageSender::finish(const std::string& inventory_text) {
  return guarded("committing", [&] {
    send(MessageType::kEnd, as_bytes(inventory_text));
    const Message done = expect_reply(MessageType::kDone, "END", kReplyBudget);
    landed_ = parse_text(done.payload, "path");
    return landed_;
  });
}

// ---- The server's side of one connection ----

struct ImageReceiver::Impl {
  ImageWriter writer;
  std::optional<PagesWriter> file;
  FileFields current;
  EVP_MD_CTX* sha = nullptr;

  explicit Impl(const std::string& dir) : writer(dir) {}
  ~Impl() { EVP_MD_CTX_free(sha); }
};

ImageReceiver::ImageReceiver(std::string root) : root_(std::move(root)) {}
ImageReceiver::~ImageReceiver() = default;

std::optional<Message> ImageReceiver::on_message(const Message& m) {
  auto expect = [&](MessageType want, const char* when) {
    if (m.type != want)
      throw ProtocolError(std::string(type_name(m.type)) + " " + when + " (expected " +
                          type_name(want) + ")");
  };
  switch (state_) {
    case State::kHello: {
      expect(MessageType::kHello, "before HELLO");
      if (const int v = parse_hello(m.payload); v != kTransferProtocol)
        throw ProtocolError("client speaks transfer protocol " + std::to_string(v) +
                            ", this server " + std::to_string(kTransferProtocol) +
                            ": use the same ckpt version on both hosts");
      state_ = State::kBegin;
      return Message{MessageType::kReady, {}};
    }
    case State::kBegin: {
      expect(MessageType::kBegin, "between images");
      const BeginFields f = parse_begin(m.payload);
      if (f.format_version != kImageFormatVersion)
        throw CkptError(CkptError::kUsage, "image format " + std::to_string(f.format_version) +
                                               ", this page server writes format " +
                                               std::to_string(kImageFormatVersion) +
                                               ": use the same ckpt version on both hosts");
      path_ = root_ + "/" + f.name;
      if (fs::exists(path_))
        throw CkptError(CkptError::kUsage, "image " + f.name + " already exists in " + root_ +
                                               " on the page server: dump into a directory of "
                                               "another name, or remove it there");
      impl_ = std::make_unique<Impl>(path_);
      state_ = State::kFiles;
      return Message{MessageType::kReady, {}};
    }
    case State::kFiles:
      if (m.type == MessageType::kEnd) {
        commit(m.payload);
        state_ = State::kCommitted;
        return Message{MessageType::kDone, json_payload({{"path", path_}})};
      }
      expect(MessageType::kFile, "between files");
      impl_->current = parse_file(m.payload);
      for (const auto& [name, sum] : sums_) {
        if (name == impl_->current.name) throw ProtocolError("file " + name + " sent twice");
      }
      impl_->file.emplace(impl_->writer.open_pages(impl_->current.name));
      if (impl_->current.algo == "sha256") {
        impl_->sha = EVP_MD_CTX_new();
        if (impl_->sha == nullptr || EVP_DigestInit_ex(impl_->sha, EVP_sha256(), nullptr) != 1)
          throw CkptError(CkptError::kSystem, "SHA-256 failed");
      }
      state_ = State::kInFile;
      return std::nullopt;
    case State::kInFile:
      if (m.type == MessageType::kFileEnd) {
        if (!m.payload.empty()) throw ProtocolError("FILE_END with a payload");
        end_file();
        state_ = State::kFiles;
        return std::nullopt;
      }
      expect(MessageType::kData, "inside a file");
      impl_->file->append(m.payload);
      if (impl_->sha && EVP_DigestUpdate(impl_->sha, m.payload.data(), m.payload.size()) != 1)
        throw CkptError(CkptError::kSystem, "SHA-256 failed");
      bytes_ += m.payload.size();
      return std::nullopt;
    case State::kCommitted:
      throw ProtocolError(std::string(type_name(m.type)) + " after the image was committed");
  }
  return std::nullopt;
}

void ImageReceiver::next_image() {
  if (state_ != State::kCommitted)
    throw std::logic_error("ImageReceiver::next_image before commit");
  impl_.reset();
  sums_.clear();
  bytes_ = 0;
  state_ = State::kBegin;
}

void ImageReceiver::end_file() {
  const std::string& name = impl_->current.name;
  FileSum sum = impl_->file->finish();
  impl_->file.reset();
  if (impl_->sha) {
    std::uint8_t md[EVP_MAX_MD_SIZE];
    unsigned len = 0;
    if (EVP_DigestFinal_ex(impl_->sha, md, &len) != 1)
      throw CkptError(CkptError::kSystem, "SHA-256 failed");
    EVP_MD_CTX_free(std::exchange(impl_->sha, nullptr));
    sum.algo = "sha256";
    sum.hex = to_hex(std::span<const std::uint8_t>(md, len));
  }
  sums_.emplace_back(name, Sum{sum.algo, sum.hex, sum.size});
}

void ImageReceiver::commit(std::span<const std::uint8_t> inventory_text) {
  const nlohmann::json body =
      verify_inventory(std::string(inventory_text.begin(), inventory_text.end()));
  const nlohmann::json& listed = body["files"];
  if (listed.size() != sums_.size())
    throw CkptError(CkptError::kBadImage, "the inventory lists " + std::to_string(listed.size()) +
                                              " files, the client sent " +
                                              std::to_string(sums_.size()));
  for (const auto& [name, sum] : sums_) {
    if (!listed.contains(name))
      throw CkptError(CkptError::kBadImage,
                      "the client sent " + name + ", which the inventory does not list");
    const nlohmann::json& e = listed[name];
    if (e.value("algo", "") != sum.algo || e.value("checksum", "") != sum.hex ||
        e.value("size", std::uint64_t{0}) != sum.size)
      throw CkptError(CkptError::kBadImage, "file " + name +
                                                " arrived damaged: " + std::to_string(sum.size) +
                                                " bytes with " + sum.algo + " " + sum.hex +
                                                ", the inventory lists " + e.dump());
  }
  impl_->writer.commit_received(inventory_text);
}

}  // namespace crossrig::engine
