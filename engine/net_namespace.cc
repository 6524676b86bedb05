#include "engine/net_namespace.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <ifaddrs.h>
#include <net/if.h>
#include <netinet/in.h>
#include <sched.h>
#include <sys/ioctl.h>
#include <sys/socket.h>

#include <cstring>
#include <memory>
#include <string>

#include "engine/ckpt_error.h"
#include "engine/task_info.h"

namespace crossrig::engine {
namespace {

constexpr const char* kLoopback = "lo";

std::string address_text(const sockaddr* a) {
  char text[INET6_ADDRSTRLEN] = {};
  const void* raw =
      a->sa_family == AF_INET
          ? static_cast<const void*>(&reinterpret_cast<const sockaddr_in*>(a)->sin_addr)
          : static_cast<const void*>(&reinterpret_cast<const sockaddr_in6*>(a)->sin6_addr);
  ::inet_ntop(a->sa_family, raw, text, sizeof text);
  return text;
}

// The addresses the kernel gives lo when it comes up.
bool is_loopback_default(const ifaddrs& i) {
  if (std::strcmp(i.ifa_name, kLoopback) != 0) return false;
  if (i.ifa_addr->sa_family == AF_INET)
    return address_text(i.ifa_addr) == "127.0.0.1" && i.ifa_netmask != nullptr &&
           address_text(i.ifa_netmask) == "255.0.0.0";
  return address_text(i.ifa_addr) == "::1";
}

short loopback_flags(int fd) {
  ifreq req{};
  std::strcpy(req.ifr_name, kLoopback);
  if (::ioctl(fd, SIOCGIFFLAGS, &req) != 0) throw_errno("reading the flags of lo");
  return req.ifr_flags;
}

UniqueFd control_socket() {
  UniqueFd fd(::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0));
  if (!fd) throw_errno("opening a socket to ask about lo");
  return fd;
}

}  // namespace

InNetNamespace::InNetNamespace(pid_t pid)
    : home_(::open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC)) {
  if (!home_) throw_errno("opening ckpt's own network namespace");
  UniqueFd target(::open(proc_path(pid, "ns/net").c_str(), O_RDONLY | O_CLOEXEC));
  if (!target) throw_errno("opening the network namespace of process " + std::to_string(pid));
  if (::setns(target.get(), CLONE_NEWNET) != 0)
    throw_errno("joining the network namespace of process " + std::to_string(pid));
}

InNetNamespace::~InNetNamespace() {
  // Cannot fail for a namespace this thread was in; nothing to do if it did.
  (void)::setns(home_.get(), CLONE_NEWNET);
}

bool read_loopback_up(pid_t pid) {
  ifaddrs* list = nullptr;
  if (::getifaddrs(&list) != 0)
    throw_errno("listing the network devices of process " + std::to_string(pid));
  std::unique_ptr<ifaddrs, decltype(&::freeifaddrs)> owned(list, ::freeifaddrs);
  const std::string who =
      "process " + std::to_string(pid) + " runs in a network namespace of its own";
  const std::string what_ckpt_makes =
      "; ckpt makes a new network namespace with lo only, as `unshare --net` starts one";
  for (const ifaddrs* i = list; i != nullptr; i = i->ifa_next) {
    if (std::strcmp(i->ifa_name, kLoopback) != 0)
      throw CkptError(CkptError::kUnsupported,
                      who + " holding network device " + i->ifa_name + what_ckpt_makes);
    if (i->ifa_addr == nullptr) continue;
    const int family = i->ifa_addr->sa_family;
    if ((family == AF_INET || family == AF_INET6) && !is_loopback_default(*i))
      throw CkptError(CkptError::kUnsupported, who + " where lo has address " +
                                                   address_text(i->ifa_addr) + what_ckpt_makes +
                                                   " and its own addresses");
  }
  return (loopback_flags(control_socket().get()) & IFF_UP) != 0;
}

void bring_loopback_up() {
  UniqueFd fd = control_socket();
  ifreq req{};
  std::strcpy(req.ifr_name, kLoopback);
  req.ifr_flags = static_cast<short>(loopback_flags(fd.get()) | IFF_UP);
  if (::ioctl(fd.get(), SIOCSIFFLAGS, &req) != 0)
    throw_errno("bringing lo up in the restored network namespace");
}

}  // namespace crossrig::engine
