#pragma once
// How a whole image directory travels to a page server (`ckpt dump --page-server`). Over one
// TLS connection the client sends framed messages: HELLO (protocol version), BEGIN (image name
// and format version), then per file FILE (name, checksum algorithm), DATA chunks and
// FILE_END, and finally END carrying inventory.json as written. The server answers HELLO and
// BEGIN with READY, END with DONE once the image is committed, and anything wrong with ERROR.
// A frame is a type byte, a 4-byte big-endian payload length (at most kMaxPayload) and the
// payload; control payloads are JSON objects, DATA and END raw bytes.

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include "common/host_port.h"
#include "common/net_io.h"
#include "common/tls.h"

namespace crossrig::engine {

/// Version of the transfer protocol; a server refuses a client speaking another.
inline constexpr int kTransferProtocol = 1;
/// The largest payload a frame may carry: DATA chunks and the inventory fit, and a length
/// field from a confused or hostile peer cannot make the reader allocate more.
inline constexpr std::uint32_t kMaxPayload = 4u << 20;
/// Bytes of file content per DATA frame.
inline constexpr std::size_t kDataChunk = 1u << 20;

/// The kinds of frames.
enum class MessageType : std::uint8_t {
  kHello = 1,
  kBegin = 2,
  kFile = 3,
  kData = 4,
  kFileEnd = 5,
  kEnd = 6,
  kReady = 7,
  kDone = 8,
  kError = 9,
  // A migration (`ckpt migrate` to `ckpt receive`) after its images: RESTORE names the image
  // to restore, RESTORED says it is restored and held, COMMIT lets it run there; the last
  // DONE confirms it runs.
  kRestore = 10,
  kRestored = 11,
  kCommit = 12,
  // Post-copy, after that DONE: the destination's lazy-pages server asks the frozen source
  // for pages (PAGE_REQUEST), each answered by PAGES (their bytes) or ERROR, and says
  // PAGES_DONE once every page arrived.
  kPageRequest = 13,
  kPages = 14,
  kPagesDone = 15,
};

/// One decoded frame.
struct Message {
  MessageType type;
  std::vector<std::uint8_t> payload;
};

/// A peer that breaks the protocol (unknown type, oversized or malformed payload, message
/// out of order): the connection is dropped.
class ProtocolError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

/// The frame header and payload of a message.
std::vector<std::uint8_t> encode_message(MessageType type, std::span<const std::uint8_t> payload);

/// Size of a frame header.
inline constexpr std::size_t kHeaderSize = 5;

/// Decodes a frame header: its type and payload length; throws ProtocolError for an unknown
/// type or a length above kMaxPayload.
std::pair<MessageType, std::uint32_t> decode_header(std::span<const std::uint8_t, kHeaderSize> h);

/// Reads one whole message before the deadline: a peer trickling bytes is dropped too.
/// Throws ProtocolError (see decode_header) or NetError.
Message read_message(TlsStream& stream, const Deadline& deadline);

/// BEGIN's fields.
struct BeginFields {
  std::string name;
  int format_version = 0;
};
/// FILE's fields.
struct FileFields {
  std::string name;
  std::string algo;
};

/// Whether name can name an image or an image file on the server: one path component, not
/// starting with '.' (which also refuses "." and ".."), no NUL; throws ProtocolError saying why.
void check_component(const std::string& name, const char* what);

/// Parses a control payload (a JSON object); throws ProtocolError.
int parse_hello(std::span<const std::uint8_t> payload);
BeginFields parse_begin(std::span<const std::uint8_t> payload);
FileFields parse_file(std::span<const std::uint8_t> payload);
/// The message of an ERROR, the path of a DONE.
std::string parse_text(std::span<const std::uint8_t> payload, const char* key);

/// PAGE_REQUEST's fields: npages pages at vaddr of process pid (as the image names it),
/// three 8-byte big-endian numbers.
struct PageRequest {
  std::uint64_t pid = 0, vaddr = 0, npages = 0;
  bool operator==(const PageRequest&) const = default;
};
std::vector<std::uint8_t> encode_page_request(const PageRequest& r);
/// Throws ProtocolError for a payload of another size.
PageRequest parse_page_request(std::span<const std::uint8_t> payload);

/// A TLS client connection to server, handshake done, before deadline. Throws CkptError
/// (kUsage) for unusable TLS files, NetError for the network or a refused handshake.
TlsStream connect_tls(const HostPort& server, const TlsConfig& tls, const Deadline& deadline);

/// How an ImageSender names its server in errors, and what to run there.
struct ServerRole {
  std::string name;  ///< "page server"
  std::string hint;  ///< "start `ckpt page-server --listen` there, or fix --page-server"
};

/// Sends images to a page server or a migration's destination. Every failure is a CkptError
/// naming the server and what to do: kUsage for unusable TLS files, kSystem for the network
/// or a refusal by the server.
class ImageSender {
 public:
  /// Connects, handshakes and begins image name; returns once the server is ready for it,
  /// so that a refused certificate or a taken name fail before anything is dumped.
  ImageSender(const HostPort& server, const TlsConfig& tls, const std::string& name);
  /// Connects and handshakes only; images follow one by one with begin().
  ImageSender(const HostPort& server, const TlsConfig& tls, ServerRole role);
  ~ImageSender();
  ImageSender(const ImageSender&) = delete;
  ImageSender& operator=(const ImageSender&) = delete;

  /// Begins the next image once the previous one is finished; returns once the server is
  /// ready for it.
  void begin(const std::string& name);
  /// Sends a control message (doing: what it is for, in errors).
  void tell(MessageType type, std::span<const std::uint8_t> payload, const char* doing);
  /// Waits up to budget for the server's next message, which must be of type reply; an
  /// ERROR is thrown as a CkptError with the server's words.
  Message await(MessageType reply, std::chrono::milliseconds budget, const char* doing);
  /// Waits up to budget for the server's next message, of any type but ERROR (thrown as
  /// await does).
  Message next(std::chrono::milliseconds budget, const char* doing);

  /// Starts the next file; algo is the checksum the inventory lists for it.
  void begin_file(const std::string& name, const std::string& algo);
  /// Sends bytes of the current file.
  void write(std::span<const std::uint8_t> bytes);
  /// Ends the current file.
  void end_file();
  /// Sends the local file at path whole as name.
  void send_file(const std::string& name, const std::string& algo, const std::string& path);
  /// Sends the inventory and waits until the server committed the image; returns where
  /// it landed there.
  std::string finish(const std::string& inventory_text);
  /// "HOST:PORT" of the server.
  const std::string& server() const { return server_; }
  /// Where the server put the image, once finish() returned.
  const std::string& landed() const { return landed_; }

 private:
  template <typename F>
  auto guarded(const char* doing, F f) -> decltype(f());
  void send(MessageType type, std::span<const std::uint8_t> payload);
  Message receive(std::chrono::milliseconds budget);
  Message expect_reply(MessageType type, const char* to, std::chrono::milliseconds budget);

  std::string server_, landed_;
  ServerRole role_;
  std::optional<TlsStream> stream_;
  std::vector<std::uint8_t> frame_;
};

/// Receives one image into root/NAME on behalf of the server, message by message. It writes
/// through an ImageWriter (a temporary directory renamed on commit, removed if the transfer
/// ends early) and checks every file against the inventory before committing.
class ImageReceiver {
 public:
  explicit ImageReceiver(std::string root);
  ~ImageReceiver();
  ImageReceiver(const ImageReceiver&) = delete;
  ImageReceiver& operator=(const ImageReceiver&) = delete;

  /// Handles one message from the client; returns the reply to send, if any. Throws
  /// ProtocolError for a message that breaks the protocol, CkptError when the image cannot
  /// be written or does not match its inventory.
  std::optional<Message> on_message(const Message& m);
  /// Whether the image was committed.
  bool committed() const { return state_ == State::kCommitted; }
  /// Once committed: makes ready for another image on the same connection (BEGIN).
  void next_image();
  /// Between images, where a migration's control messages may come instead of BEGIN.
  bool between_images() const { return state_ == State::kBegin; }
  /// Where the image lands (root/NAME), once BEGIN named it.
  const std::string& path() const { return path_; }
  std::uint64_t bytes() const { return bytes_; }
  std::size_t files() const { return sums_.size(); }

 private:
  enum class State { kHello, kBegin, kFiles, kInFile, kCommitted };
  struct Impl;
  void end_file();
  void commit(std::span<const std::uint8_t> inventory_text);

  std::string root_, path_;
  State state_ = State::kHello;
  std::uint64_t bytes_ = 0;
  std::unique_ptr<Impl> impl_;
  struct Sum {
    std::string algo, hex;
    std::uint64_t size = 0;
  };
  std::vector<std::pair<std::string, Sum>> sums_;
};

}  // namespace crossrig::engine
