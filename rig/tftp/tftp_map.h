#pragma once

#include <netinet/in.h>

#include <filesystem>
#include <optional>
#include <regex>
#include <string>
#include <string_view>
#include <vector>

namespace crossrig::rig::tftp {

/// A client address, IPv4 or IPv6 (IPv4-mapped IPv6 addresses are stored as IPv4).
struct ClientAddress {
  int family = AF_INET;
  std::uint8_t bytes[16] = {};
  /// Numeric text: "10.0.0.5" or "fe80::1".
  std::string to_string() const;
  /// From a sockaddr_in or sockaddr_in6.
  static ClientAddress from_sockaddr(const sockaddr* sa);
  /// From numeric text; nullopt when it is no address.
  static std::optional<ClientAddress> parse(std::string_view text);
};

/// One rule of a map file: clients it applies to, a pattern searched in the requested name and
/// what replaces the first match ("-" refuses the request).
struct MapRule {
  std::optional<ClientAddress> network;  ///< nullopt: any client ("*").
  int prefix = 0;
  std::string pattern_text;
  std::regex pattern;
  std::string replacement;
  int line = 0;
};

/// The result of remapping one request.
struct Remapped {
  std::string name;      ///< The name to open (unchanged when no rule matched).
  bool refused = false;  ///< A "-" rule matched.
  int rule_line = 0;     ///< Line of the rule that matched; 0 for none.
};

/// Per-client remapping of requested file names (see rig/tftp/README.md for the format).
class MapRules {
 public:
  /// Parses the text of a map file; throws std::invalid_argument naming the line and problem.
  static MapRules parse(std::string_view text, const std::string& origin);
  /// Reads and parses a map file; throws std::invalid_argument if unreadable or invalid.
  static MapRules load(const std::filesystem::path& file);

  /// Applies the first rule whose client matches and whose pattern is found in name.
  Remapped apply(const ClientAddress& client, const std::string& name) const;
  bool empty() const { return rules_.empty(); }

 private:
  std::vector<MapRule> rules_;
};

/// The map file format, as printed by `rig tftp --help`.
extern const char* const kMapFormatHelp;

}  // namespace crossrig::rig::tftp
