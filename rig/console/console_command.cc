#include "rig/console/console_command.h"

#include <fcntl.h>
#include <signal.h>
#include <unistd.h>

#include <boost/program_options.hpp>
#include <cerrno>
#include <cstring>
#include <iostream>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "common/host_port.h"
#include "common/net_io.h"
#include "rig/console/attach.h"
#include "rig/console/console_client.h"
#include "rig/console/console_paths.h"
#include "rig/console/console_session.h"
#include "rig/console/multiplexer.h"
#include "rig/console/raw_terminal.h"
#include "rig/inventory/board_json.h"
#include "rig/inventory/inventory.h"

namespace po = boost::program_options;
using namespace crossrig;
using namespace crossrig::rig::console;

namespace crossrig::rig {

namespace {

constexpr int kOk = 0, kFailed = 1, kUsage = 2, kUnreachable = 3;

constexpr const char* kUsageText =
    R"(Usage: rig console serve  [--name] BOARD [--address HOST:PORT] [options]
       rig console attach [--name] BOARD [--address HOST:PORT] [options]
       rig console expect [--name] BOARD [--address HOST:PORT] -e REGEX [-e REGEX...] [options]
       rig console BOARD [options]   (the same as attach BOARD)

Board consoles are TCP streams (QEMU -serial tcp:...,server=on, ser2net, console servers) that
take one client at a time. `serve` holds that one connection for a board, logs every boot and
shares the console with any number of readers on a unix socket; `attach` and `expect` use that
socket when a multiplexer runs for the board, else connect to the console directly (exclusive).
Without --address, the board's `console:` field in the inventory gives the address.

  serve    reconnect with backoff whenever the board's console goes away (power cycle);
           a log per connection: LOGDIR/BOARD-<UTC start>-boot<N>.log, every line stamped
           with its UTC arrival time, CR and ANSI escapes removed (--raw also keeps the bytes
           untouched in .raw); LOGDIR/BOARD-current.log links to the newest.
  attach   the console on this terminal, raw mode; Enter then ~. detaches (~~ sends one ~).
  expect   wait for the first of the patterns (ECMAScript regexes matched within one line,
           CR and ANSI escapes removed), print what matched.
)";

constexpr const char* kExitText = R"(
Paths: the socket is $CROSSRIG_RUNTIME_DIR (else $XDG_RUNTIME_DIR/crossrig, else /run/crossrig
for root, else /tmp/crossrig-UID) /console/BOARD.sock; logs go to $CROSSRIG_LOG_DIR/console
(else /var/log/crossrig/console for root, else ~/.local/state/crossrig/console).

Exit codes:
  0  served until stopped, detached, or a pattern matched
  1  the console closed before a pattern matched; the log could not be written
  2  usage error: fix the command line
  3  unreachable or timeout: no multiplexer and no reachable --address, or no pattern in time;
     the message shows the last lines seen

Examples:
  rig console serve --name qemu-arm64 --address 127.0.0.1:5000 &
  rig console attach --name qemu-arm64 --backlog 4
  rig console expect --name qemu-arm64 -e 'login:' -e 'Kernel panic' --timeout 300
  rig console expect --name qemu-arm64 --send 'root\r' -e '# ' --timeout 20 --json
)";

class UsageError : public std::runtime_error {
  using std::runtime_error::runtime_error;
};

volatile sig_atomic_t g_stop_fd = -1;
Multiplexer* volatile g_mux = nullptr;

extern "C" void on_stop_signal(int) {
  int saved = errno;
  if (g_mux) g_mux->stop();
  if (g_stop_fd >= 0) {
    char byte = 0;
    [[maybe_unused]] ssize_t n = ::write(g_stop_fd, &byte, 1);
  }
  errno = saved;
}

void catch_stop_signals() {
  struct sigaction sa {};
  sa.sa_handler = on_stop_signal;
  sigemptyset(&sa.sa_mask);
  for (int sig : {SIGTERM, SIGINT, SIGHUP, SIGQUIT})
    sigaction(sig, &sa, nullptr);
  // Closed sockets and pipes surface as EPIPE from send/write instead.
  sa.sa_handler = SIG_IGN;
  sigaction(SIGPIPE, &sa, nullptr);
}

struct Common {
  std::string name, address, socket, inventory;
};

void add_common(po::options_description& o, Common& c) {
  o.add_options()("name", po::value(&c.name), "the board (names the socket and logs)")(
      "address", po::value(&c.address), "the console's TCP address HOST:PORT")(
      "socket", po::value(&c.socket), "the multiplexer's unix socket (default: see Paths)")(
      "inventory", po::value(&c.inventory),
      "where the board's console address comes from without --address (default: the running "
      "lab's, $RIG_INVENTORY, ./inventory.yaml)");
}

void check_name(const Common& c) {
  if (c.name.empty()) throw UsageError("--name BOARD is required");
  try {
    check_board_name(c.name);
  } catch (const std::invalid_argument& e) {
    throw UsageError(e.what());
  }
}

// Without --address the board's console address comes from the inventory. Only an explicit
// --inventory must exist: otherwise a running multiplexer is enough to attach or expect.
std::optional<std::string> inventory_console(const Common& c) {
  std::optional<std::string> flag;
  if (!c.inventory.empty()) flag = c.inventory;
  try {
    ::crossrig::rig::Inventory inventory = ::crossrig::rig::load_chosen_inventory(flag);
    const ::crossrig::rig::Board* board = inventory.find(c.name);
    if (board == nullptr) {
      if (!flag) return std::nullopt;
      throw UsageError("no board '" + c.name + "' in " + inventory.source);
    }
    if (!board->console && flag) {
      throw UsageError("board '" + c.name + "' in " + inventory.source +
                       " has no console address: add `console: HOST:PORT`");
    }
    return board->console;
  } catch (const ::crossrig::rig::InventoryError& e) {
    if (flag) throw UsageError(e.what());
    return std::nullopt;
  }
}

std::optional<HostPort> address_of(const Common& c) {
  std::string text = c.address;
  if (text.empty()) {
    auto from_inventory = inventory_console(c);
    if (!from_inventory) return std::nullopt;
    text = *from_inventory;
  }
  try {
    HostPort hp = parse_host_port(text, 0);
    if (hp.port == 0) throw std::invalid_argument("no port");
    return hp;
  } catch (const std::invalid_argument&) {
    throw UsageError("bad console address '" + text + "' of " + c.name + ": give HOST:PORT");
  }
}

std::filesystem::path socket_of(const Common& c) {
  return c.socket.empty() ? mux_socket_path(c.name) : std::filesystem::path(c.socket);
}

ConsoleTarget target_of(const Common& c) {
  return {c.name, socket_of(c), address_of(c)};
}

// Parses argv after the subcommand (a bare word is the board); false when --help was asked for.
bool parse(int argc, char** argv, const po::options_description& opts, const char* what) {
  po::options_description all(opts);
  bool help = false;
  all.add_options()("help,h", po::bool_switch(&help), "this help");
  po::variables_map vm;
  try {
    po::positional_options_description board;
    board.add("name", 1);
    po::store(po::command_line_parser(argc, argv).options(all).positional(board).run(), vm);
    po::notify(vm);
  } catch (const po::error& e) {
    throw UsageError(std::string(e.what()) + " (rig console " + what + ")");
  }
  if (help) std::cout << kUsageText << '\n' << all << kExitText;
  return !help;
}

std::size_t kib(double value, const char* option) {
  if (!(value >= 0) || value > 1024 * 1024) {
    throw UsageError(std::string("bad ") + option + ": give KiB between 0 and 1048576");
  }
  return static_cast<std::size_t>(value * 1024);
}

int serve(int argc, char** argv) {
  Common c;
  std::string log_dir;
  bool raw = false;
  double backlog = 64, reader_buffer = 256, max_backoff = 5;
  po::options_description o("serve options");
  add_common(o, c);
  o.add_options()("log-dir", po::value(&log_dir), "where boot logs go (default: see Paths)")(
      "raw", po::bool_switch(&raw), "also keep each boot's bytes untouched in BASE.raw")(
      "backlog-max", po::value(&backlog), "KiB of past output kept for --backlog (64)")(
      "reader-buffer", po::value(&reader_buffer),
      "KiB a reader may lag behind before it is dropped (256)")(
      "max-backoff", po::value(&max_backoff), "longest wait between reconnects, seconds (5)");
  if (!parse(argc, argv, o, "serve")) return kOk;
  check_name(c);
  MuxConfig config;
  config.board = c.name;
  auto address = address_of(c);
  if (!address) {
    throw UsageError(
        "serve needs the board's console address: --address HOST:PORT, or a "
        "`console:` field for it in the inventory");
  }
  config.upstream = *address;
  config.socket_path = socket_of(c);
  config.log_dir = log_dir.empty() ? default_log_dir() : std::filesystem::path(log_dir);
  config.raw_log = raw;
  config.backlog_max = kib(backlog, "--backlog-max");
  config.reader_buffer = kib(reader_buffer, "--reader-buffer");
  if (config.reader_buffer < 1024) throw UsageError("--reader-buffer must be at least 1 KiB");
  if (!(max_backoff >= 0.1 && max_backoff <= 3600)) {
    throw UsageError("bad --max-backoff: give seconds between 0.1 and 3600");
  }
  config.backoff_max = std::chrono::milliseconds(static_cast<long>(max_backoff * 1000));
  config.backoff_min = std::min(config.backoff_min, config.backoff_max);
  Multiplexer mux(config);
  struct MuxGuard {
    explicit MuxGuard(Multiplexer* m) { g_mux = m; }
    ~MuxGuard() { g_mux = nullptr; }
  } guard(&mux);
  catch_stop_signals();
  mux.run();
  return kOk;
}

int attach(int argc, char** argv) {
  Common c;
  double backlog = 0;
  std::string escape = "~", detach_key = "none";
  bool read_only = false, quiet = false;
  po::options_description o("attach options");
  add_common(o, c);
  o.add_options()("backlog", po::value(&backlog), "KiB of past output to show first (0)")(
      "escape", po::value(&escape), "escape character of the ~. sequence, or none (~)")(
      "detach-key", po::value(&detach_key), "one key that detaches anywhere, e.g. ^] (none)")(
      "read-only", po::bool_switch(&read_only), "watch only; what is typed is not sent")(
      "quiet,q", po::bool_switch(&quiet), "no attach/detach messages on stderr");
  if (!parse(argc, argv, o, "attach")) return kOk;
  check_name(c);
  DetachKeys keys;
  try {
    keys.escape = parse_key(escape);
    keys.detach_key = parse_key(detach_key);
  } catch (const std::invalid_argument& e) {
    throw UsageError(e.what());
  }
  ConsoleConnection conn = open_console(target_of(c), Hello{kib(backlog, "--backlog"), read_only},
                                        Deadline(std::chrono::seconds(10)));
  int stop_pipe[2];
  if (::pipe2(stop_pipe, O_CLOEXEC | O_NONBLOCK) != 0) {
    throw std::runtime_error(std::string("pipe: ") + std::strerror(errno));
  }
  UniqueFd stop_read(stop_pipe[0]), stop_write(stop_pipe[1]);
  // The handler must never write to the pipe once it is closed, whichever way we leave.
  struct StopFdGuard {
    explicit StopFdGuard(int fd) { g_stop_fd = fd; }
    ~StopFdGuard() { g_stop_fd = -1; }
  } guard(stop_write.get());
  catch_stop_signals();
  std::string how;
  if (keys.escape) how = "Enter " + std::string(1, *keys.escape) + ". detaches";
  if (keys.detach_key) how += std::string(how.empty() ? "" : ", ") + "the detach key detaches";
  if (!quiet) {
    std::cerr << "[rig console: attached to " << c.name << " via " << conn.description
              << (conn.via_mux ? "" : " (exclusive: no multiplexer runs for it)") << "; "
              << (how.empty() ? "no detach key" : how) << "]\r\n";
  }
  AttachEnd end = AttachEnd::kStopped;
  {
    RawTerminal raw(STDIN_FILENO);
    end = relay(STDIN_FILENO, STDOUT_FILENO, conn.fd.get(), stop_read.get(), keys);
  }
  if (end == AttachEnd::kConsoleClosed) {
    std::cerr << "\r\n[rig console: the console connection of " << c.name
              << " closed; attach again]\n";
    return kUnreachable;
  }
  if (!quiet) std::cerr << "\r\n[rig console: detached from " << c.name << "]\n";
  return kOk;
}

std::string unescape(const std::string& text) {
  std::string out;
  for (std::size_t i = 0; i < text.size(); ++i) {
    if (text[i] != '\\' || i + 1 == text.size()) {
      out.push_back(text[i]);
      continue;
    }
    switch (text[++i]) {
      case 'r':
        out.push_back('\r');
        break;
      case 'n':
        out.push_back('\n');
        break;
      case 't':
        out.push_back('\t');
        break;
      case '\\':
        out.push_back('\\');
        break;
      default:
        throw UsageError("bad escape \\" + std::string(1, text[i]) +
                         " in --send (use \\r \\n \\t \\\\)");
    }
  }
  return out;
}

int expect(int argc, char** argv) {
  Common c;
  std::vector<std::string> patterns;
  std::string send_text;
  double timeout = 30, backlog = 0;
  bool json = false;
  po::options_description o("expect options");
  add_common(o, c);
  o.add_options()("expect,e", po::value(&patterns)->composing(), "a pattern; repeat for several")(
      "timeout", po::value(&timeout), "seconds to wait (30)")(
      "send", po::value(&send_text), "text sent first; \\r \\n \\t \\\\ are escapes")(
      "backlog", po::value(&backlog), "KiB of past output searched too (0)")(
      "json", po::bool_switch(&json), "print the result as JSON");
  if (!parse(argc, argv, o, "expect")) return kOk;
  check_name(c);
  if (patterns.empty()) throw UsageError("give at least one -e REGEX");
  if (!(timeout > 0 && timeout <= 86400)) throw UsageError("bad --timeout: give seconds");
  std::string to_send = unescape(send_text);
  Matcher check;
  try {
    check.set_patterns(patterns);
  } catch (const std::invalid_argument& e) {
    throw UsageError(e.what());
  }
  ConsoleConnection conn = open_console(target_of(c), Hello{kib(backlog, "--backlog"), false},
                                        Deadline(std::chrono::seconds(10)));
  ConsoleSession session(std::move(conn.fd), c.name);
  if (!to_send.empty()) session.send(to_send);
  try {
    ExpectMatch m =
        session.expect(patterns, std::chrono::milliseconds(static_cast<long>(timeout * 1000)));
    if (json) {
      std::cout << nlohmann::json{{"matched", true},
                                  {"pattern", m.pattern},
                                  {"regex", patterns[m.pattern]},
                                  {"text", m.text},
                                  {"groups", m.groups}}
                       .dump()
                << '\n';
    } else {
      std::cout << m.text << '\n';
    }
    return kOk;
  } catch (const NetError& e) {
    if (json) {
      std::cout << nlohmann::json{{"matched", false},
                                  {"error", e.what()},
                                  {"last_lines", session.recent_lines()}}
                       .dump()
                << '\n';
    }
    throw;
  }
}

}  // namespace

int console_command(int argc, char** argv) {
  std::string sub = argc > 1 ? argv[1] : "";
  try {
    if (sub == "serve") return serve(argc - 1, argv + 1);
    if (sub == "attach") return attach(argc - 1, argv + 1);
    if (sub == "expect") return expect(argc - 1, argv + 1);
    if (sub == "--help" || sub == "-h" || sub == "help") {
      std::cout << kUsageText << kExitText;
      return kOk;
    }
    if (sub.empty()) throw UsageError("give serve, attach, expect or a board name");
    if (sub[0] == '-') throw UsageError("unknown option '" + sub + "'");
    // `rig console BOARD [options]` is attach.
    std::vector<char*> args{argv[1], const_cast<char*>("--name"), argv[1]};
    for (int i = 2; i < argc; ++i)
      args.push_back(argv[i]);
    return attach(static_cast<int>(args.size()), args.data());
  } catch (const UsageError& e) {
    std::cerr << "rig console: " << e.what() << "; run rig console --help\n";
    return kUsage;
  } catch (const std::invalid_argument& e) {
    std::cerr << "rig console: " << e.what() << '\n';
    return kUsage;
  } catch (const NetError& e) {
    std::cerr << "rig console: " << e.what() << '\n';
    bool unreachable = e.kind() == NetError::kTimeout || e.kind() == NetError::kUnreachable;
    return unreachable ? kUnreachable : kFailed;
  } catch (const std::exception& e) {
    std::cerr << "rig console: " << e.what() << '\n';
    return kFailed;
  }
}

}  // namespace crossrig::rig
