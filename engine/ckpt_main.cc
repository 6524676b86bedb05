// ckpt: checkpoint a running process into an image directory and restore it.

// GCC 12 reports a false null dereference inside Boost.Program_options' typed_value<string>.
#pragma GCC diagnostic ignored "-Wnull-dereference"
#include <signal.h>
#include <unistd.h>

#include <boost/program_options.hpp>
#include <cstdlib>
#include <fstream>
#include <iostream>
#include <sstream>

#include "engine/check.h"
#include "engine/ckpt_error.h"
#include "engine/config_file.h"
#include "engine/dump.h"
#include "engine/lazy_dump.h"
#include "engine/migrate.h"
#include "engine/page_server.h"
#include "engine/phase.h"
#include "engine/receive.h"
#include "engine/restore.h"
#include "engine/service/ckpt_service.h"
#include "engine/show.h"

namespace po = boost::program_options;
using namespace crossrig::engine;

namespace {

constexpr const char* kUsage =
    "usage: ckpt <command> [options]\n"
    "  pre-dump -t PID -D DIR                     copy its memory; it runs on\n"
    "  dump     -t PID -D DIR [--leave-running]   checkpoint a process into DIR\n"
    "           [--page-server HOST:PORT]         ... and send the image to a page server\n"
    "           [--lazy-pages --listen ADDR:PORT] ... keeping its memory here for a restore\n"
    "  page-server --listen ADDR:PORT -D DIR      receive images over mutually authenticated\n"
    "                                             TLS into DIR/NAME\n"
    "  restore  -D DIR [-d] [--lazy-pages]        restore it with the same PID\n"
    "           [--page-server HOST:PORT]         ... fetching that memory from the dump\n"
    "  migrate  -t PID --to HOST:PORT [--lazy]    move it, running, to `ckpt receive` there\n"
    "  receive  --listen ADDR:PORT -D DIR         take one migrated process and run it\n"
    "  show     DIR [--json]                      decode an image\n"
    "  check    [--json]                          what this kernel supports\n"
    "  service  --address PATH                    checkpoint on request over a unix socket\n"
    "`ckpt <command> --help` lists a command's options. Exit codes: 0 success, 1 internal\n"
    "error, 2 usage, 3 unsupported object, 4 bad image, 5 system failure (6: the service\n"
    "refused its caller); restore without -d exits with the restored process's status.\n";

// Options from /etc/ckpt/default.conf then ~/.config/ckpt/ckpt.conf, as command-line tokens.
std::vector<std::string> config_args() {
  std::vector<std::string> paths = {"/etc/ckpt/default.conf"};
  if (const char* home = std::getenv("HOME"))
    paths.push_back(std::string(home) + "/.config/ckpt/ckpt.conf");
  if (const char* extra = std::getenv("CKPT_CONFIG")) paths.push_back(extra);
  std::vector<std::string> out;
  for (const auto& p : paths) {
    std::ifstream f(p);
    if (!f) continue;
    std::stringstream ss;
    ss << f.rdbuf();
    for (auto& a : config_to_args(ss.str()))
      out.push_back(std::move(a));
  }
  return out;
}

// Parses the command line, then the config files; the command line wins because boost keeps
// the first value stored for an option.
po::variables_map parse(const std::vector<std::string>& args, const po::options_description& desc,
                        const po::positional_options_description* pos = nullptr) {
  po::variables_map vm;
  po::command_line_parser cl(args);
  cl.options(desc);
  if (pos) cl.positional(*pos);
  po::store(cl.run(), vm);
  po::store(po::command_line_parser(config_args()).options(desc).allow_unregistered().run(), vm);
  po::notify(vm);
  return vm;
}

void on_signal(int) {
  g_interrupted.store(true);
}

void redirect_log(const po::variables_map& vm) {
  if (!vm.count("log-file")) return;
  static std::ofstream log;
  log.open(vm["log-file"].as<std::string>(), std::ios::app);
  if (!log)
    throw CkptError(CkptError::kUsage, "cannot open log file " + vm["log-file"].as<std::string>());
  std::cerr.rdbuf(log.rdbuf());
}

// --prev-images-dir and --track, which dump and pre-dump share.
void add_chain_options(po::options_description& desc) {
  desc.add_options()("prev-images-dir", po::value<std::string>()->value_name("DIR"),
                     "the pre-dump this image follows: pages it holds that were not written "
                     "since are not copied again")(
      "track", po::value<std::string>()->value_name("HOW")->default_value("auto"),
      "how written pages are found: soft-dirty, pagemap-scan (userfaultfd write-protect), hash, "
      "or auto (the chain's, else the best this kernel offers; ckpt check says which)");
}

void set_chain_options(const po::variables_map& vm, DumpOptions& o) {
  if (vm.count("prev-images-dir")) o.prev_dir = vm["prev-images-dir"].as<std::string>();
  if (const std::string t = vm["track"].as<std::string>(); t != "auto") o.track = parse_tracking(t);
}

// --tls-cacert, --tls-cert and --tls-key (CRIU's names), which dump, pre-dump and
// page-server share.
void add_tls_options(po::options_description& desc) {
  const crossrig::TlsConfig d;
  desc.add_options()(
      "tls-cacert", po::value<std::string>()->value_name("FILE"),
      ("CA certificate (PEM) the peer's certificate must be signed by (default " + d.cacert + ")")
          .c_str())(
      "tls-cert", po::value<std::string>()->value_name("FILE"),
      ("this host's certificate (PEM), signed by that CA (default " + d.cert + ")").c_str())(
      "tls-key", po::value<std::string>()->value_name("FILE"),
      ("the private key of --tls-cert (PEM) (default " + d.key + ")").c_str());
}

crossrig::TlsConfig tls_config(const po::variables_map& vm) {
  crossrig::TlsConfig c;
  if (vm.count("tls-cacert")) c.cacert = vm["tls-cacert"].as<std::string>();
  if (vm.count("tls-cert")) c.cert = vm["tls-cert"].as<std::string>();
  if (vm.count("tls-key")) c.key = vm["tls-key"].as<std::string>();
  return c;
}

crossrig::HostPort host_port_option(const po::variables_map& vm, const char* name) {
  const std::string text = vm[name].as<std::string>();
  try {
    // Port 0 (the kernel picks one) is for listening only, which parse_host_port refuses.
    if (text.ends_with(":0")) return crossrig::parse_host_port(text.substr(0, text.size() - 2), 0);
    return crossrig::parse_host_port(text, 0);
  } catch (const std::invalid_argument& e) {
    throw CkptError(CkptError::kUsage, std::string("--") + name + ": " + e.what());
  }
}

// --page-server and the TLS options of dump and pre-dump.
void add_page_server_options(po::options_description& desc) {
  desc.add_options()("page-server", po::value<std::string>()->value_name("HOST:PORT"),
                     "send the whole image to `ckpt page-server` there (as the last component "
                     "of -D), which commits it before -D is; -D then holds all but the pages "
                     "files, enough for ckpt show and --prev-images-dir");
  add_tls_options(desc);
}

void set_page_server_options(const po::variables_map& vm, DumpOptions& o) {
  if (!vm.count("page-server")) return;
  o.page_server = host_port_option(vm, "page-server");
  if (o.page_server->port == 0)
    throw CkptError(CkptError::kUsage, "--page-server needs HOST:PORT, with the port");
  o.tls = tls_config(vm);
}

// --action-script, which dump, pre-dump and restore share; `when` says at which actions.
void add_action_script_option(po::options_description& desc, const std::string& when) {
  desc.add_options()(
      "action-script", po::value<std::vector<std::string>>()->composing()->value_name("PATH"),
      ("run the executable PATH " + when +
       ", with CKPT_SCRIPT_ACTION (the action), CKPT_INIT_PID (the tree's root PID) and "
       "CKPT_IMAGE_DIR (the absolute -D) in its environment and stdin from /dev/null; "
       "repeatable, run in the order given (the configuration files' after the command line's)")
          .c_str());
}

std::vector<std::string> action_scripts(const po::variables_map& vm) {
  if (!vm.count("action-script")) return {};
  return vm["action-script"].as<std::vector<std::string>>();
}

void print_result(const po::variables_map& vm, const DumpOptions& o, const DumpResult& r) {
  if (vm.count("json")) {
    std::cout << nlohmann::json{{"pid", o.pid},
                                {"dir", o.dir},
                                {"pages_bytes", r.pages_bytes},
                                {"pages_by_task", r.pages_by_task},
                                {"pages_in_parent", r.pages_in_parent},
                                {"track", tracking_name(r.tracking)},
                                {"vmas", r.vmas},
                                {"page_server_path", r.page_server_path}}
                     .dump()
              << "\n";
  } else if (vm.count("verbose")) {
    std::cerr << (o.pre_dump ? "pre-dumped" : "dumped") << " process " << o.pid << " into " << o.dir
              << ": " << r.vmas << " mappings, " << r.pages_bytes << " bytes of pages ("
              << r.pages_by_task << " written by the task itself), " << r.pages_in_parent
              << " bytes left to the parent image, written pages found by "
              << tracking_name(r.tracking)
              << (r.page_server_path.empty() ? ""
                                             : "; the page server " + o.page_server->host +
                                                   " holds it whole in " + r.page_server_path)
              << "\n";
  }
}

int cmd_pre_dump(const std::vector<std::string>& args) {
  po::options_description desc("ckpt pre-dump options");
  desc.add_options()("help,h", "show this help")("tree,t", po::value<int>(),
                                                 "PID of the process to pre-dump")(
      "images-dir,D", po::value<std::string>(), "image directory (created; may exist empty)")(
      "json", "print the result as JSON")("verbose,v", "say more")(
      "log-file,o", po::value<std::string>(), "append messages to this file");
  add_chain_options(desc);
  add_page_server_options(desc);
  add_action_script_option(desc,
                           "at pre-dump (before the tree is touched) and post-dump (once the "
                           "image is committed, before the tree runs on); if it fails (exits "
                           "non-zero, is killed, cannot be run) so does the pre-dump (exit 5), "
                           "leaving no image and the tree running as before");
  auto vm = parse(args, desc);
  if (vm.count("help")) {
    std::cout << "usage: ckpt pre-dump -t PID -D DIR [--prev-images-dir DIR0] [--action-script "
                 "PATH]...\n"
                 "Copies the memory of a process tree, which runs on, and tracks the pages it\n"
                 "writes from then on; `ckpt dump --prev-images-dir DIR` then copies only those.\n"
              << desc;
    return 0;
  }
  redirect_log(vm);
  if (!vm.count("tree") || !vm.count("images-dir"))
    throw CkptError(CkptError::kUsage,
                    "pre-dump needs -t PID and -D DIR (see ckpt pre-dump --help)");
  DumpOptions o;
  o.pid = vm["tree"].as<int>();
  o.dir = vm["images-dir"].as<std::string>();
  o.pre_dump = true;
  o.action_scripts = action_scripts(vm);
  set_chain_options(vm, o);
  set_page_server_options(vm, o);
  print_result(vm, o, dump(o));
  return 0;
}

int cmd_dump(const std::vector<std::string>& args) {
  po::options_description desc("ckpt dump options");
  desc.add_options()("help,h", "show this help")("tree,t", po::value<int>(),
                                                 "PID of the process to dump")(
      "images-dir,D", po::value<std::string>(), "image directory (created; may exist empty)")(
      "leave-running", "let the process run on after the dump instead of killing it")(
      "shell-job",
      "the process is a job of a shell on a terminal: without it a process holding a "
      "terminal of a session led from outside the dumped tree is refused")(
      "tcp-established",
      "checkpoint established TCP connections (in repair mode; their peers must not send to "
      "them until the restore) instead of refusing them")(
      "manage-cgroups",
      "record each process's cgroups, and the properties of those below ckpt's own cgroup, "
      "for restore --manage-cgroups")(
      "check-only",
      "only find whether the tree can be dumped: refuse what a dump refuses, with its exit "
      "code and message, but copy no page and leave no image; the tree runs on")(
      "lazy-pages",
      "post-copy: leave the tree's private memory in it, frozen, and serve it on --listen to "
      "the `ckpt restore --lazy-pages --page-server` that restores the image elsewhere; the "
      "tree is killed here once that has every page, and runs on here if it is lost before")(
      "listen", po::value<std::string>()->value_name("ADDR:PORT"),
      "with --lazy-pages: where to serve the pages (port 0: any free one, printed)")(
      "wait", po::value<unsigned>()->value_name("SECONDS")->default_value(0),
      "with --lazy-pages: let the tree run on here if no restore connects within SECONDS "
      "(0: wait until interrupted)")("json", "print the result as JSON")("verbose,v", "say more")(
      "log-file,o", po::value<std::string>(), "append messages to this file");
  add_chain_options(desc);
  add_page_server_options(desc);
  add_action_script_option(desc,
                           "at pre-dump (before the tree is frozen) and post-dump (once the "
                           "image is committed, the tree still frozen, before it is killed or "
                           "runs on); not with --check-only. If it fails (exits non-zero, is "
                           "killed, cannot be run) so does the dump (exit 5): no image is left "
                           "(a --page-server keeps its copy) and the tree runs on as before");
  auto vm = parse(args, desc);
  if (vm.count("help")) {
    std::cout << "usage: ckpt dump -t PID -D DIR [--leave-running] [--prev-images-dir DIR0]\n"
                 "                [--action-script PATH]...\n"
                 "       ckpt dump -t PID -D DIR --lazy-pages --listen ADDR:PORT\n"
                 "       ckpt dump -t PID -D DIR --check-only\n"
                 "Checkpoints a process tree into DIR and kills it (or lets it run on). With\n"
                 "--lazy-pages the tree stays frozen here with its memory until a restore on\n"
                 "another host has fetched it (see --lazy-pages); with --json a first line says\n"
                 "where it listens. Exit status 0: the image is committed (and with --lazy-pages,\n"
                 "every page is at the destination and the tree here is killed).\n"
              << desc;
    return 0;
  }
  redirect_log(vm);
  if (!vm.count("tree") || !vm.count("images-dir"))
    throw CkptError(CkptError::kUsage, "dump needs -t PID and -D DIR (see ckpt dump --help)");
  DumpOptions o;
  o.pid = vm["tree"].as<int>();
  o.dir = vm["images-dir"].as<std::string>();
  o.leave_running = vm.count("leave-running") > 0;
  o.shell_job = vm.count("shell-job") > 0;
  o.tcp_established = vm.count("tcp-established") > 0;
  o.manage_cgroups = vm.count("manage-cgroups") > 0;
  o.check_only = vm.count("check-only") > 0;
  o.action_scripts = action_scripts(vm);
  set_chain_options(vm, o);
  set_page_server_options(vm, o);
  if (o.check_only && (vm.count("lazy-pages") || o.page_server || !o.prev_dir.empty()))
    throw CkptError(CkptError::kUsage,
                    "--check-only writes no image: drop --lazy-pages, --page-server and "
                    "--prev-images-dir");
  if (o.check_only) {
    const DumpResult r = dump(o);
    if (vm.count("json"))
      std::cout << nlohmann::json{{"pid", o.pid}, {"dumpable", true}, {"vmas", r.vmas}}.dump()
                << "\n";
    else
      std::cerr << "ckpt dump: the tree of process " << o.pid
                << " can be dumped; it runs on, and no image was left\n";
    return 0;
  }
  if (vm.count("lazy-pages") == 0) {
    if (vm.count("listen"))
      throw CkptError(CkptError::kUsage, "--listen serves the pages of --lazy-pages only");
    print_result(vm, o, dump(o));
    return 0;
  }
  if (!vm.count("listen") || o.leave_running)
    throw CkptError(CkptError::kUsage,
                    "--lazy-pages needs --listen ADDR:PORT and no --leave-running (see ckpt dump "
                    "--help)");
  LazyDumpOptions lazy;
  lazy.dump = o;
  lazy.listen = host_port_option(vm, "listen");
  lazy.tls = tls_config(vm);
  lazy.wait = std::chrono::seconds(vm["wait"].as<unsigned>());
  const bool json = vm.count("json") > 0;
  LazyDumpEvents events;
  events.listening = [&](std::uint16_t port) {
    const std::string where = lazy.listen.host + ":" + std::to_string(port);
    if (json)
      std::cout << nlohmann::json{{"listening", where}}.dump() << std::endl;
    else
      std::cerr << "ckpt dump: serving the pages on " << where << "\n";
  };
  events.waiting = [&](const DumpResult& d) {
    if (json) {
      std::cout << nlohmann::json{{"waiting", true},
                                  {"dir", o.dir},
                                  {"pages_remote", d.pages_remote}}
                       .dump()
                << std::endl;
      return;
    }
    std::cerr << "ckpt dump: " << o.dir << " is committed, " << d.pages_remote
              << " bytes of pages stay in the frozen tree; waiting for `ckpt restore -D DIR "
                 "--lazy-pages --page-server` of it\n";
  };
  events.progress = [](const std::string& line) { std::cerr << "ckpt dump: " << line << "\n"; };
  events.refused = [&](const std::string& peer, const std::string& why) {
    if (json)
      std::cout << nlohmann::json{{"refused", peer}, {"error", why}}.dump() << std::endl;
    else
      std::cerr << "ckpt dump: refused " << peer << ": " << why << "\n";
  };
  const LazyDumpResult r = dump_lazy(lazy, events);
  if (json) {
    std::cout << nlohmann::json{{"pid", o.pid},
                                {"dir", o.dir},
                                {"pages_bytes", r.dump.pages_bytes},
                                {"pages_remote", r.dump.pages_remote},
                                {"peer", r.peer},
                                {"served_bytes", r.served_bytes},
                                {"serve_seconds", r.serve_seconds},
                                {"track", tracking_name(r.dump.tracking)},
                                {"vmas", r.dump.vmas}}
                     .dump()
              << "\n";
  }
  return 0;
}

int cmd_restore(const std::vector<std::string>& args) {
  po::options_description desc("ckpt restore options");
  desc.add_options()("help,h", "show this help")("images-dir,D", po::value<std::string>(),
                                                 "image directory")(
      "restore-detached,d",
      "return once the process runs (else wait for it and exit with its status)")(
      "pidfile", po::value<std::string>(), "write the restored PID to this file")(
      "shell-job",
      "the process is a shell job: its controlling-terminal fds get the terminal on ckpt's "
      "stdin, and it becomes the foreground job again if it was")(
      "manage-cgroups", po::value<std::string>()->implicit_value("soft")->value_name("MODE"),
      "put each process back into the cgroups the dump (--manage-cgroups) recorded, before it "
      "runs; without it processes stay in ckpt's cgroups. MODE (CRIU's): soft (the default) "
      "creates missing cgroups and sets the recorded properties on those it creates; full sets "
      "them on existing ones too; strict requires the recorded ones not to exist; props and "
      "none join existing cgroups only, with or without setting properties; ignore leaves "
      "cgroups alone")(
      "lazy-pages",
      "let the processes run before their private memory is in: each page is copied in when "
      "first touched, the rest in the background, by a server process restore starts (it "
      "prints what it copied when all is in, unless -d). Killing that server before then "
      "leaves the processes reading zeros where pages were missing")(
      "page-server", po::value<std::string>()->value_name("HOST:PORT"),
      "with --lazy-pages: fetch the pages the image left in the frozen tree from the `ckpt "
      "dump --lazy-pages` listening there (needed for such an image)")("verbose,v", "say more")(
      "log-file,o", po::value<std::string>(), "append messages to this file");
  add_tls_options(desc);
  add_action_script_option(
      desc,
      "at pre-restore (before any process is made; the PID is the image's), post-restore "
      "(every process made, none run yet) and post-resume (they run). If it fails (exits "
      "non-zero, is killed, cannot be run) at pre- or post-restore so does the restore (exit 5), "
      "leaving no process of the image; at post-resume it is only reported");
  auto vm = parse(args, desc);
  if (vm.count("help")) {
    std::cout << "usage: ckpt restore -D DIR [-d] [--action-script PATH]...\n" << desc;
    return 0;
  }
  redirect_log(vm);
  if (!vm.count("images-dir"))
    throw CkptError(CkptError::kUsage, "restore needs -D DIR (see ckpt restore --help)");
  RestoreOptions o;
  o.dir = vm["images-dir"].as<std::string>();
  o.detach = vm.count("restore-detached") > 0;
  if (vm.count("pidfile")) o.pidfile = vm["pidfile"].as<std::string>();
  o.shell_job = vm.count("shell-job") > 0;
  if (vm.count("manage-cgroups"))
    o.cgroups = parse_cgroup_mode(vm["manage-cgroups"].as<std::string>());
  o.lazy_pages = vm.count("lazy-pages") > 0;
  o.action_scripts = action_scripts(vm);
  if (vm.count("page-server")) {
    if (!o.lazy_pages)
      throw CkptError(CkptError::kUsage, "--page-server fetches pages for --lazy-pages only");
    o.page_server = host_port_option(vm, "page-server");
    if (o.page_server->port == 0)
      throw CkptError(CkptError::kUsage, "--page-server needs HOST:PORT, with the port");
    o.tls = tls_config(vm);
  }
  return restore(o).status;
}

int cmd_page_server(const std::vector<std::string>& args) {
  po::options_description desc("ckpt page-server options");
  desc.add_options()("help,h", "show this help")(
      "listen", po::value<std::string>()->value_name("ADDR:PORT"),
      "address and port to listen on (port 0: any free one, printed)")(
      "images-dir,D", po::value<std::string>(),
      "directory that receives each image as DIR/NAME (NAME: the last component of the "
      "client's -D)")("once", "exit after the first image received and committed")(
      "max-clients", po::value<std::size_t>()->default_value(16),
      "clients served at once; more are refused")(
      "timeout", po::value<unsigned>()->default_value(60)->value_name("SECONDS"),
      "a client silent for this long, or this slow to send one message or to finish the TLS "
      "handshake, is dropped")("json", "print one JSON line per connection")(
      "log-file,o", po::value<std::string>(), "append messages to this file");
  add_tls_options(desc);
  auto vm = parse(args, desc);
  if (vm.count("help")) {
    std::cout << "usage: ckpt page-server --listen ADDR:PORT -D DIR [--once]\n"
                 "Receives the images `ckpt dump --page-server` and `ckpt pre-dump\n"
                 "--page-server` send, over TLS 1.3 where both ends present a certificate of the\n"
                 "CA the other trusts; a client without one is refused. Each lands complete in\n"
                 "DIR/NAME (checked against its inventory, renamed into place when whole), ready\n"
                 "for `ckpt restore -D DIR/NAME`; a client that fails leaves nothing behind.\n"
              << desc;
    return 0;
  }
  redirect_log(vm);
  if (!vm.count("listen") || !vm.count("images-dir"))
    throw CkptError(
        CkptError::kUsage,
        "page-server needs --listen ADDR:PORT and -D DIR (see ckpt page-server --help)");
  PageServerOptions o;
  o.listen = host_port_option(vm, "listen");
  o.dir = vm["images-dir"].as<std::string>();
  o.tls = tls_config(vm);
  o.once = vm.count("once") > 0;
  o.max_clients = std::max<std::size_t>(1, vm["max-clients"].as<std::size_t>());
  o.timeout = std::chrono::seconds(std::max(1u, vm["timeout"].as<unsigned>()));
  const bool json = vm.count("json") > 0;
  PageServer server(o);
  const std::string where = crossrig::format_host_port({o.listen.host, server.port()});
  if (json) {
    std::cout << nlohmann::json{{"listening", where}, {"dir", o.dir}}.dump() << std::endl;
  } else {
    std::cout << "listening on " << where << ", images go to " << o.dir << "/NAME" << std::endl;
  }
  const std::size_t committed = server.run([&](const crossrig::engine::TransferReport& r) {
    if (json) {
      std::cout << nlohmann::json{{"peer", r.peer},           {"subject", r.subject},
                                  {"committed", r.committed}, {"path", r.path},
                                  {"files", r.files},         {"bytes", r.bytes},
                                  {"error", r.error}}
                       .dump()
                << std::endl;
    } else if (r.committed) {
      std::cout << "received " << r.path << " from " << r.peer << " (" << r.subject
                << "): " << r.files << " files, " << r.bytes << " bytes" << std::endl;
    } else {
      std::cerr << "ckpt page-server: dropped " << r.peer
                << (r.subject.empty() ? "" : " (" + r.subject + ")") << ": " << r.error
                << (r.path.empty() ? "" : "; nothing kept of " + r.path) << std::endl;
    }
  });
  // Interrupted before the one image --once waits for: say so in the status.
  return o.once && committed == 0 ? CkptError::kSystem : 0;
}

int cmd_migrate(const std::vector<std::string>& args) {
  po::options_description desc("ckpt migrate options");
  desc.add_options()("help,h", "show this help")("tree,t", po::value<int>(),
                                                 "PID of the process tree to migrate")(
      "to", po::value<std::string>()->value_name("HOST:PORT"),
      "where `ckpt receive --listen` waits for it")(
      "iterations", po::value<unsigned>()->default_value(10)->value_name("N"),
      "at most N pre-copy rounds while the tree runs (0: freeze at once)")(
      "goal", po::value<double>()->default_value(5)->value_name("PCT"),
      "end pre-copy once a round finds fewer than PCT percent of the pages written since the "
      "round before")("lazy",
                      "post-copy: the destination runs the tree before its memory is in; the "
                      "pages written since the last round stay here, in the frozen tree, until "
                      "the destination has fetched them")(
      "work-dir", po::value<std::string>()->value_name("DIR"),
      "keep the rounds' metadata here (default: a temporary directory, removed)")(
      "track", po::value<std::string>()->value_name("HOW")->default_value("auto"),
      "how written pages are found (see ckpt pre-dump --help)")(
      "json", "print a summary as JSON on stdout")("log-file,o", po::value<std::string>(),
                                                   "append messages to this file");
  add_tls_options(desc);
  auto vm = parse(args, desc);
  if (vm.count("help")) {
    std::cout
        << "usage: ckpt migrate -t PID --to HOST:PORT [--iterations N] [--goal PCT] [--lazy]\n"
           "Moves a running process tree to `ckpt receive` on another host, over TLS 1.3 where\n"
           "both ends present a certificate of the CA the other trusts. Memory is copied while\n"
           "the tree runs (pre-copy rounds), then the tree is frozen, what changed is sent, the\n"
           "destination restores it with the same PIDs and holds it, and both sides commit: the\n"
           "tree runs there and is killed here. A tree the dump would refuse is refused before\n"
           "anything is sent (exit 3), as `ckpt dump --check-only` would refuse it. Until the\n"
           "commit every failure (refusal, lost link, the destination dying) leaves the tree\n"
           "running here as before. After it, a lost link or destination makes the tree run on\n"
           "here; if this ckpt dies, the tree here dies with it and runs on the destination.\n"
           "With --lazy (post-copy) the frozen dump sends no pages of private memory: the tree\n"
           "runs there at once, the pre-copied pages come from the images there, those written\n"
           "since from the frozen tree here, which is killed once the last page is there.\n"
           "Losing the link before kills the copy there and lets the tree here run on; losing\n"
           "this host loses the tree. Exit status 0: the tree runs on the destination, all of\n"
           "it there.\n"
        << desc;
    return 0;
  }
  redirect_log(vm);
  if (!vm.count("tree") || !vm.count("to"))
    throw CkptError(CkptError::kUsage,
                    "migrate needs -t PID and --to HOST:PORT (see ckpt migrate --help)");
  MigrateOptions o;
  o.pid = vm["tree"].as<int>();
  o.to = host_port_option(vm, "to");
  if (o.to.port == 0) throw CkptError(CkptError::kUsage, "--to needs HOST:PORT, with the port");
  o.tls = tls_config(vm);
  o.iterations = vm["iterations"].as<unsigned>();
  o.goal_percent = vm["goal"].as<double>();
  o.lazy = vm.count("lazy") > 0;
  if (vm.count("work-dir")) o.work_dir = vm["work-dir"].as<std::string>();
  if (const std::string t = vm["track"].as<std::string>(); t != "auto") o.track = parse_tracking(t);
  const MigrateResult r =
      migrate(o, [](const std::string& line) { std::cerr << "ckpt migrate: " << line << "\n"; });
  if (vm.count("json")) {
    nlohmann::json rounds = nlohmann::json::array();
    for (const MigrateRound& x : r.rounds)
      rounds.push_back(
          {{"bytes", x.bytes}, {"dirty_percent", x.dirty_percent}, {"seconds", x.seconds}});
    std::cout << nlohmann::json{{"pid", o.pid},
                                {"to", crossrig::format_host_port(o.to)},
                                {"rounds", rounds},
                                {"final_bytes", r.final_bytes},
                                {"remote_bytes", r.remote_bytes},
                                {"post_copy_bytes", r.post_copy_bytes},
                                {"post_copy_ms", r.post_copy_ms},
                                {"downtime_ms", r.downtime_ms},
                                {"total_ms", r.total_ms},
                                {"track", tracking_name(r.tracking)},
                                {"lazy", o.lazy}}
                     .dump()
              << "\n";
  }
  return 0;
}

int cmd_receive(const std::vector<std::string>& args) {
  po::options_description desc("ckpt receive options");
  desc.add_options()("help,h", "show this help")(
      "listen", po::value<std::string>()->value_name("ADDR:PORT"),
      "address and port to listen on (port 0: any free one, printed)")(
      "images-dir,D", po::value<std::string>(),
      "directory (made if missing) that receives the migration's images as DIR/pre-1 ... "
      "DIR/dump")("timeout", po::value<unsigned>()->default_value(60)->value_name("SECONDS"),
                  "a source silent for this long, or this slow to send one message or to "
                  "finish the TLS handshake, fails the migration")(
      "pidfile", po::value<std::string>(), "write the restored PID to this file")(
      "json", "print JSON lines: listening, each refused client, the outcome")(
      "log-file,o", po::value<std::string>(), "append messages to this file");
  add_tls_options(desc);
  auto vm = parse(args, desc);
  if (vm.count("help")) {
    std::cout << "usage: ckpt receive --listen ADDR:PORT -D DIR\n"
                 "Waits for one `ckpt migrate`, restores its tree with the same PIDs (which must\n"
                 "be free here) and lets it run once the source has given up its copy, then\n"
                 "exits 0, leaving the tree running. Clients without a certificate of the CA\n"
                 "this host trusts are refused and waited past. A migration that fails leaves no\n"
                 "process and removes its images (exit 5); after the commit the images stay,\n"
                 "and with a lazy migration are read until all pages are in. A lazy migration\n"
                 "(post-copy) ends when the last page written at the source has come: receive\n"
                 "exits 0 then, or 5 if the link was lost first (the tree is killed here and\n"
                 "runs on at the source). The tree is receive's child until receive exits: run\n"
                 "it under a reaper (init, systemd).\n"
              << desc;
    return 0;
  }
  redirect_log(vm);
  if (!vm.count("listen") || !vm.count("images-dir"))
    throw CkptError(CkptError::kUsage,
                    "receive needs --listen ADDR:PORT and -D DIR (see ckpt receive --help)");
  ReceiveOptions o;
  o.listen = host_port_option(vm, "listen");
  o.dir = vm["images-dir"].as<std::string>();
  o.tls = tls_config(vm);
  o.timeout = std::chrono::seconds(std::max(1u, vm["timeout"].as<unsigned>()));
  if (vm.count("pidfile")) o.pidfile = vm["pidfile"].as<std::string>();
  const bool json = vm.count("json") > 0;
  Receiver receiver(o);
  const std::string where = crossrig::format_host_port({o.listen.host, receiver.port()});
  if (json) {
    std::cout << nlohmann::json{{"listening", where}, {"dir", o.dir}}.dump() << std::endl;
  } else {
    std::cout << "listening on " << where << ", images go to " << o.dir << std::endl;
  }
  const ReceiveResult r = receiver.run([&](const std::string& peer, const std::string& why) {
    if (json) {
      std::cout << nlohmann::json{{"refused", peer}, {"error", why}}.dump() << std::endl;
    } else {
      std::cerr << "ckpt receive: refused " << peer << ": " << why << std::endl;
    }
  });
  if (json) {
    nlohmann::json out = {{"migrated", r.migrated}, {"peer", r.peer},  {"subject", r.subject},
                          {"dir", o.dir},           {"lazy", r.lazy},  {"images", r.images},
                          {"bytes", r.bytes},       {"error", r.error}};
    if (r.migrated) out["pid"] = r.pid;
    if (r.migrated && r.lazy) out["post_copy_seconds"] = r.post_copy_seconds;
    std::cout << out.dump() << std::endl;
  } else if (r.migrated) {
    std::cout << "process " << r.pid << " migrated from " << r.peer << " (" << r.subject
              << ") runs here" << (r.lazy ? ", its memory filled in the background" : "")
              << std::endl;
  } else {
    std::cerr << "ckpt receive: the migration from " << r.peer << " failed: " << r.error
              << (r.committed ? "; its images stay in " + o.dir
                              : "; the process runs on at the source")
              << std::endl;
  }
  return r.migrated ? 0 : CkptError::kSystem;
}

int cmd_show(const std::vector<std::string>& args) {
  po::options_description desc("ckpt show options");
  desc.add_options()("help,h", "show this help")("images-dir,D", po::value<std::string>(),
                                                 "image directory")(
      "json", "print the decoded image as one JSON document");
  po::positional_options_description pos;
  pos.add("images-dir", 1);
  auto vm = parse(args, desc, &pos);
  if (vm.count("help")) {
    std::cout << "usage: ckpt show DIR [--json]\n" << desc;
    return 0;
  }
  if (!vm.count("images-dir")) throw CkptError(CkptError::kUsage, "show needs an image directory");
  // The local copy of a dump sent to a page server has no pages files: show needs none.
  ImageReader image(vm["images-dir"].as<std::string>(), ImageReader::Contents::kMetadataOnly);
  nlohmann::json doc = image_to_json(image);
  if (vm.count("json")) {
    std::cout << doc.dump(1) << "\n";
  } else {
    print_image(doc, std::cout);
  }
  return 0;
}

int cmd_check(const std::vector<std::string>& args) {
  po::options_description desc("ckpt check options");
  desc.add_options()("help,h", "show this help")("json", "print the findings as JSON");
  auto vm = parse(args, desc);
  if (vm.count("help")) {
    std::cout << "usage: ckpt check [--json]\n" << desc;
    return 0;
  }
  auto findings = check_kernel();
  if (vm.count("json")) {
    std::cout << findings_to_json(findings).dump(1) << "\n";
  } else {
    print_findings(findings, std::cout);
  }
  return all_required_ok(findings) ? 0 : CkptError::kUnsupported;
}

int cmd_service(const std::vector<std::string>& args) {
  po::options_description desc("ckpt service options");
  desc.add_options()("help,h", "show this help")("address", po::value<std::string>(),
                                                 "the unix socket to listen on (required)")(
      "request-timeout", po::value<double>()->default_value(10),
      "seconds a client may take to send its request")(
      "max-connections", po::value<int>()->default_value(32), "connections served at once");
  add_action_script_option(desc, "around every dump and restore the service does, as root");
  auto vm = parse(args, desc);
  if (vm.count("help")) {
    std::cout << "usage: ckpt service --address PATH [options]\n\n"
                 "Answers checkpoint requests on a unix socket: one length-prefixed JSON request\n"
                 "per connection (dump, pre-dump, restore, check; engine/README.md has the\n"
                 "protocol), as libckpt's ckpt_dump_self() and its service calls send them.\n"
                 "A caller may act only on processes it could ptrace itself and on image\n"
                 "directories it could write; only root may restore. Refusals and every request\n"
                 "are logged on stderr. Runs until SIGINT or SIGTERM, then finishes what it\n"
                 "serves and removes the socket.\n\n"
              << desc;
    return 0;
  }
  if (!vm.count("address"))
    throw CkptError(CkptError::kUsage, "give the socket with --address PATH");
  const double timeout = vm["request-timeout"].as<double>();
  const int max = vm["max-connections"].as<int>();
  if (timeout <= 0 || timeout > 3600)
    throw CkptError(CkptError::kUsage, "--request-timeout takes 0 to 3600 s");
  if (max < 1) throw CkptError(CkptError::kUsage, "--max-connections takes 1 or more");
  // A client that hangs up before its reply must not kill the service.
  ::signal(SIGPIPE, SIG_IGN);
  service::Service s({vm["address"].as<std::string>(),
                      std::chrono::milliseconds(static_cast<long>(timeout * 1000)), max, &std::cerr,
                      action_scripts(vm)});
  s.run(g_interrupted);
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2 || std::string(argv[1]) == "--help" || std::string(argv[1]) == "-h") {
    std::cout << kUsage;
    return argc < 2 ? 2 : 0;
  }
  struct sigaction sa {};
  sa.sa_handler = on_signal;
  ::sigaction(SIGINT, &sa, nullptr);
  ::sigaction(SIGTERM, &sa, nullptr);
  std::string cmd = argv[1];
  std::vector<std::string> args(argv + 2, argv + argc);
  try {
    if (cmd == "pre-dump") return cmd_pre_dump(args);
    if (cmd == "dump") return cmd_dump(args);
    if (cmd == "restore") return cmd_restore(args);
    if (cmd == "show") return cmd_show(args);
    if (cmd == "page-server") return cmd_page_server(args);
    if (cmd == "migrate") return cmd_migrate(args);
    if (cmd == "receive") return cmd_receive(args);
    if (cmd == "check") return cmd_check(args);
    if (cmd == "service") return cmd_service(args);
    std::cerr << "ckpt: unknown command '" << cmd << "'\n" << kUsage;
    return 2;
  } catch (const CkptError& e) {
    std::cerr << "ckpt " << cmd << ": " << e.what() << "\n";
    return e.exit_code();
  } catch (const po::error& e) {
    std::cerr << "ckpt " << cmd << ": " << e.what() << " (see ckpt " << cmd << " --help)\n";
    return 2;
  } catch (const std::exception& e) {
    std::cerr << "ckpt " << cmd << ": internal error: " << e.what() << "\n";
    return 1;
  }
}
