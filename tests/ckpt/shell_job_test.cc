// `ckpt dump --shell-job` / `ckpt restore --shell-job` of a job on a pseudo-terminal, as a
// user at a shell would do it: a "shell" (session leader of terminal 1) runs the tracee as
// its foreground job; ckpt dumps it; a second "shell" on a new terminal 2 runs `ckpt restore
// --shell-job`. The restored tracee must have its stdio on terminal 2 as its controlling
// terminal, be the foreground job there in that shell's session, say so on the terminal and
// read what is typed; ckpt restore then exits with its status 0.
// With --expect-refusal, `ckpt dump` without --shell-job must refuse the job (exit 3), naming
// its fd, the terminal and --shell-job, and leave it running as before: still the foreground
// job on terminal 1, where it answers. With --dump-session the whole session is dumped from
// the shell, its leader, without --shell-job and with --leave-running: the terminal is the
// tree's own, so the dump must succeed, and the job answers on terminal 1 afterwards.
//   shell_job_test --ckpt PATH --tracee PATH --workdir DIR [--expect-refusal|--dump-session]
// It is a child subreaper, so the killed tracee's PID is free again for the restore.
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <termios.h>
#include <unistd.h>

#include <chrono>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <string>
#include <thread>
#include <vector>

#include "tests/ckpt/test_process.h"
#include "tests/support/file_text.h"

namespace fs = std::filesystem;
using crossrig::ckpt_test::exec;
using crossrig::ckpt_test::fail;
using crossrig::ckpt_test::live;
using crossrig::ckpt_test::run;
using crossrig::ckpt_test::wait_file;
using crossrig::test_support::file_text;

namespace {

// A new pseudo-terminal: its master and the path of its slave.
std::pair<int, std::string> open_pty() {
  int master = posix_openpt(O_RDWR | O_NOCTTY | O_CLOEXEC);
  if (master < 0 || grantpt(master) != 0 || unlockpt(master) != 0)
    fail(std::string("cannot open a pseudo-terminal: ") + std::strerror(errno));
  return {master, ptsname(master)};
}

// In a fork: become a shell, i.e. the session leader with tty as controlling terminal, with
// stdio on it.
void become_shell(const std::string& tty) {
  setsid();
  int fd = open(tty.c_str(), O_RDWR);
  if (fd < 0 || ioctl(fd, TIOCSCTTY, 0) != 0) _exit(125);
  dup2(fd, 0);
  dup2(fd, 1);
  dup2(fd, 2);
  close_range(3, ~0U, 0);  // nothing of ours leaks into the job, as from a real shell
}

// The first shell: runs argv as a job in its own process group, in the foreground.
pid_t start_job_shell(const std::string& tty, const std::vector<std::string>& argv) {
  pid_t shell = fork();
  if (shell != 0) return shell;
  become_shell(tty);
  pid_t job = fork();
  if (job == 0) {
    setpgid(0, 0);
    signal(SIGTTOU, SIG_IGN);  // as a shell does, to hand the terminal over from behind
    tcsetpgrp(0, getpid());
    signal(SIGTTOU, SIG_DFL);
    exec(argv);
  }
  int status = 0;
  waitpid(job, &status, 0);
  _exit(0);
}

// Reads the master until text appears in what the terminal showed; returns all of it.
std::string read_until(int master, const std::string& text) {
  std::string seen;
  for (int i = 0; i < 600 && seen.find(text) == std::string::npos; ++i) {
    pollfd p{master, POLLIN, 0};
    if (poll(&p, 1, 100) <= 0) continue;
    char buf[256];
    ssize_t n = read(master, buf, sizeof buf);
    if (n > 0) seen.append(buf, static_cast<std::size_t>(n));
  }
  return seen;
}

// Asks the tracee to finish: it says on its terminal which one it is on and reads a line
// typed there. Returns what the terminal showed.
std::string finish_on_terminal(pid_t pid, int master, const std::string& tty,
                               const std::string& which, const fs::path& outfile) {
  kill(pid, SIGTERM);
  std::string shown = read_until(master, "tracee on " + tty);
  if (shown.find("tracee on " + tty) == std::string::npos)
    fail("the tracee did not write to " + which + " (" + tty + "); it showed: " + shown +
         "\noutfile: " + file_text(outfile));
  std::string answer = "answer\n";
  if (write(master, answer.data(), answer.size()) != static_cast<ssize_t>(answer.size()))
    fail("cannot type on " + which);
  return shown;
}

}  // namespace

int main(int argc, char** argv) {
  std::string ckpt, tracee, workdir;
  bool expect_refusal = false, dump_session = false;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    if (a == "--expect-refusal")
      expect_refusal = true;
    else if (a == "--dump-session")
      dump_session = true;
    else if (i + 1 < argc && a == "--ckpt")
      ckpt = argv[++i];
    else if (i + 1 < argc && a == "--tracee")
      tracee = argv[++i];
    else if (i + 1 < argc && a == "--workdir")
      workdir = argv[++i];
    else
      ckpt.clear();  // an unknown option must not turn the refusal test into the plain one
  }
  if (ckpt.empty() || tracee.empty() || workdir.empty()) {
    std::cerr << "usage: shell_job_test --ckpt PATH --tracee PATH --workdir DIR "
                 "[--expect-refusal|--dump-session]\n";
    return 2;
  }
  if (prctl(PR_SET_CHILD_SUBREAPER, 1) != 0) fail("cannot become a child subreaper");
  fs::path work = workdir;
  fs::remove_all(work);
  fs::create_directories(work);
  fs::path pidfile = work / "tracee.pid", outfile = work / "tracee.out", img = work / "img",
           log = work / "log.txt", restored = work / "restored.pid";

  auto [master1, tty1] = open_pty();
  pid_t shell1 =
      start_job_shell(tty1, {tracee, "--pidfile", pidfile.string(), "--outfile", outfile.string()});
  live().insert(shell1);
  pid_t pid = std::stoi(wait_file(pidfile, "the tracee's pidfile"));
  live().insert(pid);

  if (dump_session) {
    int rc = run(
        {ckpt, "dump", "-t", std::to_string(shell1), "-D", img.string(), "--leave-running"}, log);
    if (rc != 0)
      fail("ckpt dump of the whole session from its leader exited with " + std::to_string(rc) +
           ":\n" + file_text(log));
    if (!fs::exists(img / ("pages-" + std::to_string(pid) + ".img")))
      fail("the session's image lacks the job's pages");
  } else if (expect_refusal) {
    int rc = run({ckpt, "dump", "-t", std::to_string(pid), "-D", img.string()}, log);
    std::string said = file_text(log);
    if (rc != 3)
      fail("ckpt dump of a shell's job without --shell-job exited with " + std::to_string(rc) +
           " instead of 3:\n" + said);
    for (const std::string& want : {"fd 0 on terminal " + tty1, std::string("--shell-job")}) {
      if (said.find(want) == std::string::npos)
        fail("the refusal does not say \"" + want + "\":\n" + said);
    }
    if (fs::exists(img)) fail("a refused dump left the image directory " + img.string());
    std::cout << said;
  }
  if (expect_refusal || dump_session) {
    finish_on_terminal(pid, master1, tty1, "terminal 1", outfile);
    int status = 0;
    waitpid(shell1, &status, 0);
    live().erase(shell1);
    std::string out = file_text(outfile);
    if (out.rfind("PASS", 0) != 0)
      fail("after the dump the tracee reported: " + (out.empty() ? "nothing" : out));
    fs::remove_all(work);
    std::cout << "PASS\n";
    return 0;
  }

  int rc = run({ckpt, "dump", "-t", std::to_string(pid), "-D", img.string(), "--shell-job"}, log);
  if (rc != 0)
    fail("ckpt dump --shell-job exited with " + std::to_string(rc) + ":\n" + file_text(log));
  // The first shell reaps the killed job and exits; its terminal goes away.
  waitpid(shell1, nullptr, 0);
  close(master1);

  auto [master2, tty2] = open_pty();
  pid_t shell2 = fork();
  if (shell2 == 0) {
    become_shell(tty2);
    exec({ckpt, "restore", "-D", img.string(), "--shell-job", "--pidfile", restored.string()});
  }
  live().insert(shell2);
  if (std::stoi(wait_file(restored, "restore's pidfile")) != pid)
    fail("restored with PID " + file_text(restored) + ", not " + std::to_string(pid));
  std::string shown = finish_on_terminal(pid, master2, tty2, "terminal 2", outfile);
  int status = 0;
  waitpid(shell2, &status, 0);
  std::string out = file_text(outfile);
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0 || out.rfind("PASS", 0) != 0)
    fail("ckpt restore --shell-job ended with status " + std::to_string(status) +
         ", the tracee reported: " + (out.empty() ? "nothing" : out) +
         "; terminal 2 showed: " + shown + read_until(master2, "\x04"));
  fs::remove_all(work);
  std::cout << "PASS\n";
  return 0;
}
