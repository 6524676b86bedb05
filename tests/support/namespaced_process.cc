#include "tests/support/namespaced_process.h"

#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <stdexcept>
#include <string>

namespace crossrig::test_support {

NamespacedProcess::NamespacedProcess(int unshare_flags) {
  int ready[2];
  if (::pipe2(ready, O_CLOEXEC) != 0)
    throw std::runtime_error("pipe: " + std::string(std::strerror(errno)));
  pid_ = ::fork();
  if (pid_ == 0) {
    int err = ::unshare(unshare_flags) == 0 ? 0 : errno;
    (void)!::write(ready[1], &err, sizeof err);
    ::pause();
    ::_exit(0);
  }
  ::close(ready[1]);
  int err = -1;
  const bool told = ::read(ready[0], &err, sizeof err) == sizeof err;
  ::close(ready[0]);
  if (!told || err != 0) {
    ::kill(pid_, SIGKILL);
    ::waitpid(pid_, nullptr, 0);
    throw std::runtime_error("unshare in a child: " +
                             std::string(told ? std::strerror(err) : "the child died"));
  }
}

NamespacedProcess::~NamespacedProcess() {
  ::kill(pid_, SIGKILL);
  ::waitpid(pid_, nullptr, 0);
}

}  // namespace crossrig::test_support
