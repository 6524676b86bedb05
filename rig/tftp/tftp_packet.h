#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <variant>
#include <vector>

namespace crossrig::rig::tftp {

/// Opcodes of RFC 1350 and RFC 2347.
enum class Opcode : std::uint16_t {
  kRrq = 1,
  kWrq = 2,
  kData = 3,
  kAck = 4,
  kError = 5,
  kOack = 6
};

/// Error codes of RFC 1350 and RFC 2347 (8: option negotiation refused).
enum class ErrorCode : std::uint16_t {
  kNotDefined = 0,
  kFileNotFound = 1,
  kAccessViolation = 2,
  kDiskFull = 3,
  kIllegalOperation = 4,
  kUnknownTid = 5,
  kFileExists = 6,
  kNoSuchUser = 7,
  kOptionRefused = 8,
};

/// Limits the decoder enforces on outside input.
inline constexpr std::size_t kMaxPacket = 65468;      ///< 4-byte header + 65464 data bytes.
inline constexpr std::size_t kMaxRequest = 1024;      ///< RRQ/WRQ incl. options; RFC 2347 says 512.
inline constexpr std::size_t kMaxFilename = 255;      ///< Longest file name accepted.
inline constexpr std::size_t kMaxOptions = 16;        ///< Most option pairs in one request.
inline constexpr std::size_t kMaxOptionText = 64;     ///< Longest option name or value.
inline constexpr std::size_t kMaxErrorMessage = 512;  ///< Longest error text accepted.

/// An option name (lower-cased) and its value, in request order.
using Option = std::pair<std::string, std::string>;

/// A read or write request.
struct Request {
  Opcode opcode = Opcode::kRrq;
  std::string filename;
  std::string mode;  ///< Lower-cased: "octet", "netascii" or "mail".
  std::vector<Option> options;
};

/// A DATA packet; data points into the decoded buffer.
struct Data {
  std::uint16_t block = 0;
  std::span<const std::uint8_t> data;
};

/// An ACK packet.
struct Ack {
  std::uint16_t block = 0;
};

/// An ERROR packet.
struct Error {
  ErrorCode code = ErrorCode::kNotDefined;
  std::string message;
};

/// An OACK packet (RFC 2347).
struct Oack {
  std::vector<Option> options;
};

/// Any decoded packet.
using Packet = std::variant<Request, Data, Ack, Error, Oack>;

/// A decoding failure: what is wrong with the packet, for logs and ERROR replies.
struct DecodeError {
  std::string reason;
};

/// Decodes one datagram; never throws, rejects anything beyond the limits above.
std::variant<Packet, DecodeError> decode(std::span<const std::uint8_t> bytes);

/// Encodes a request (used by tests and benchmark clients).
std::vector<std::uint8_t> encode(const Request& r);
/// Encodes an ACK.
std::vector<std::uint8_t> encode(const Ack& a);
/// Encodes an ERROR; the message is cut to kMaxErrorMessage bytes.
std::vector<std::uint8_t> encode(const Error& e);
/// Encodes an OACK.
std::vector<std::uint8_t> encode(const Oack& o);
/// Encodes a DATA packet with its payload.
std::vector<std::uint8_t> encode(const Data& d);

/// Writes the 4-byte DATA header for block into out.
void encode_data_header(std::uint16_t block, std::span<std::uint8_t, 4> out);

/// The value of option name (lower-case) in options, if present.
std::optional<std::string_view> find_option(const std::vector<Option>& options,
                                            std::string_view name);

}  // namespace crossrig::rig::tftp
