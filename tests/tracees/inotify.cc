// An inotify instance with watches whose numbers have a gap (one removed): a directory
// watched for IN_CREATE and a file for IN_MODIFY. After restore the process's own watch
// descriptors must still name them: the events it reads carry those numbers, and removing
// the watches by number works (the removed one stays unknown).
#include <fcntl.h>
#include <sys/inotify.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <string>

#include "tests/tracees/tracee.h"

namespace crossrig::tracee {
namespace {

int g_fd = -1, g_dir_wd = -1, g_gone_wd = -1, g_file_wd = -1;

void setup() {
  mkdir("ckpt-watched", 0700);  // in the run's cwd
  close(open("ckpt-watched.txt", O_WRONLY | O_CREAT | O_TRUNC, 0600));
  g_fd = inotify_init1(IN_NONBLOCK);
  g_dir_wd = inotify_add_watch(g_fd, "ckpt-watched", IN_CREATE);
  g_gone_wd = inotify_add_watch(g_fd, ".", IN_DELETE);
  inotify_rm_watch(g_fd, g_gone_wd);
  g_file_wd = inotify_add_watch(g_fd, "ckpt-watched.txt", IN_MODIFY | IN_ONESHOT);
  // The IN_IGNORED of the removed watch: read now, so check() reads only its own events.
  char drain[4096];
  while (read(g_fd, drain, sizeof drain) > 0) {
  }
}

struct Event {
  int wd = -1;  // -1: none queued
  std::uint32_t mask = 0;
  std::string name;
};

Event next_event() {
  alignas(inotify_event) static char buf[4096];
  static ssize_t len = 0, at = 0;
  if (at >= len) {
    len = read(g_fd, buf, sizeof buf);
    at = 0;
    if (len <= 0) return {};
  }
  const auto* e = reinterpret_cast<const inotify_event*>(buf + at);
  at += static_cast<ssize_t>(sizeof(inotify_event) + e->len);
  return {e->wd, e->mask, e->len != 0 ? std::string(e->name) : ""};
}

std::optional<std::string> check_watches() {
  if ((fcntl(g_fd, F_GETFL) & O_NONBLOCK) == 0) return std::string("the instance blocks now");
  close(open("ckpt-watched/new", O_WRONLY | O_CREAT, 0600));
  int out = open("ckpt-watched.txt", O_WRONLY);
  (void)!write(out, "x", 1);
  close(out);
  Event e = next_event();
  if (e.wd != g_dir_wd || (e.mask & IN_CREATE) == 0 || e.name != "new")
    return "creating a file gave watch " + std::to_string(e.wd) + " mask " +
           std::to_string(e.mask) + " name \"" + e.name + "\", expected watch " +
           std::to_string(g_dir_wd) + " IN_CREATE \"new\"";
  e = next_event();
  if (e.wd != g_file_wd || (e.mask & IN_MODIFY) == 0)
    return "writing the file gave watch " + std::to_string(e.wd) + ", expected " +
           std::to_string(g_file_wd) + " IN_MODIFY";
  if (inotify_rm_watch(g_fd, g_dir_wd) != 0) return std::string("the directory watch is gone");
  if (inotify_rm_watch(g_fd, g_gone_wd) == 0 || errno != EINVAL)
    return std::string("the removed watch came back");
  return std::nullopt;
}

// The file it creates goes again: a --leave-running dump is checked twice, by the original
// and then by the restored process, and each must see it created.
std::optional<std::string> check() {
  auto why = check_watches();
  unlink("ckpt-watched/new");
  return why;
}

}  // namespace
const Test kTest{setup, nullptr, check};
}  // namespace crossrig::tracee
