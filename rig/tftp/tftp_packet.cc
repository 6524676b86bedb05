#include "rig/tftp/tftp_packet.h"

#include <algorithm>
#include <cctype>

namespace crossrig::rig::tftp {
namespace {

std::uint16_t get16(std::span<const std::uint8_t> b, std::size_t at) {
  return static_cast<std::uint16_t>(b[at] << 8 | b[at + 1]);
}

void put16(std::vector<std::uint8_t>& out, std::uint16_t v) {
  out.push_back(static_cast<std::uint8_t>(v >> 8));
  out.push_back(static_cast<std::uint8_t>(v & 0xff));
}

void put_string(std::vector<std::uint8_t>& out, std::string_view s) {
  out.insert(out.end(), s.begin(), s.end());
  out.push_back(0);
}

std::string lower(std::string_view s) {
  std::string out(s);
  std::transform(out.begin(), out.end(), out.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return out;
}

// Splits NUL-terminated strings from the packet body; fails on a missing final NUL, too many
// strings, or a string over its limit.
struct StringReader {
  std::span<const std::uint8_t> rest;

  std::optional<std::string> next(std::size_t limit, std::string& error, const char* what) {
    auto nul = std::find(rest.begin(), rest.end(), std::uint8_t{0});
    if (nul == rest.end()) {
      error = std::string(what) + " is not NUL-terminated";
      return std::nullopt;
    }
    auto length = static_cast<std::size_t>(nul - rest.begin());
    if (length > limit) {
      error = std::string(what) + " is longer than " + std::to_string(limit) + " bytes";
      return std::nullopt;
    }
    std::string s(rest.begin(), nul);
    rest = rest.subspan(length + 1);
    return s;
  }
};

std::optional<DecodeError> decode_options(StringReader& reader, std::vector<Option>& options) {
  std::string error;
  while (!reader.rest.empty()) {
    if (options.size() == kMaxOptions) {
      return DecodeError{"more than " + std::to_string(kMaxOptions) + " options"};
    }
    auto name = reader.next(kMaxOptionText, error, "option name");
    if (!name) return DecodeError{error};
    if (name->empty()) return DecodeError{"empty option name"};
    auto value = reader.next(kMaxOptionText, error, "option value");
    if (!value) return DecodeError{error};
    std::string key = lower(*name);
    if (find_option(options, key)) return DecodeError{"option " + key + " given twice"};
    options.emplace_back(std::move(key), std::move(*value));
  }
  return std::nullopt;
}

std::variant<Packet, DecodeError> decode_request(Opcode op, std::span<const std::uint8_t> body) {
  StringReader reader{body};
  std::string error;
  Request r;
  r.opcode = op;
  auto filename = reader.next(kMaxFilename, error, "file name");
  if (!filename) return DecodeError{error};
  if (filename->empty()) return DecodeError{"empty file name"};
  auto mode = reader.next(kMaxOptionText, error, "mode");
  if (!mode) return DecodeError{error};
  r.filename = std::move(*filename);
  r.mode = lower(*mode);
  if (r.mode != "octet" && r.mode != "netascii" && r.mode != "mail") {
    return DecodeError{"unknown transfer mode '" + r.mode + "'"};
  }
  if (auto bad = decode_options(reader, r.options)) return *bad;
  return Packet{std::move(r)};
}

}  // namespace

std::variant<Packet, DecodeError> decode(std::span<const std::uint8_t> bytes) {
  if (bytes.size() < 4) return DecodeError{"packet shorter than 4 bytes"};
  if (bytes.size() > kMaxPacket) return DecodeError{"packet longer than 65468 bytes"};
  auto op = get16(bytes, 0);
  auto body = bytes.subspan(2);
  switch (static_cast<Opcode>(op)) {
    case Opcode::kRrq:
    case Opcode::kWrq:
      if (bytes.size() > kMaxRequest) {
        return DecodeError{"request longer than " + std::to_string(kMaxRequest) + " bytes"};
      }
      return decode_request(static_cast<Opcode>(op), body);
    case Opcode::kData:
      return Packet{Data{get16(bytes, 2), bytes.subspan(4)}};
    case Opcode::kAck:
      if (bytes.size() != 4) return DecodeError{"ACK is not 4 bytes long"};
      return Packet{Ack{get16(bytes, 2)}};
    case Opcode::kError: {
      StringReader reader{bytes.subspan(4)};
      std::string error;
      auto message = reader.next(kMaxErrorMessage, error, "error message");
      if (!message) return DecodeError{error};
      if (!reader.rest.empty()) return DecodeError{"bytes after the error message"};
      return Packet{Error{static_cast<ErrorCode>(get16(bytes, 2)), std::move(*message)}};
    }
    case Opcode::kOack: {
      if (bytes.size() > kMaxRequest) return DecodeError{"OACK longer than 1024 bytes"};
      StringReader reader{body};
      Oack o;
      if (auto bad = decode_options(reader, o.options)) return *bad;
      return Packet{std::move(o)};
    }
  }
  return DecodeError{"unknown opcode " + std::to_string(op)};
}

std::vector<std::uint8_t> encode(const Request& r) {
  std::vector<std::uint8_t> out;
  put16(out, static_cast<std::uint16_t>(r.opcode));
  put_string(out, r.filename);
  put_string(out, r.mode);
  for (const auto& [name, value] : r.options) {
    put_string(out, name);
    put_string(out, value);
  }
  return out;
}

std::vector<std::uint8_t> encode(const Ack& a) {
  std::vector<std::uint8_t> out;
  put16(out, static_cast<std::uint16_t>(Opcode::kAck));
  put16(out, a.block);
  return out;
}

std::vector<std::uint8_t> encode(const Error& e) {
  std::vector<std::uint8_t> out;
  put16(out, static_cast<std::uint16_t>(Opcode::kError));
  put16(out, static_cast<std::uint16_t>(e.code));
  std::string_view message(e.message);
  put_string(out, message.substr(0, std::min(message.find('\0'), kMaxErrorMessage)));
  return out;
}

std::vector<std::uint8_t> encode(const Oack& o) {
  std::vector<std::uint8_t> out;
  put16(out, static_cast<std::uint16_t>(Opcode::kOack));
  for (const auto& [name, value] : o.options) {
    put_string(out, name);
    put_string(out, value);
  }
  return out;
}

std::vector<std::uint8_t> encode(const Data& d) {
  std::vector<std::uint8_t> out;
  out.reserve(4 + d.data.size());
  put16(out, static_cast<std::uint16_t>(Opcode::kData));
  put16(out, d.block);
  for (std::uint8_t b : d.data)
    out.push_back(b);
  return out;
}

void encode_data_header(std::uint16_t block, std::span<std::uint8_t, 4> out) {
  out[0] = 0;
  out[1] = static_cast<std::uint8_t>(Opcode::kData);
  out[2] = static_cast<std::uint8_t>(block >> 8);
  out[3] = static_cast<std::uint8_t>(block & 0xff);
}

std::optional<std::string_view> find_option(const std::vector<Option>& options,
                                            std::string_view name) {
  for (const auto& [key, value] : options) {
    if (key == name) return std::string_view(value);
  }
  return std::nullopt;
}

}  // namespace crossrig::rig::tftp
