// page_server_driver --ckpt PATH --tracee PATH --workdir DIR --case transfer|server-killed:
// `ckpt page-server` on loopback with certificates made for the run, and the heap tracee
// (whose memory is a pattern it checks) dumped through it.
//   transfer: a client whose certificate is of another CA is refused, leaving the tracee as it
//     was; then, from the same server, a pre-dump and a dump after it, each --page-server: the
//     local directories hold no pages files, `ckpt show` reads them, and the tracee restored
//     from the server's copy of the dump (its parent beside it there) passes its check.
//   server-killed: the page server killed while a dump streams pages to it fails the dump,
//     which leaves no image and the tracee running as it was.
#include <signal.h>
#include <sys/prctl.h>

#include <chrono>
#include <filesystem>
#include <iostream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "common/test_pki.h"
#include "tests/ckpt/test_process.h"
#include "tests/support/file_text.h"

namespace fs = std::filesystem;
using crossrig::ckpt_test::expect_pass;
using crossrig::ckpt_test::fail;
using crossrig::ckpt_test::live;
using crossrig::ckpt_test::mappings_and_fds;
using crossrig::ckpt_test::run;
using crossrig::ckpt_test::spawn;
using crossrig::ckpt_test::wait_exit;
using crossrig::ckpt_test::wait_file;
using crossrig::test_support::file_text;

namespace {

std::vector<std::string> tls_args(const crossrig::TlsConfig& c) {
  return {"--tls-cacert", c.cacert, "--tls-cert", c.cert, "--tls-key", c.key};
}

std::vector<std::string> operator+(std::vector<std::string> a, const std::vector<std::string>& b) {
  a.insert(a.end(), b.begin(), b.end());
  return a;
}

// Starts the page server; returns its pid and the address it listens on.
std::pair<pid_t, std::string> start_server(const std::string& ckpt, const fs::path& root,
                                           const crossrig::TlsConfig& tls, const fs::path& log) {
  fs::create_directories(root);
  const fs::path out = log.parent_path() / "server.out";
  pid_t pid = spawn(std::vector<std::string>{ckpt, "page-server", "--listen", "127.0.0.1:0", "-D",
                                             root.string(), "--json", "--timeout", "10"} +
                        tls_args(tls),
                    out);
  live().insert(pid);
  const std::string first = wait_file(out, "the page server's first line");
  const nlohmann::json j = nlohmann::json::parse(first.substr(0, first.find('\n')), nullptr, false);
  if (j.is_discarded() || !j.contains("listening"))
    fail("the page server did not say where it listens: " + first);
  return {pid, j["listening"].get<std::string>()};
}

bool has_pages_file(const fs::path& dir) {
  for (const auto& e : fs::directory_iterator(dir))
    if (e.path().filename().string().starts_with("pages-")) return true;
  return false;
}

}  // namespace

int main(int argc, char** argv) {
  std::string ckpt, tracee, workdir, which;
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string a = argv[i];
    if (a == "--ckpt")
      ckpt = argv[i + 1];
    else if (a == "--tracee")
      tracee = argv[i + 1];
    else if (a == "--workdir")
      workdir = argv[i + 1];
    else if (a == "--case")
      which = argv[i + 1];
  }
  if (ckpt.empty() || tracee.empty() || workdir.empty() ||
      (which != "transfer" && which != "server-killed")) {
    std::cerr << "usage: page_server_driver --ckpt PATH --tracee PATH --workdir DIR --case "
                 "transfer|server-killed\n";
    return 2;
  }
  if (prctl(PR_SET_CHILD_SUBREAPER, 1) != 0) fail("cannot become a child subreaper");
  const fs::path work = workdir;
  fs::remove_all(work);
  fs::create_directories(work / "pki");
  const fs::path log = work / "log.txt", pidfile = work / "tracee.pid",
                 outfile = work / "tracee.out", root = work / "server", local = work / "local";
  fs::create_directories(local);
  crossrig::test_pki::Ca ca(work / "pki", "ca");
  const crossrig::TlsConfig server_tls = ca.issue("server"), client_tls = ca.issue("client");
  auto [server, address] = start_server(ckpt, root, server_tls, log);

  // Big enough that the dump streams for a while (server-killed), small for a board.
  const std::string heap_mb = which == "server-killed" ? "512" : "64";
  const pid_t child = spawn({"/usr/bin/env", "CKPT_TRACEE_HEAP_MB=" + heap_mb, tracee, "--pidfile",
                             pidfile.string(), "--outfile", outfile.string()},
                            log, work);
  live().insert(child);
  const pid_t pid = std::stoi(wait_file(pidfile, "the tracee's pidfile"));
  live().insert(pid);
  const std::string before = mappings_and_fds(pid);
  const std::vector<std::string> to_server = {"--page-server", address};

  if (which == "server-killed") {
    const fs::path img = local / "img";
    const pid_t dumper = spawn(
        std::vector<std::string>{ckpt, "dump", "-t", std::to_string(pid), "-D", img.string()} +
            to_server + tls_args(client_tls),
        log);
    live().insert(dumper);
    // Stopped once it started receiving the pages, the server cannot commit before it dies.
    bool receiving = false;
    for (int i = 0; i < 6000 && !receiving; ++i) {
      for (const auto& e : fs::directory_iterator(root))
        receiving = receiving || e.path().filename().string().starts_with("img.tmp");
      if (!receiving) std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
    if (!receiving)
      fail("the page server never began receiving the image; log:\n" + file_text(log));
    kill(server, SIGSTOP);
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
    kill(server, SIGKILL);
    wait_exit(server);
    const int rc = wait_exit(dumper);
    if (rc != 5)
      fail("the dump to a killed page server exited with " + std::to_string(rc) +
           " instead of 5; log:\n" + file_text(log));
    if (file_text(log).find("page server " + address) == std::string::npos)
      fail("the failed dump does not name the page server; log:\n" + file_text(log));
    if (fs::exists(img) || fs::exists(root / "img")) fail("a failed dump left an image");
    for (const auto& e : fs::directory_iterator(local))
      fail("a failed dump left " + e.path().string());
    if (mappings_and_fds(pid) != before)
      fail("the failed dump changed the tracee's mappings or fds");
    expect_pass(pid, outfile, "after a dump to a killed page server");
    fs::remove_all(work);
    std::cout << "PASS\n";
    return 0;
  }

  // A client of another CA: refused, and the tracee untouched.
  crossrig::test_pki::Ca other(work / "pki", "other");
  crossrig::TlsConfig stranger = other.issue("stranger");
  stranger.cacert = ca.cacert();
  int rc = run(std::vector<std::string>{ckpt, "dump", "-t", std::to_string(pid), "-D",
                                        (local / "refused").string(), "--leave-running"} +
                   to_server + tls_args(stranger),
               log);
  if (rc == 0) fail("a dump with a certificate of another CA got through");
  if (file_text(log).find("certificate") == std::string::npos)
    fail("the refused dump does not mention the certificate; log:\n" + file_text(log));
  if (fs::exists(local / "refused") || fs::exists(root / "refused"))
    fail("a refused dump left an image");
  if (mappings_and_fds(pid) != before)
    fail("the refused dump changed the tracee's mappings or fds");

  // The same server serves the pre-dump and the dump that follows it.
  const fs::path pre = local / "pre", img = local / "img";
  rc = run(
      std::vector<std::string>{ckpt, "pre-dump", "-t", std::to_string(pid), "-D", pre.string()} +
          to_server + tls_args(client_tls),
      log);
  if (rc != 0)
    fail("pre-dump --page-server exited with " + std::to_string(rc) + "; log:\n" + file_text(log));
  rc = run(std::vector<std::string>{ckpt, "dump", "-t", std::to_string(pid), "-D", img.string(),
                                    "--prev-images-dir", pre.string(), "--json"} +
               to_server + tls_args(client_tls),
           log);
  if (rc != 0)
    fail("dump --page-server exited with " + std::to_string(rc) + "; log:\n" + file_text(log));
  if (file_text(log).find("\"page_server_path\":\"" + (root / "img").string() + "\"") ==
      std::string::npos)
    fail("dump --json does not say where the page server put the image; log:\n" + file_text(log));
  if (wait_exit(pid) != 128 + SIGKILL) fail("the dumped tracee was not killed");
  for (const fs::path& d : {pre, img}) {
    if (has_pages_file(d)) fail("the local image " + d.string() + " holds pages files");
    if (!has_pages_file(root / d.filename()))
      fail("the page server's copy of " + d.filename().string() + " holds no pages file");
    if (run({ckpt, "show", d.string()}, log) != 0)
      fail("ckpt show cannot read the local image " + d.string() + "; log:\n" + file_text(log));
  }
  // The local copy cannot be restored: it says where the pages are.
  if (run({ckpt, "restore", "-D", img.string(), "-d"}, log) != 4 ||
      file_text(log).find("restore from the server's copy") == std::string::npos)
    fail("restore from the local metadata did not point at the server's copy; log:\n" +
         file_text(log));
  const fs::path rpid = work / "restored.pid";
  live().insert(pid);
  rc = run({ckpt, "restore", "-D", (root / "img").string(), "-d", "--pidfile", rpid.string()}, log);
  if (rc != 0)
    fail("restore from the page server's copy exited with " + std::to_string(rc) + "; log:\n" +
         file_text(log));
  if (std::stoi(file_text(rpid)) != pid) fail("restored with another PID");
  expect_pass(pid, outfile, "after restore from the page server's copy");
  kill(server, SIGTERM);
  if (int code = wait_exit(server); code != 0)
    fail("the page server exited with " + std::to_string(code) + " on SIGTERM");
  const std::string served = file_text(work / "server.out");
  if (served.find("\"committed\":true") == std::string::npos ||
      served.find("\"committed\":false") == std::string::npos)
    fail("the page server's report lacks the refused client or the images; it said:\n" + served);
  fs::remove_all(work);
  std::cout << "PASS\n";
  return 0;
}
