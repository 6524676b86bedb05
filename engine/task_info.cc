#include "engine/task_info.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>
#include <sstream>

#include "engine/ckpt_error.h"
#include "engine/ptrace_task.h"

namespace crossrig::engine {

std::string proc_path(pid_t pid, const std::string& file) {
  return "/proc/" + std::to_string(pid) + "/" + file;
}

std::vector<int> list_numeric_dir(const std::string& path) {
  std::vector<int> out;
  DIR* d = ::opendir(path.c_str());
  if (d == nullptr) throw_errno("listing " + path);
  while (dirent* e = ::readdir(d)) {
    if (e->d_name[0] >= '0' && e->d_name[0] <= '9') out.push_back(std::atoi(e->d_name));
  }
  ::closedir(d);
  std::sort(out.begin(), out.end());
  return out;
}

std::string read_link(const std::string& path) {
  char buf[4096];
  ssize_t n = ::readlink(path.c_str(), buf, sizeof buf);
  if (n < 0) throw_errno("reading link " + path);
  return std::string(buf, static_cast<std::size_t>(n));
}

CredsImage creds_from_status(const std::map<std::string, std::string>& status) {
  auto field = [&](const char* key) -> const std::string& {
    auto it = status.find(key);
    if (it == status.end())
      throw CkptError(CkptError::kSystem, std::string("/proc status lacks ") + key);
    return it->second;
  };
  auto numbers = [](const std::string& text) {
    std::vector<std::uint32_t> out;
    std::size_t pos = 0;
    while (pos < text.size()) {
      std::size_t used = 0;
      if (text.find_first_not_of(" \t", pos) == std::string::npos) break;
      out.push_back(static_cast<std::uint32_t>(std::stoul(text.substr(pos), &used)));
      pos += used;
    }
    return out;
  };
  CredsImage c;
  c.uids = numbers(field("Uid"));
  c.gids = numbers(field("Gid"));
  c.groups = numbers(field("Groups"));
  if (c.uids.size() != 4 || c.gids.size() != 4)
    throw CkptError(CkptError::kSystem, "malformed Uid/Gid lines in /proc status");
  c.cap_inh = std::stoull(field("CapInh"), nullptr, 16);
  c.cap_prm = std::stoull(field("CapPrm"), nullptr, 16);
  c.cap_eff = std::stoull(field("CapEff"), nullptr, 16);
  c.cap_bnd = std::stoull(field("CapBnd"), nullptr, 16);
  c.no_new_privs = field("NoNewPrivs") == "1";
  return c;
}

int seccomp_mode(const std::map<std::string, std::string>& status) {
  auto it = status.find("Seccomp");
  if (it == status.end() || it->second.size() != 1 || it->second[0] < '0' || it->second[0] > '2')
    throw CkptError(CkptError::kSystem, "/proc status lacks a Seccomp mode this ckpt knows");
  return it->second[0] - '0';
}

std::map<std::string, std::string> thread_status(pid_t pid, pid_t tid) {
  return parse_status(read_file(proc_path(pid, "task/" + std::to_string(tid) + "/status")));
}

CredsImage read_thread_creds(pid_t pid, pid_t tid) {
  std::string dir = "task/" + std::to_string(tid) + "/";
  CredsImage c = creds_from_status(thread_status(pid, tid));
  c.personality = static_cast<std::uint32_t>(
      std::stoul(read_file(proc_path(pid, dir + "personality")), nullptr, 16));
  return c;
}

std::vector<int> list_threads(pid_t pid) {
  return list_numeric_dir(proc_path(pid, "task"));
}

std::vector<pid_t> list_children(pid_t pid) {
  std::vector<pid_t> out;
  for (int tid : list_threads(pid)) {
    std::istringstream kids(read_file(proc_path(pid, "task/" + std::to_string(tid) + "/children")));
    for (pid_t kid; kids >> kid;)
      out.push_back(kid);
  }
  return out;
}

TaskImage read_task(pid_t pid) {
  TaskImage t;
  ProcStat stat(read_file(proc_path(pid, "stat")));
  t.pid = pid;
  t.ppid = static_cast<int>(stat.number(4));
  t.pgid = static_cast<int>(stat.number(5));
  t.sid = static_cast<int>(stat.number(6));
  t.foreground = stat.number(7) != 0 && stat.number(8) == stat.number(5);
  t.threads = list_threads(pid);
  t.comm = read_file(proc_path(pid, "comm"));
  while (!t.comm.empty() && t.comm.back() == '\n')
    t.comm.pop_back();
  t.cwd = read_link(proc_path(pid, "cwd"));
  t.root = read_link(proc_path(pid, "root"));
  auto status = parse_status(read_file(proc_path(pid, "status")));
  t.umask = static_cast<unsigned>(std::stoul(status.at("Umask"), nullptr, 8));
  return t;
}

MmImage read_mm_fields(pid_t pid) {
  MmImage mm;
  ProcStat s(read_file(proc_path(pid, "stat")));
  auto u = [&](std::size_t n) { return static_cast<std::uint64_t>(s.number(n)); };
  mm.start_code = u(26);
  mm.end_code = u(27);
  mm.start_stack = u(28);
  mm.start_data = u(45);
  mm.end_data = u(46);
  mm.start_brk = u(47);
  mm.arg_start = u(48);
  mm.arg_end = u(49);
  mm.env_start = u(50);
  mm.env_end = u(51);
  std::string auxv = read_file(proc_path(pid, "auxv"));
  mm.auxv.resize(auxv.size() / sizeof(std::uint64_t));
  std::memcpy(mm.auxv.data(), auxv.data(), mm.auxv.size() * sizeof(std::uint64_t));
  mm.exe = read_link(proc_path(pid, "exe"));
  return mm;
}

int prot_of(const MapsEntry& e) {
  return (e.read ? PROT_READ : 0) | (e.write ? PROT_WRITE : 0) | (e.exec ? PROT_EXEC : 0);
}

}  // namespace crossrig::engine
