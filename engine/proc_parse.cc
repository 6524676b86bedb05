#include "engine/proc_parse.h"

#include <algorithm>
#include <charconv>
#include <cstdio>
#include <cstdlib>
#include <stdexcept>

namespace crossrig::engine {
namespace {

std::string_view next_token(std::string_view& line) {
  std::size_t b = line.find_first_not_of(' ');
  if (b == std::string_view::npos) {
    line = {};
    return {};
  }
  line.remove_prefix(b);
  std::size_t e = line.find(' ');
  std::string_view tok = line.substr(0, e);
  line.remove_prefix(e == std::string_view::npos ? line.size() : e);
  return tok;
}

std::uint64_t parse_hex(std::string_view s, std::string_view line) {
  std::uint64_t v = 0;
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v, 16);
  if (ec != std::errc() || p != s.data() + s.size() || s.empty())
    throw std::runtime_error("bad number '" + std::string(s) +
                             "' in maps line: " + std::string(line));
  return v;
}

MapsEntry parse_maps_line(std::string_view line) {
  std::string_view rest = line;
  MapsEntry e;
  std::string_view range = next_token(rest), perms = next_token(rest), off = next_token(rest),
                   dev = next_token(rest), inode = next_token(rest);
  std::size_t dash = range.find('-'), colon = dev.find(':');
  if (dash == std::string_view::npos || perms.size() != 4 || colon == std::string_view::npos)
    throw std::runtime_error("malformed maps line: " + std::string(line));
  e.start = parse_hex(range.substr(0, dash), line);
  e.end = parse_hex(range.substr(dash + 1), line);
  e.read = perms[0] == 'r';
  e.write = perms[1] == 'w';
  e.exec = perms[2] == 'x';
  e.shared = perms[3] == 's';
  e.offset = parse_hex(off, line);
  e.dev_major = static_cast<std::uint32_t>(parse_hex(dev.substr(0, colon), line));
  e.dev_minor = static_cast<std::uint32_t>(parse_hex(dev.substr(colon + 1), line));
  std::uint64_t ino = 0;
  auto [p, ec] = std::from_chars(inode.data(), inode.data() + inode.size(), ino);
  if (ec != std::errc() || p != inode.data() + inode.size())
    throw std::runtime_error("bad inode in maps line: " + std::string(line));
  e.inode = ino;
  std::size_t b = rest.find_first_not_of(' ');
  if (b != std::string_view::npos) e.path = std::string(rest.substr(b));
  return e;
}

bool is_maps_line(std::string_view line) {
  // smaps field lines start with "Name:"; maps lines start with a hex range.
  std::size_t sp = line.find(' ');
  std::string_view first = line.substr(0, sp);
  return first.find('-') != std::string_view::npos && first.back() != ':';
}

template <typename F>
void for_each_line(std::string_view text, F f) {
  while (!text.empty()) {
    std::size_t nl = text.find('\n');
    std::string_view line = text.substr(0, nl);
    if (!line.empty()) f(line);
    text.remove_prefix(nl == std::string_view::npos ? text.size() : nl + 1);
  }
}

// mountinfo writes space, tab, newline and backslash in paths as \ooo.
std::string unescape(std::string_view s) {
  auto octal = [](char c) { return c >= '0' && c <= '7'; };
  std::string out;
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '\\' && s.size() - i >= 4 && octal(s[i + 1]) && octal(s[i + 2]) &&
        octal(s[i + 3])) {
      out += static_cast<char>((s[i + 1] - '0') * 64 + (s[i + 2] - '0') * 8 + (s[i + 3] - '0'));
      i += 3;
    } else {
      out += s[i];
    }
  }
  return out;
}

}  // namespace

bool MapsEntry::has_flag(std::string_view flag) const {
  return std::find(vm_flags.begin(), vm_flags.end(), flag) != vm_flags.end();
}

std::vector<MapsEntry> parse_maps(std::string_view text) {
  std::vector<MapsEntry> out;
  for_each_line(text, [&](std::string_view line) { out.push_back(parse_maps_line(line)); });
  return out;
}

std::vector<MapsEntry> parse_smaps(std::string_view text) {
  std::vector<MapsEntry> out;
  for_each_line(text, [&](std::string_view line) {
    if (is_maps_line(line)) {
      out.push_back(parse_maps_line(line));
    } else if (line.starts_with("VmFlags:")) {
      if (out.empty()) throw std::runtime_error("smaps VmFlags before any mapping");
      std::string_view rest = line.substr(8);
      for (std::string_view t = next_token(rest); !t.empty(); t = next_token(rest))
        out.back().vm_flags.emplace_back(t);
    }
  });
  return out;
}

std::vector<LockImage> parse_fd_locks(std::string_view fdinfo) {
  std::vector<LockImage> out;
  for_each_line(fdinfo, [&](std::string_view line) {
    constexpr std::string_view kPrefix = "lock:";
    if (!line.starts_with(kPrefix)) return;
    const std::string text(line);
    std::string_view rest = line.substr(kPrefix.size());
    rest.remove_prefix(std::min(rest.find_first_not_of(" \t"), rest.size()));
    std::string_view id = next_token(rest), type = next_token(rest);
    next_token(rest);  // ADVISORY (mandatory locks are gone from Linux)
    std::string_view access = next_token(rest);
    next_token(rest);  // pid
    next_token(rest);  // dev:inode
    std::string_view start = next_token(rest), end = next_token(rest);
    if (!id.ends_with(':') || type.empty()) throw std::runtime_error("malformed " + text);
    LockImage lock;
    if (type == "FLOCK") {
      lock.kind = "flock";
    } else if (type == "POSIX") {
      lock.kind = "posix";
    } else if (type == "OFDLCK") {
      lock.kind = "ofd";
    } else {
      for (char c : type)
        lock.kind += static_cast<char>(c >= 'A' && c <= 'Z' ? c - 'A' + 'a' : c);
      out.push_back(lock);
      return;
    }
    if (access != "READ" && access != "WRITE") throw std::runtime_error("malformed " + text);
    lock.write = access == "WRITE";
    auto number = [&](std::string_view v) {
      std::int64_t n = 0;
      auto [p, ec] = std::from_chars(v.data(), v.data() + v.size(), n);
      if (ec != std::errc() || p != v.data() + v.size() || v.empty())
        throw std::runtime_error("malformed " + text);
      return n;
    };
    lock.start = number(start);
    lock.len = end == "EOF" ? 0 : number(end) - lock.start + 1;
    out.push_back(lock);
  });
  return out;
}

std::vector<RlimitImage> parse_limits(std::string_view text) {
  std::vector<RlimitImage> out;
  // The names hold spaces: the values start where the header's "Soft Limit" does.
  std::size_t values = std::string_view::npos;
  auto limit = [](const std::string& v, std::string_view line) -> std::uint64_t {
    if (v == "unlimited") return ~std::uint64_t{0};
    std::uint64_t n = 0;
    if (auto [end, ec] = std::from_chars(v.data(), v.data() + v.size(), n);
        ec != std::errc() || end != v.data() + v.size())
      throw std::runtime_error("malformed /proc limits line: " + std::string(line));
    return n;
  };
  for_each_line(text, [&](std::string_view line) {
    if (values == std::string_view::npos) {
      values = line.find("Soft Limit");
      if (values == std::string_view::npos)
        throw std::runtime_error("/proc limits without its header: " + std::string(line));
      return;
    }
    const std::vector<std::string> f =
        split_fields(values < line.size() ? line.substr(values) : std::string_view{}, ' ');
    if (f.size() < 2) throw std::runtime_error("malformed /proc limits line: " + std::string(line));
    out.push_back({static_cast<int>(out.size()), limit(f[0], line), limit(f[1], line)});
  });
  return out;
}

std::map<std::string, std::string> parse_status(std::string_view text) {
  std::map<std::string, std::string> out;
  for_each_line(text, [&](std::string_view line) {
    std::size_t colon = line.find(':');
    if (colon == std::string_view::npos) return;
    std::string_view v = line.substr(colon + 1);
    std::size_t b = v.find_first_not_of(" \t");
    v = b == std::string_view::npos ? std::string_view{} : v.substr(b);
    std::size_t e = v.find_last_not_of(" \t");
    out.emplace(line.substr(0, colon), v.substr(0, e == std::string_view::npos ? 0 : e + 1));
  });
  return out;
}

ProcStat::ProcStat(std::string_view text) {
  // comm is whatever lies between the first '(' and the last ')'.
  std::size_t open = text.find('('), close = text.rfind(')');
  if (open == std::string_view::npos || close == std::string_view::npos || close < open)
    throw std::runtime_error("malformed /proc stat line");
  std::string_view pid = text.substr(0, open);
  while (!pid.empty() && pid.back() == ' ')
    pid.remove_suffix(1);
  fields_.emplace_back(pid);
  fields_.emplace_back(text.substr(open + 1, close - open - 1));
  std::string_view rest = text.substr(close + 1);
  while (!rest.empty() && rest.back() == '\n')
    rest.remove_suffix(1);
  for (std::string_view t = next_token(rest); !t.empty(); t = next_token(rest))
    fields_.emplace_back(t);
}

const std::string& ProcStat::field(std::size_t n) const {
  if (n == 0 || n > fields_.size())
    throw std::out_of_range("stat has no field " + std::to_string(n));
  return fields_[n - 1];
}

std::int64_t ProcStat::number(std::size_t n) const {
  const std::string& s = field(n);
  std::int64_t v = 0;
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || p != s.data() + s.size())
    throw std::runtime_error("stat field " + std::to_string(n) + " is not a number: " + s);
  return v;
}

std::vector<std::string> split_fields(std::string_view s, char sep) {
  std::vector<std::string> out;
  while (!s.empty()) {
    std::size_t at = s.find(sep);
    if (at != 0) out.emplace_back(s.substr(0, at));
    s.remove_prefix(at == std::string_view::npos ? s.size() : at + 1);
  }
  return out;
}

int MountInfo::tag(std::string_view name) const {
  for (const std::string& t : tags) {
    if (t.size() > name.size() && t.starts_with(name) && t[name.size()] == ':')
      return std::atoi(t.c_str() + name.size() + 1);
  }
  return 0;
}

std::vector<MountInfo> parse_mountinfo(std::string_view text) {
  // "ID PARENT MAJOR:MINOR ROOT MOUNTPOINT OPTIONS [TAG...] - FSTYPE SOURCE SUPEROPTS"
  std::vector<MountInfo> out;
  for (const std::string& line : split_fields(text, '\n')) {
    std::vector<std::string> f = split_fields(line, ' ');
    auto dash = std::find(f.begin(), f.end(), "-");
    MountInfo m;
    if (dash - f.begin() < 6 || f.end() - dash != 4 ||
        std::sscanf(f[2].c_str(), "%u:%u", &m.major, &m.minor) != 2)
      throw std::runtime_error("malformed mountinfo line: " + line);
    m.id = std::atoi(f[0].c_str());
    m.parent = std::atoi(f[1].c_str());
    m.root = unescape(f[3]);
    m.mountpoint = unescape(f[4]);
    m.options = split_fields(f[5], ',');
    m.tags.assign(f.begin() + 6, dash);
    m.fstype = dash[1];
    m.source = unescape(dash[2]);
    m.super_options = split_fields(dash[3], ',');
    out.push_back(std::move(m));
  }
  return out;
}

}  // namespace crossrig::engine
