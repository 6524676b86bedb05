#include "rig/tftp/tftp_map.h"

#include <arpa/inet.h>

#include <charconv>
#include <cstring>
#include <fstream>
#include <sstream>
#include <stdexcept>

namespace crossrig::rig::tftp {

const char* const kMapFormatHelp =
    "Map file (--map FILE): one rule per line, '#' starts a comment, first matching rule wins:\n"
    "  CLIENT  PATTERN  REPLACEMENT\n"
    "CLIENT is '*', an address or a network (10.0.0.5, 10.1.0.0/16, fd00::/64). PATTERN is an\n"
    "ECMAScript regular expression searched in the requested name; its first match is replaced\n"
    "by REPLACEMENT, where $1..$9 are its groups, $& the match and {client} the client's\n"
    "address. A REPLACEMENT of '-' refuses the request. Tokens contain no spaces. Example:\n"
    "  10.0.0.5     ^(.*)$               boards/cell-blade/$1\n"
    "  10.1.0.0/16  ^pxelinux\\.cfg/       pxe/{client}/\n"
    "  *            ^private/            -\n"
    "The result is confined to the root like any requested name.\n";

std::string ClientAddress::to_string() const {
  char text[INET6_ADDRSTRLEN] = {};
  inet_ntop(family, bytes, text, sizeof text);
  return text;
}

ClientAddress ClientAddress::from_sockaddr(const sockaddr* sa) {
  ClientAddress a;
  if (sa->sa_family == AF_INET) {
    sockaddr_in in{};
    std::memcpy(&in, sa, sizeof in);
    std::memcpy(a.bytes, &in.sin_addr, 4);
    return a;
  }
  sockaddr_in6 in6{};
  std::memcpy(&in6, sa, sizeof in6);
  if (IN6_IS_ADDR_V4MAPPED(&in6.sin6_addr)) {
    std::memcpy(a.bytes, in6.sin6_addr.s6_addr + 12, 4);
    return a;
  }
  a.family = AF_INET6;
  std::memcpy(a.bytes, &in6.sin6_addr, 16);
  return a;
}

std::optional<ClientAddress> ClientAddress::parse(std::string_view text) {
  std::string s(text);
  ClientAddress a;
  if (inet_pton(AF_INET, s.c_str(), a.bytes) == 1) return a;
  a.family = AF_INET6;
  if (inet_pton(AF_INET6, s.c_str(), a.bytes) == 1) return a;
  return std::nullopt;
}

namespace {

bool in_network(const ClientAddress& client, const ClientAddress& network, int prefix) {
  if (client.family != network.family) return false;
  int full = prefix / 8;
  if (std::memcmp(client.bytes, network.bytes, static_cast<std::size_t>(full)) != 0) return false;
  int rest = prefix % 8;
  if (rest == 0) return true;
  auto mask = static_cast<std::uint8_t>(0xff << (8 - rest));
  return (client.bytes[full] & mask) == (network.bytes[full] & mask);
}

void parse_client(std::string_view token, MapRule& rule, const std::string& where) {
  if (token == "*") return;
  std::string_view address = token;
  auto slash = token.find('/');
  if (slash != std::string_view::npos) address = token.substr(0, slash);
  rule.network = ClientAddress::parse(address);
  if (!rule.network) {
    throw std::invalid_argument(where + ": '" + std::string(address) +
                                "' is not '*', an IPv4 or an IPv6 address");
  }
  int bits = rule.network->family == AF_INET ? 32 : 128;
  rule.prefix = bits;
  if (slash != std::string_view::npos) {
    auto text = token.substr(slash + 1);
    auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), rule.prefix);
    if (ec != std::errc() || end != text.data() + text.size() || rule.prefix < 0 ||
        rule.prefix > bits) {
      throw std::invalid_argument(where + ": prefix length '" + std::string(text) +
                                  "' is not a number from 0 to " + std::to_string(bits));
    }
  }
}

std::string replace_all(std::string text, std::string_view from, std::string_view to) {
  for (auto at = text.find(from); at != std::string::npos; at = text.find(from, at + to.size())) {
    text.replace(at, from.size(), to);
  }
  return text;
}

}  // namespace

MapRules MapRules::parse(std::string_view text, const std::string& origin) {
  MapRules rules;
  std::istringstream in{std::string(text)};
  std::string line;
  for (int number = 1; std::getline(in, line); ++number) {
    if (auto hash = line.find('#'); hash != std::string::npos) line.erase(hash);
    std::istringstream fields(line);
    std::vector<std::string> tokens;
    for (std::string t; fields >> t;)
      tokens.push_back(t);
    if (tokens.empty()) continue;
    std::string where = origin + ":" + std::to_string(number);
    if (tokens.size() != 3) {
      throw std::invalid_argument(where + ": expected 'CLIENT PATTERN REPLACEMENT', got " +
                                  std::to_string(tokens.size()) + " fields");
    }
    MapRule rule;
    rule.line = number;
    parse_client(tokens[0], rule, where);
    rule.pattern_text = tokens[1];
    try {
      rule.pattern = std::regex(tokens[1], std::regex::ECMAScript);
    } catch (const std::regex_error& e) {
      throw std::invalid_argument(where + ": pattern '" + tokens[1] +
                                  "' is not a valid regular expression: " + e.what());
    }
    rule.replacement = tokens[2];
    rules.rules_.push_back(std::move(rule));
  }
  return rules;
}

MapRules MapRules::load(const std::filesystem::path& file) {
  std::ifstream in(file);
  if (!in) throw std::invalid_argument("cannot read map file " + file.string());
  std::stringstream text;
  text << in.rdbuf();
  return parse(text.str(), file.string());
}

Remapped MapRules::apply(const ClientAddress& client, const std::string& name) const {
  for (const auto& rule : rules_) {
    if (rule.network && !in_network(client, *rule.network, rule.prefix)) continue;
    std::smatch match;
    if (!std::regex_search(name, match, rule.pattern)) continue;
    if (rule.replacement == "-") return Remapped{name, true, rule.line};
    std::string format = replace_all(rule.replacement, "{client}", client.to_string());
    std::string out = match.prefix().str() + match.format(format) + match.suffix().str();
    return Remapped{out, false, rule.line};
  }
  return Remapped{name, false, 0};
}

}  // namespace crossrig::rig::tftp
