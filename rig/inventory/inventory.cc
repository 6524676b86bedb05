#include "rig/inventory/inventory.h"

#include <yaml-cpp/yaml.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <regex>
#include <set>

#include "rig/inventory/board_fields.h"
#include "rig/inventory/field_syntax.h"
#include "rig/inventory/vocabulary.h"

namespace crossrig::rig {

namespace {

std::string join_lines(const std::vector<std::string>& problems) {
  std::string out;
  for (const auto& p : problems)
    out += (out.empty() ? "" : "\n") + p;
  return out;
}

int line_of(const YAML::Node& node) {
  return node.Mark().line + 1;
}

std::string kind_of(const YAML::Node& node) {
  switch (node.Type()) {
    case YAML::NodeType::Map:
      return "a mapping";
    case YAML::NodeType::Sequence:
      return "a list";
    case YAML::NodeType::Null:
      return "empty";
    default:
      return "a single value";
  }
}

constexpr std::string_view kBoardKeys[] = {"arch", "boot",        "power",    "console",
                                           "mac",  "tftp_dir",    "kernel",   "ramdisk",
                                           "dtb",  "boot_script", "off_time", "job"};

constexpr std::string_view kJobKeys[] = {"kernel", "ramdisk", "dtb", "cmdline", "timeout"};

template <std::size_t N>
std::string joined(const std::string_view (&keys)[N]) {
  std::string out;
  for (auto k : keys)
    out += (out.empty() ? "" : ", ") + std::string(k);
  return out;
}

// Collects the problems of one file so a human sees them all in one run.
class Checker {
 public:
  explicit Checker(std::string source) : source_(std::move(source)) {}

  void problem(int line, const std::string& board, const std::string& field,
               const std::string& what) {
    std::string text = source_ + ":" + std::to_string(line) + ": ";
    if (!board.empty()) text += "board '" + board + "': ";
    if (!field.empty()) text += field + ": ";
    problems_.push_back(text + what);
  }

  // The value of a scalar field, or nullopt (with a problem) when it is not a scalar.
  std::optional<std::string> scalar(const YAML::Node& node, const std::string& board,
                                    const std::string& field) {
    if (!node.IsScalar()) {
      problem(line_of(node), board, field, "must be a single value, not " + kind_of(node));
      return std::nullopt;
    }
    return node.Scalar();
  }

  Board board(const std::string& name, const YAML::Node& key, const YAML::Node& body) {
    Board b;
    b.name = name;
    b.line = line_of(key);
    if (auto bad = check_board_name(name)) problem(b.line, name, "", *bad);
    if (!body.IsMap()) {
      problem(line_of(body), name, "", "must be a mapping of fields, not " + kind_of(body));
      return b;
    }
    std::set<std::string> seen;
    for (const auto& entry : body) {
      if (!entry.first.IsScalar()) {
        problem(line_of(entry.first), name, "", "field names must be single values");
        continue;
      }
      std::string field = entry.first.Scalar();
      if (!seen.insert(field).second) {
        problem(line_of(entry.first), name, field, "given twice; keep one");
        continue;
      }
      if (std::find(std::begin(kBoardKeys), std::end(kBoardKeys), field) == std::end(kBoardKeys)) {
        problem(line_of(entry.first), name, field,
                "unknown field; known fields: " + joined(kBoardKeys));
        continue;
      }
      board_field(b, field, entry.second);
    }
    for (const char* required : {"arch", "boot", "power"}) {
      if (!seen.count(required)) problem(b.line, name, required, "missing; every board needs one");
    }
    if (seen.count("power")) check_commands(b, body["power"]);
    return b;
  }

  void board_field(Board& b, const std::string& field, const YAML::Node& value) {
    int line = line_of(value);
    if (field == "power") return power(b, value);
    if (field == "job") return job(b, value);
    auto text = scalar(value, b.name, field);
    if (!text) return;
    auto report = [&](const std::optional<std::string>& bad) {
      if (bad) problem(line, b.name, field, *bad);
    };
    if (field == "arch") {
      if (auto arch = parse_arch(*text)) {
        b.arch = *arch;
      } else {
        problem(line, b.name, field,
                "unknown arch '" + *text + "'; use the `uname -m` spelling: " + arch_names());
      }
    } else if (field == "boot") {
      if (auto boot = parse_boot_method(*text)) {
        b.boot = *boot;
      } else {
        problem(line, b.name, field,
                "unknown boot method '" + *text + "'; use one of " + boot_method_names());
      }
    } else if (field == "console") {
      report(check_address(*text, true));
      b.console = *text;
    } else if (field == "mac") {
      auto mac = normalize_mac(*text);
      if (!mac) {
        problem(line, b.name, field, "'" + *text + "' is not a MAC address like 52:54:00:12:34:56");
      } else {
        b.mac = *mac;
      }
    } else if (field == "tftp_dir") {
      report(check_absolute_path(*text));
      b.tftp_dir = *text;
    } else if (field == "off_time") {
      if (auto s = parse_seconds(*text)) {
        b.off_time_s = *s;
      } else {
        problem(line, b.name, field, "'" + *text + "' is not a number of seconds from 0 to 3600");
      }
    } else {
      report(check_file_name(*text));
      set_optional(b, field, *text);
    }
  }

  // Paths relative to the inventory file's directory, so a lab's files travel with it.
  std::string job_path(const std::string& path) const {
    std::filesystem::path p(path);
    if (p.is_absolute()) return p.lexically_normal().string();
    return (std::filesystem::path(source_).parent_path() / p).lexically_normal().string();
  }

  void job(Board& b, const YAML::Node& node) {
    if (!node.IsMap()) {
      problem(line_of(node), b.name, "job",
              "must be a mapping with kernel and ramdisk (and dtb, cmdline, timeout), not " +
                  kind_of(node));
      return;
    }
    BoardJob job;
    std::set<std::string> seen;
    bool usable = true;
    for (const auto& entry : node) {
      std::string key = entry.first.IsScalar() ? entry.first.Scalar() : "?";
      std::string field = "job." + key;
      int line = line_of(entry.first);
      if (std::find(std::begin(kJobKeys), std::end(kJobKeys), key) == std::end(kJobKeys)) {
        problem(line, b.name, field, "unknown job field; known fields: " + joined(kJobKeys));
        usable = false;
        continue;
      }
      if (!seen.insert(key).second) {
        problem(line, b.name, field, "given twice; keep one");
        usable = false;
        continue;
      }
      auto text = scalar(entry.second, b.name, field);
      if (!text) {
        usable = false;
        continue;
      }
      if (key == "timeout") {
        auto seconds = parse_seconds(*text);
        if (!seconds || *seconds == 0) {
          problem(line_of(entry.second), b.name, field,
                  "'" + *text + "' is not a number of seconds from 0 to 3600");
          usable = false;
        }
        job.timeout_s = seconds;
      } else if (key == "cmdline") {
        job.cmdline = *text;
      } else if (text->empty()) {
        problem(line_of(entry.second), b.name, field,
                "give a file, absolute or relative to the inventory's directory");
        usable = false;
      } else if (key == "kernel") {
        job.kernel = job_path(*text);
      } else if (key == "ramdisk") {
        job.ramdisk = job_path(*text);
      } else {
        job.dtb = job_path(*text);
      }
    }
    for (const char* required : {"kernel", "ramdisk"}) {
      if (!seen.count(required)) {
        problem(line_of(node), b.name, std::string("job.") + required,
                "missing; a job needs a kernel and a ramdisk");
        usable = false;
      }
    }
    if (usable) b.job = std::move(job);
  }

  static void set_optional(Board& b, const std::string& field, const std::string& value) {
    for (const auto& [key, member] : kOptionalFields) {
      if (field == key) b.*member = value;
    }
  }

  void power(Board& b, const YAML::Node& node) {
    if (!node.IsMap()) {
      problem(line_of(node), b.name, "power",
              "must be a mapping with a driver (hs100 or command) and its settings, not " +
                  kind_of(node));
      return;
    }
    std::map<std::string, std::pair<std::string, int>> values;
    for (const auto& entry : node) {
      std::string key = entry.first.IsScalar() ? entry.first.Scalar() : "?";
      std::string field = "power." + key;
      auto text = scalar(entry.second, b.name, field);
      if (!text) continue;
      if (!values.emplace(key, std::make_pair(*text, line_of(entry.first))).second) {
        problem(line_of(entry.first), b.name, field, "given twice; keep one");
      }
    }
    auto driver = values.find("driver");
    if (driver == values.end()) {
      problem(line_of(node), b.name, "power.driver", "missing; use one of " + driver_names());
      return;
    }
    b.power.driver = driver->second.first;
    const PowerDriverSchema* schema = find_power_driver_schema(b.power.driver);
    if (!schema) {
      problem(driver->second.second, b.name, "power.driver",
              "unknown driver '" + b.power.driver + "'; use one of " + driver_names());
      return;
    }
    values.erase(driver);
    for (auto key : schema->required) {
      if (!values.count(std::string(key))) {
        problem(line_of(node), b.name, "power." + std::string(key),
                "missing; the " + b.power.driver + " driver needs it");
      }
    }
    for (const auto& [key, value] : values) {
      bool known = std::count(schema->required.begin(), schema->required.end(), key) +
                       std::count(schema->optional.begin(), schema->optional.end(), key) >
                   0;
      if (!known) {
        std::string names;
        for (auto k : schema->required)
          names += (names.empty() ? "" : ", ") + std::string(k);
        for (auto k : schema->optional)
          names += ", " + std::string(k);
        problem(value.second, b.name, "power." + key,
                "unknown setting for the " + b.power.driver + " driver; it takes " + names);
        continue;
      }
      power_setting(b, key, value.first, value.second);
      b.power.settings[key] = value.first;
    }
  }

  void power_setting(const Board& b, const std::string& key, const std::string& value, int line) {
    std::string field = "power." + key;
    if (key == "address" && b.power.driver == "hs100") {
      if (auto bad = check_address(value, false)) problem(line, b.name, field, *bad);
    } else if (key == "transport") {
      if (value != "auto" && value != "xor" && value != "udp" && value != "klap") {
        problem(line, b.name, field, "'" + value + "' is not one of auto, xor, udp, klap");
      }
    } else if (key == "timeout") {
      auto seconds = parse_seconds(value);
      if (!seconds || *seconds == 0) {
        problem(line, b.name, field, "'" + value + "' is not a number of seconds from 0 to 3600");
      }
    } else if (key == "confirm_interval") {
      if (!parse_seconds(value)) {
        problem(line, b.name, field, "'" + value + "' is not a number of seconds from 0 to 3600");
      }
    } else if (key == "confirm_attempts") {
      if (!parse_int_in(value, 1, 100)) {
        problem(line, b.name, field, "'" + value + "' is not a whole number from 1 to 100");
      }
    } else if (key == "password_file") {
      if (auto bad = check_absolute_path(value)) problem(line, b.name, field, *bad);
    } else if (key == "on_pattern" || key == "off_pattern") {
      try {
        std::regex re(value, std::regex::extended);
      } catch (const std::regex_error&) {
        problem(line, b.name, field, "'" + value + "' is not an extended regular expression");
      }
    }
  }

  // Command templates can only be checked once every field of the board is known.
  void check_commands(const Board& b, const YAML::Node& node) {
    if (b.power.driver != "command") return;
    auto fields = board_fields(b);
    for (const char* key : {"on", "off", "state"}) {
      auto it = b.power.settings.find(key);
      if (it == b.power.settings.end()) continue;
      auto expanded = expand_command(it->second, fields);
      if (expanded.index() == 1) {
        problem(line_of(node[key]), b.name, std::string("power.") + key, std::get<1>(expanded));
      }
    }
  }

  void whole(const YAML::Node& root) {
    if (!root.IsMap()) {
      problem(line_of(root), "", "",
              "an inventory is a mapping with a 'boards' key, not " + kind_of(root));
      return;
    }
    for (const auto& entry : root) {
      std::string key = entry.first.IsScalar() ? entry.first.Scalar() : "?";
      if (key != "boards") {
        problem(line_of(entry.first), "", key, "unknown top-level key; the only one is 'boards'");
      }
    }
    YAML::Node boards = root["boards"];
    if (!boards) {
      problem(1, "", "boards", "missing; list the boards under 'boards:'");
      return;
    }
    if (!boards.IsMap()) {
      problem(line_of(boards), "", "boards",
              "must be a mapping from board name to its fields, not " + kind_of(boards));
      return;
    }
    std::map<std::string, int> names;
    std::map<std::string, std::string> macs;
    for (const auto& entry : boards) {
      if (!entry.first.IsScalar()) {
        problem(line_of(entry.first), "", "", "board names must be single values");
        continue;
      }
      std::string name = entry.first.Scalar();
      if (auto [it, fresh] = names.emplace(name, line_of(entry.first)); !fresh) {
        problem(line_of(entry.first), name, "",
                "the name is used twice (first on line " + std::to_string(it->second) +
                    "); give each board its own");
        continue;
      }
      Board b = board(name, entry.first, entry.second);
      if (b.mac) {
        if (auto [it, fresh] = macs.emplace(*b.mac, name); !fresh) {
          problem(line_of(entry.second["mac"]), name, "mac",
                  *b.mac + " is also board '" + it->second + "''s; each board has its own MAC");
        }
      }
      inventory_.boards.push_back(std::move(b));
    }
  }

  static std::string driver_names() {
    std::string out;
    for (const auto& s : power_driver_schemas()) {
      out += (out.empty() ? "" : ", ") + std::string(s.driver);
    }
    return out;
  }

  Inventory inventory_;
  std::vector<std::string> problems_;

 private:
  std::string source_;
};

}  // namespace

InventoryError::InventoryError(const std::vector<std::string>& problems)
    : std::runtime_error(join_lines(problems)), problems_(problems) {}

const Board* Inventory::find(const std::string& name) const {
  for (const auto& b : boards) {
    if (b.name == name) return &b;
  }
  return nullptr;
}

Inventory parse_inventory(std::string_view yaml, const std::string& source) {
  if (yaml.size() > kMaxInventoryBytes) {
    throw InventoryError({source + ": larger than 1 MiB; is this really an inventory?"});
  }
  YAML::Node root;
  try {
    root = YAML::Load(std::string(yaml));
  } catch (const YAML::Exception& e) {
    throw InventoryError({source + ":" + std::to_string(e.mark.line + 1) + ":" +
                          std::to_string(e.mark.column + 1) + ": not valid YAML: " + e.msg});
  }
  Checker checker(source);
  try {
    checker.whole(root);
  } catch (const YAML::Exception& e) {
    checker.problem(e.mark.line + 1, "", "", "unusable YAML: " + e.msg);
  }
  if (!checker.problems_.empty()) throw InventoryError(checker.problems_);
  checker.inventory_.source = source;
  return checker.inventory_;
}

Inventory load_inventory(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    throw InventoryError({path + ": cannot read the inventory file; check the path (or give "
                                 "--inventory FILE)"});
  }
  std::string text;
  text.resize(kMaxInventoryBytes + 1);
  in.read(text.data(), static_cast<std::streamsize>(text.size()));
  text.resize(static_cast<std::size_t>(in.gcount()));
  return parse_inventory(text, path);
}

}  // namespace crossrig::rig
