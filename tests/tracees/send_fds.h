#pragma once
// Sends bytes over a unix socket with descriptors in flight (SCM_RIGHTS), for the tracees that
// leave some queued for the dump.

#include <sys/socket.h>

#include <cstdint>
#include <cstring>
#include <string>
#include <vector>

namespace crossrig::tracee {

inline void send_fds(int sock, const std::string& bytes, const std::vector<int>& passed) {
  iovec iov{const_cast<char*>(bytes.data()), bytes.size()};
  // Words, so that the control message is aligned as cmsghdr needs.
  std::vector<std::uint64_t> control((CMSG_SPACE(sizeof(int) * passed.size()) + 7) / 8);
  msghdr msg{};
  msg.msg_iov = &iov;
  msg.msg_iovlen = 1;
  if (!passed.empty()) {
    msg.msg_control = control.data();
    msg.msg_controllen = CMSG_SPACE(sizeof(int) * passed.size());
    cmsghdr* c = CMSG_FIRSTHDR(&msg);
    c->cmsg_level = SOL_SOCKET;
    c->cmsg_type = SCM_RIGHTS;
    c->cmsg_len = CMSG_LEN(sizeof(int) * passed.size());
    std::memcpy(CMSG_DATA(c), passed.data(), sizeof(int) * passed.size());
  }
  (void)!sendmsg(sock, &msg, 0);
}

}  // namespace crossrig::tracee
