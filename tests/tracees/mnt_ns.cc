// A process started as the init of its own mount and PID namespaces, as `unshare --mount
// --pid --fork --mount-proc` starts one, that then changed its mounts: a proc of its own over
// /proc, /sys unmounted, a tmpfs holding files it uses (an open file with an offset, a hard
// link, a symlink, a FIFO with bytes in it, a listening socket, a shared mapping, a file
// unlinked while open), a read-only bind of a directory of the tmpfs with a peer sharing its
// mounts, and a bind of a directory of the host. Every mount must come back with its flags and
// propagation, and every file with its content, as the tree sees them.
#include <fcntl.h>
#include <sched.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstring>
#include <fstream>
#include <map>
#include <sstream>
#include <string>
#include <vector>

#include "tests/tracees/namespace_init.h"

namespace crossrig::tracee {
namespace {

constexpr long kTmpfsMagic = 0x01021994;
constexpr long kSysfsMagic = 0x62656572;
constexpr off_t kOffset = 1234;

int g_release = -1;  // closed once /proc is mounted: the launcher may leave then
std::string g_dir;   // the run's directory of mount points, on the host's file system
int g_data = -1, g_fifo = -1, g_listen = -1, g_unlinked = -1;
char* g_map = nullptr;
bool g_sys_unmounted = false;

std::string content(std::size_t n) {
  std::string s(n, '\0');
  for (std::size_t i = 0; i < n; ++i)
    s[i] = static_cast<char>('a' + i * 7 % 26);
  return s;
}

void write_file(const std::string& path, const std::string& text, mode_t mode = 0644) {
  int fd = open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, mode);
  (void)!write(fd, text.data(), text.size());
  close(fd);
}

std::string read_text(int fd, std::size_t n, off_t at) {
  std::string s(n, '\0');
  ssize_t got = pread(fd, s.data(), n, at);
  s.resize(got < 0 ? 0 : static_cast<std::size_t>(got));
  return s;
}

std::string read_path(const std::string& path) {
  std::ifstream f(path);
  std::stringstream ss;
  ss << f.rdbuf();
  return ss.str();
}

void setup() {
  char cwd[4096] = {};
  (void)!getcwd(cwd, sizeof cwd);
  g_dir = std::string(cwd) + "/mnt-ns." + std::to_string(getpid());
  mkdir(g_dir.c_str(), 0755);
  for (const char* d : {"/tmpfs", "/view", "/peer", "/host"})
    mkdir((g_dir + d).c_str(), 0755);
  write_file(g_dir + "/host/host-file", "on the host");

  g_release = become_namespace_init(CLONE_NEWNS | CLONE_NEWPID);

  mount(nullptr, "/", nullptr, MS_REC | MS_PRIVATE, nullptr);
  struct statfs sys {};
  if (statfs("/sys", &sys) == 0 && sys.f_type == kSysfsMagic)
    g_sys_unmounted = umount2("/sys", MNT_DETACH) == 0;
  const std::string t = g_dir + "/tmpfs";
  mount("ckpt-test", t.c_str(), "tmpfs", MS_NOSUID | MS_NODEV, "size=4m,mode=0751");
  write_file(t + "/data", content(100000), 0640);
  link((t + "/data").c_str(), (t + "/data2").c_str());
  symlink("data", (t + "/link").c_str());
  mkdir((t + "/sub").c_str(), 0700);
  write_file(t + "/sub/inner", "in sub");
  chown((t + "/sub").c_str(), 4321, 4321);
  mkdir((t + "/hostview").c_str(), 0755);
  g_data = open((t + "/data").c_str(), O_RDWR);
  lseek(g_data, kOffset, SEEK_SET);
  mkfifo((t + "/fifo").c_str(), 0600);
  g_fifo = open((t + "/fifo").c_str(), O_RDWR | O_NONBLOCK);
  (void)!write(g_fifo, "queued", 6);
  g_listen = socket(AF_UNIX, SOCK_STREAM, 0);
  sockaddr_un a{};
  a.sun_family = AF_UNIX;
  std::snprintf(a.sun_path, sizeof a.sun_path, "%s/sock", t.c_str());
  bind(g_listen, reinterpret_cast<sockaddr*>(&a), sizeof a);
  listen(g_listen, 4);
  write_file(t + "/mapped", std::string(4096, 'm'));
  int mapped = open((t + "/mapped").c_str(), O_RDWR);
  g_map = static_cast<char*>(mmap(nullptr, 4096, PROT_READ | PROT_WRITE, MAP_SHARED, mapped, 0));
  close(mapped);
  std::memcpy(g_map, "through the mapping", 19);
  g_unlinked = open((t + "/gone").c_str(), O_RDWR | O_CREAT, 0600);
  (void)!write(g_unlinked, "unlinked", 8);
  unlink((t + "/gone").c_str());

  mount((t + "/sub").c_str(), (g_dir + "/view").c_str(), nullptr, MS_BIND, nullptr);
  mount(nullptr, (g_dir + "/view").c_str(), nullptr,
        MS_REMOUNT | MS_BIND | MS_RDONLY | MS_NOSUID | MS_NODEV, nullptr);
  mount(nullptr, (g_dir + "/view").c_str(), nullptr, MS_SHARED, nullptr);
  mount((g_dir + "/view").c_str(), (g_dir + "/peer").c_str(), nullptr, MS_BIND, nullptr);
  mount((g_dir + "/host").c_str(), (t + "/hostview").c_str(), nullptr, MS_BIND, nullptr);
  mount(nullptr, (t + "/hostview").c_str(), nullptr, MS_REMOUNT | MS_BIND | MS_NOEXEC, nullptr);
}

// After the pidfile: it names the init by the pid the host's /proc shows.
void wait() {
  mount("proc", "/proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC, nullptr);
  close(g_release);
  wait_for_term();
}

// The tree's mounts below the run's directory: mount point (relative) → "flags propagation",
// propagation as "private", "slave" or "peers:" and the mount point of the first of its group.
std::map<std::string, std::string> mounts() {
  std::map<std::string, std::string> out;
  std::map<std::string, std::string> first_of_group;
  std::istringstream in(read_path("/proc/self/mountinfo"));
  for (std::string line; std::getline(in, line);) {
    std::istringstream f(line);
    std::string id, parent, dev, root, point, options, tag;
    f >> id >> parent >> dev >> root >> point >> options;
    if (!point.starts_with(g_dir)) continue;
    point = point.substr(g_dir.size());
    std::string propagation = "private";
    while (f >> tag && tag != "-") {
      if (tag.starts_with("shared:"))
        propagation = "peers:" + first_of_group.emplace(tag, point).first->second;
      else if (tag.starts_with("master:"))
        propagation = "slave";
    }
    // The atime flag depends on the host's mount the copy started from.
    options = options.substr(0, options.find(",relatime"));
    out[point] = options + " " + propagation;
  }
  return out;
}

std::optional<std::string> check_mounts() {
  const std::map<std::string, std::string> want = {{"/tmpfs", "rw,nosuid,nodev private"},
                                                   {"/tmpfs/hostview", "rw,noexec private"},
                                                   {"/view", "ro,nosuid,nodev peers:/view"},
                                                   {"/peer", "ro,nosuid,nodev peers:/view"}};
  const auto got = mounts();
  if (got != want) {
    std::string s;
    for (const auto& [point, how] : got)
      s += " [" + point + " " + how + "]";
    return "the mounts below the run's directory are" + s;
  }
  char self[32] = {};
  if (readlink("/proc/self", self, sizeof self - 1) <= 0 || std::string(self) != "1")
    return "/proc is not the proc of the tree's PID namespace (/proc/self is " + std::string(self) +
           ")";
  struct statfs fs {};
  if (g_sys_unmounted && statfs("/sys", &fs) == 0 && fs.f_type == kSysfsMagic)
    return std::string("/sys, which the tree unmounted, is mounted again");
  if (statfs((g_dir + "/tmpfs").c_str(), &fs) != 0 || fs.f_type != kTmpfsMagic)
    return std::string("the tmpfs is gone");
  return std::nullopt;
}

std::optional<std::string> check_files() {
  const std::string t = g_dir + "/tmpfs";
  if (lseek(g_data, 0, SEEK_CUR) != kOffset) return std::string("the open file lost its offset");
  if (read_text(g_data, 100000, 0) != content(100000))
    return std::string("the tmpfs file's content differs");
  struct stat a {
  }, b{}, sub{};
  if (stat((t + "/data").c_str(), &a) != 0 || stat((t + "/data2").c_str(), &b) != 0 ||
      a.st_ino != b.st_ino || (a.st_mode & 07777) != 0640)
    return std::string("data and data2 are no longer one file of mode 0640");
  if (fstat(g_data, &b) != 0 || b.st_ino != a.st_ino)
    return std::string("the open file is not the file named data");
  char target[16] = {};
  if (readlink((t + "/link").c_str(), target, sizeof target - 1) != 4 ||
      std::string(target) != "data")
    return std::string("the symlink does not point at data");
  if (stat((t + "/sub").c_str(), &sub) != 0 || sub.st_uid != 4321 || (sub.st_mode & 07777) != 0700)
    return std::string("sub lost its owner or mode");
  if (read_path(g_dir + "/view/inner") != "in sub" || read_path(g_dir + "/peer/inner") != "in sub")
    return std::string("the binds of sub do not show its file");
  if (read_path(t + "/hostview/host-file") != "on the host")
    return std::string("the bind of the host's directory does not show its file");
  char queued[8] = {};
  if (read(g_fifo, queued, sizeof queued) != 6 || std::string(queued) != "queued")
    return std::string("the FIFO's bytes are gone");
  if (std::memcmp(g_map, "through the mapping", 19) != 0)
    return std::string("the shared mapping lost what was written through it");
  std::memcpy(g_map, "after", 5);
  msync(g_map, 4096, MS_SYNC);
  if (read_path(t + "/mapped").substr(0, 5) != "after")
    return std::string("the mapping is no longer the tmpfs file's");
  if (fstat(g_unlinked, &a) != 0 || a.st_nlink != 0 || read_text(g_unlinked, 8, 0) != "unlinked")
    return std::string("the unlinked file is gone or linked");
  int client = socket(AF_UNIX, SOCK_STREAM, 0);
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  std::snprintf(addr.sun_path, sizeof addr.sun_path, "%s/sock", t.c_str());
  const bool connected = connect(client, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0;
  const int accepted = accept4(g_listen, nullptr, nullptr, SOCK_NONBLOCK);
  close(client);
  if (!connected || accepted < 0)
    return std::string("the socket listening in the tmpfs does not take a connection");
  close(accepted);
  return std::nullopt;
}

std::optional<std::string> check() {
  if (auto why = check_mounts()) return why;
  return check_files();
}

}  // namespace
const Test kTest{setup, wait, check};
}  // namespace crossrig::tracee
