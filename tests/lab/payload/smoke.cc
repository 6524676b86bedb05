// The lab guests' smoke suite: until the engine's per-arch backends exist, each board checks the
// kernel features the checkpoint engine relies on. The ramdisk's /init runs `smoke --list`, then
// `smoke NAME` for each name, and reports exit status 0 as pass and anything else as fail.
// Built statically for each guest by toolchains/lab-images, and natively by CMake for the host.
#include <elf.h>
#include <fcntl.h>
#include <linux/sched.h>
#include <linux/userfaultfd.h>
#include <signal.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/ptrace.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <span>
#include <string_view>

#ifndef CROSSRIG_EXPECTED_MACHINE
#error "build with -DCROSSRIG_EXPECTED_MACHINE=\"<uname -m of the guest>\""
#endif

namespace {

bool fail(const char* test, const char* what) {
  std::fprintf(stderr, "smoke %s: %s: %s\n", test, what, std::strerror(errno));
  return false;
}

bool fail_status(const char* test, const char* what, int status) {
  std::fprintf(stderr, "smoke %s: %s (wait status 0x%x)\n", test, what, status);
  return false;
}

// The payload was built for one arch; a guest that reports another booted the wrong kernel.
bool uname_matches() {
  utsname u{};
  if (uname(&u) != 0) return fail("uname", "uname");
  std::fprintf(stderr, "smoke uname: %s %s %s\n", u.sysname, u.release, u.machine);
  if (std::string_view(u.machine) != CROSSRIG_EXPECTED_MACHINE) {
    std::fprintf(stderr, "smoke uname: machine is %s, the payload was built for %s\n", u.machine,
                 CROSSRIG_EXPECTED_MACHINE);
    return false;
  }
  return true;
}

// A child stops itself under PTRACE_TRACEME; the parent reads its general registers through the
// regset interface (the one the engine uses on every arch) and lets it finish.
bool ptrace_works() {
  pid_t child = fork();
  if (child < 0) return fail("ptrace", "fork");
  if (child == 0) {
    if (ptrace(PTRACE_TRACEME, 0, nullptr, nullptr) != 0) _exit(10);
    raise(SIGSTOP);
    _exit(0);
  }
  int status = 0;
  if (waitpid(child, &status, 0) != child) return fail("ptrace", "waitpid");
  if (!WIFSTOPPED(status) || WSTOPSIG(status) != SIGSTOP) {
    return fail_status("ptrace", "child did not stop under ptrace", status);
  }
  unsigned char regs[4096];
  iovec iov{regs, sizeof regs};
  if (ptrace(PTRACE_GETREGSET, child, reinterpret_cast<void*>(NT_PRSTATUS), &iov) != 0) {
    kill(child, SIGKILL);
    waitpid(child, &status, 0);
    return fail("ptrace", "PTRACE_GETREGSET NT_PRSTATUS");
  }
  std::fprintf(stderr, "smoke ptrace: NT_PRSTATUS is %zu bytes\n", iov.iov_len);
  if (ptrace(PTRACE_CONT, child, nullptr, nullptr) != 0) return fail("ptrace", "PTRACE_CONT");
  if (waitpid(child, &status, 0) != child) return fail("ptrace", "waitpid");
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
    return fail_status("ptrace", "traced child did not exit cleanly", status);
  }
  return true;
}

// The engine tracks and restores memory through userfaultfd: the handshake and registering an
// anonymous range for missing-page faults must both work.
bool userfaultfd_works() {
  int fd = static_cast<int>(syscall(SYS_userfaultfd, O_CLOEXEC | O_NONBLOCK));
  if (fd < 0) return fail("userfaultfd", "userfaultfd()");
  uffdio_api api{};
  api.api = UFFD_API;
  if (ioctl(fd, UFFDIO_API, &api) != 0) {
    close(fd);
    return fail("userfaultfd", "UFFDIO_API");
  }
  std::fprintf(stderr, "smoke userfaultfd: features 0x%llx\n",
               static_cast<unsigned long long>(api.features));
  auto page = static_cast<std::size_t>(sysconf(_SC_PAGESIZE));
  void* area = mmap(nullptr, page, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (area == MAP_FAILED) {
    close(fd);
    return fail("userfaultfd", "mmap");
  }
  uffdio_register reg{};
  reg.range.start = reinterpret_cast<std::uintptr_t>(area);
  reg.range.len = page;
  reg.mode = UFFDIO_REGISTER_MODE_MISSING;
  bool ok = ioctl(fd, UFFDIO_REGISTER, &reg) == 0;
  if (!ok) fail("userfaultfd", "UFFDIO_REGISTER");
  munmap(area, page);
  close(fd);
  return ok;
}

// clone3 is how the restorer recreates tasks with chosen PIDs; a plain fork-like call must work.
bool clone3_works() {
  clone_args args{};
  args.exit_signal = SIGCHLD;
  long pid = syscall(SYS_clone3, &args, sizeof args);
  if (pid < 0) return fail("clone3", "clone3");
  if (pid == 0) _exit(42);
  int status = 0;
  if (waitpid(static_cast<pid_t>(pid), &status, 0) != pid) return fail("clone3", "waitpid");
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 42) {
    return fail_status("clone3", "child did not exit with 42", status);
  }
  return true;
}

struct Test {
  const char* name;
  bool (*run)();
};

constexpr Test kTests[] = {
    {"uname", uname_matches},
    {"ptrace", ptrace_works},
    {"userfaultfd", userfaultfd_works},
    {"clone3", clone3_works},
};

int usage(FILE* out) {
  std::fprintf(out,
               "usage: smoke --list | smoke NAME\n"
               "  --list  print the name of each test, one a line\n"
               "  NAME    run that test; exit 0 when it passes, 1 when it fails (the reason goes\n"
               "          to stderr), 2 for a usage error\n");
  return out == stdout ? 0 : 2;
}

}  // namespace

int main(int argc, char** argv) {
  std::span args(argv, static_cast<std::size_t>(argc));
  if (args.size() != 2) return usage(stderr);
  std::string_view arg = args[1];
  if (arg == "--help") return usage(stdout);
  if (arg == "--list") {
    for (const auto& t : kTests)
      std::printf("%s\n", t.name);
    return 0;
  }
  for (const auto& t : kTests) {
    if (arg == t.name) return t.run() ? 0 : 1;
  }
  std::fprintf(stderr, "smoke: no test named '%s'; `smoke --list` names them\n", args[1]);
  return 2;
}
