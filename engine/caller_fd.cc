#include "engine/caller_fd.h"

#include <fcntl.h>
#include <sys/socket.h>
#include <sys/stat.h>

#include "common/hex.h"
#include "engine/ckpt_error.h"
#include "engine/proc_parse.h"
#include "engine/ptrace_task.h"
#include "engine/task_info.h"

namespace crossrig::engine {

nlohmann::json caller_fd_record(pid_t pid, int fd, const std::string& reply) {
  const std::string what = "fd " + std::to_string(fd) + " of process " + std::to_string(pid);
  struct stat st {};
  if (fd < 0 || ::stat(proc_path(pid, "fd/" + std::to_string(fd)).c_str(), &st) != 0 ||
      !S_ISSOCK(st.st_mode)) {
    throw CkptError(
        CkptError::kUsage,
        what + " is not a socket: it cannot be the process's connection to ckpt service");
  }
  if (reply.size() > kMaxCallerReply) {
    throw CkptError(CkptError::kUsage, "the reply for a restored process is " +
                                           std::to_string(reply.size()) + " bytes, over " +
                                           std::to_string(kMaxCallerReply));
  }
  // fdinfo's flags are octal and carry O_CLOEXEC, which belongs to the fd.
  const auto info = parse_status(read_file(proc_path(pid, "fdinfo/" + std::to_string(fd))));
  auto flags = info.find("flags");
  const bool cloexec =
      flags != info.end() && (std::stoul(flags->second, nullptr, 8) & O_CLOEXEC) != 0;
  return {{"pid", pid},
          {"fd", fd},
          {"cloexec", cloexec},
          {"reply",
           to_hex(std::span(reinterpret_cast<const std::uint8_t*>(reply.data()), reply.size()))}};
}

CallerFd parse_caller_fd(const nlohmann::json& record) {
  CallerFd c;
  try {
    c.pid = record.at("pid").get<pid_t>();
    c.fd = record.at("fd").get<int>();
    c.cloexec = record.at("cloexec").get<bool>();
    const auto bytes = from_hex(record.at("reply").get<std::string>());
    if (!bytes) throw std::runtime_error("reply is not hex");
    c.reply = *bytes;
  } catch (const std::exception& e) {
    throw CkptError(CkptError::kBadImage, std::string(kCallerFdFile) + ": " + e.what());
  }
  if (c.fd < 0 || c.pid <= 0 || c.reply.size() > kMaxCallerReply) {
    throw CkptError(CkptError::kBadImage, std::string(kCallerFdFile) + ": fd " +
                                              std::to_string(c.fd) + " of process " +
                                              std::to_string(c.pid) + " is out of range");
  }
  return c;
}

UniqueFd replay_socket(const std::vector<std::uint8_t>& reply) {
  int pair[2];
  if (::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, pair) != 0)
    throw_errno("socketpair for the restored process's connection to ckpt service");
  UniqueFd ours(pair[0]), theirs(pair[1]);
  std::size_t done = 0;
  while (done < reply.size()) {
    const ssize_t n = ::send(ours.get(), reply.data() + done, reply.size() - done, MSG_NOSIGNAL);
    if (n < 0) throw_errno("writing the restored process's reply from ckpt service");
    done += static_cast<std::size_t>(n);
  }
  return theirs;
}

}  // namespace crossrig::engine
