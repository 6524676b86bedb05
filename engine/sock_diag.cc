#include "engine/sock_diag.h"

#include <linux/inet_diag.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <linux/sock_diag.h>
#include <linux/unix_diag.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <cerrno>
#include <cstddef>
#include <cstring>
#include <functional>
#include <vector>

#include "common/unique_fd.h"
#include "engine/ckpt_error.h"

namespace crossrig::engine {
namespace {

// Netlink's NLMSG_* and RTA_* macros cast in C style; the same walks, spelled out.
constexpr std::size_t align4(std::size_t n) {
  return (n + 3) & ~std::size_t{3};
}
constexpr std::size_t kMsgHeader = align4(sizeof(nlmsghdr));
constexpr std::size_t kAttrHeader = align4(sizeof(rtattr));

template <typename T>
const T* payload(const nlmsghdr& h) {
  return reinterpret_cast<const T*>(reinterpret_cast<const char*>(&h) + kMsgHeader);
}

// Sends one NLM_F_DUMP request and hands each answer to each_msg; returns 0 or the errno
// the kernel answered with (ENOENT when no diag module serves the family).
template <typename Req>
int dump(const Req& req, const std::function<void(const nlmsghdr&)>& each_msg) {
  UniqueFd nl(::socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_SOCK_DIAG));
  if (!nl) return errno;
  struct {
    nlmsghdr hdr;
    Req body;
  } msg{};
  msg.hdr.nlmsg_len = sizeof msg;
  msg.hdr.nlmsg_type = SOCK_DIAG_BY_FAMILY;
  msg.hdr.nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP;
  msg.hdr.nlmsg_seq = 1;
  msg.body = req;
  sockaddr_nl kernel{};
  kernel.nl_family = AF_NETLINK;
  if (::sendto(nl.get(), &msg, sizeof msg, 0, reinterpret_cast<sockaddr*>(&kernel),
               sizeof kernel) != static_cast<ssize_t>(sizeof msg))
    return errno;
  // Big enough for the kernel's largest dump skb, so no answer is ever truncated.
  std::vector<std::uint32_t> buf(16 * 1024);
  for (;;) {
    ssize_t n = ::recv(nl.get(), buf.data(), buf.size() * sizeof buf[0], 0);
    if (n < 0) {
      if (errno == EINTR) continue;
      return errno;
    }
    const auto* bytes = reinterpret_cast<const char*>(buf.data());
    const auto len = static_cast<std::size_t>(n);
    for (std::size_t off = 0; off + sizeof(nlmsghdr) <= len;) {
      const auto* h = reinterpret_cast<const nlmsghdr*>(bytes + off);
      if (h->nlmsg_len < sizeof(nlmsghdr) || h->nlmsg_len > len - off) return EBADMSG;
      if (h->nlmsg_type == NLMSG_DONE) return 0;
      if (h->nlmsg_type == NLMSG_ERROR) {
        return h->nlmsg_len < kMsgHeader + sizeof(nlmsgerr) ? EBADMSG
                                                            : -payload<nlmsgerr>(*h)->error;
      }
      each_msg(*h);
      off += align4(h->nlmsg_len);
    }
    if (n == 0) return EBADMSG;
  }
}

unix_diag_req unix_request() {
  unix_diag_req req{};
  req.sdiag_family = AF_UNIX;
  req.udiag_states = ~0u;
  req.udiag_show =
      UDIAG_SHOW_NAME | UDIAG_SHOW_VFS | UDIAG_SHOW_PEER | UDIAG_SHOW_ICONS | UDIAG_SHOW_RQLEN;
  return req;
}

UnixDiag parse_unix(const nlmsghdr& h) {
  if (h.nlmsg_len < kMsgHeader + sizeof(unix_diag_msg))
    throw CkptError(CkptError::kSystem, "sock_diag answered with a truncated unix_diag_msg");
  const auto* m = payload<unix_diag_msg>(h);
  UnixDiag d;
  d.ino = m->udiag_ino;
  d.type = m->udiag_type;
  d.state = m->udiag_state;
  const auto* end = reinterpret_cast<const char*>(&h) + h.nlmsg_len;
  const char* at = reinterpret_cast<const char*>(m) + align4(sizeof *m);
  while (at + sizeof(rtattr) <= end) {
    const auto* a = reinterpret_cast<const rtattr*>(at);
    if (a->rta_len < sizeof(rtattr) || static_cast<std::ptrdiff_t>(a->rta_len) > end - at) break;
    const char* data = at + kAttrHeader;
    const std::size_t size = a->rta_len - kAttrHeader;
    at += align4(a->rta_len);
    auto copy = [&](auto& out) {
      if (size < sizeof out) throw CkptError(CkptError::kSystem, "sock_diag: short attribute");
      std::memcpy(&out, data, sizeof out);
    };
    switch (a->rta_type) {
      case UNIX_DIAG_NAME:
        d.name.assign(data, size);
        break;
      case UNIX_DIAG_VFS: {
        unix_diag_vfs v{};
        copy(v);
        d.vfs_ino = v.udiag_vfs_ino;
        d.vfs_dev = v.udiag_vfs_dev;
        break;
      }
      case UNIX_DIAG_PEER:
        copy(d.peer);
        d.has_peer = true;
        break;
      case UNIX_DIAG_ICONS:
        d.icons.resize(size / sizeof(std::uint32_t));
        // A listener with nobody waiting sends an empty list, and an empty vector no buffer.
        if (!d.icons.empty())
          std::memcpy(d.icons.data(), data, d.icons.size() * sizeof(std::uint32_t));
        break;
      case UNIX_DIAG_RQLEN: {
        unix_diag_rqlen q{};
        copy(q);
        d.rqueue = q.udiag_rqueue;
        d.wqueue = q.udiag_wqueue;
        break;
      }
      case UNIX_DIAG_SHUTDOWN: {
        std::uint8_t s = 0;
        copy(s);
        d.shutdown = s;
        break;
      }
      default:
        break;
    }
  }
  return d;
}

std::string diag_error(int err) {
  return err == ENOENT ? std::string("no sock_diag module serves it") : std::strerror(err);
}

}  // namespace

std::map<std::uint32_t, UnixDiag> list_unix_sockets() {
  std::map<std::uint32_t, UnixDiag> out;
  const int err = dump(unix_request(), [&](const nlmsghdr& h) {
    UnixDiag d = parse_unix(h);
    out[d.ino] = std::move(d);
  });
  if (err == ENOENT || err == EPROTONOSUPPORT)
    throw CkptError(CkptError::kUnsupported,
                    "this kernel cannot list unix sockets through sock_diag, which ckpt needs "
                    "to find their peers: load the unix_diag module or build the kernel with "
                    "CONFIG_UNIX_DIAG");
  if (err != 0)
    throw CkptError(CkptError::kSystem,
                    std::string("listing unix sockets through sock_diag: ") + std::strerror(err));
  return out;
}

bool sock_diag_works(int family, int protocol, std::string* detail) {
  int err = 0;
  if (family == AF_UNIX) {
    err = dump(unix_request(), [](const nlmsghdr&) {});
  } else {
    inet_diag_req_v2 req{};
    req.sdiag_family = static_cast<std::uint8_t>(family);
    req.sdiag_protocol = static_cast<std::uint8_t>(protocol);
    req.idiag_states = ~0u;
    err = dump(req, [](const nlmsghdr&) {});
  }
  *detail = err == 0 ? "sock_diag lists them" : diag_error(err);
  return err == 0;
}

}  // namespace crossrig::engine
