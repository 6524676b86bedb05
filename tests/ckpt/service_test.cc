// ckpt service as its clients meet it: the real `ckpt service` on a unix socket, a program that
// checkpoints itself through libckpt every second (engine/examples/self_checkpoint.c), killed
// and restored from its newest image; callers of another uid (nobody) asking for processes and
// images that are not theirs; garbage, oversized and half-sent requests while another client
// is served; a root caller restoring through the service.
//
// Runs as root (the service ptraces and restores; the tests switch to nobody in children), and
// as the child subreaper of what it starts, so that killed processes give their PIDs back.

#include <fcntl.h>
#include <grp.h>
#include <gtest/gtest.h>
#include <poll.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <thread>

#include "tests/support/temp_dir.h"

namespace {

namespace fs = std::filesystem;
using nlohmann::json;
using Clock = std::chrono::steady_clock;

const std::string kCkpt = CROSSRIG_BINARY_DIR "/bin/ckpt";
const std::string kExample = CROSSRIG_BINARY_DIR "/bin/ckpt-example-self";
constexpr uid_t kNobody = 65534;
constexpr gid_t kNogroup = 65534;

std::string text_of(const fs::path& path) {
  std::ifstream in(path);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

std::vector<std::string> lines_of(const fs::path& path) {
  std::istringstream in(text_of(path));
  std::vector<std::string> out;
  for (std::string line; std::getline(in, line);)
    out.push_back(line);
  return out;
}

// Starts argv with stdin on /dev/null, stdout and stderr appended to the files, no other fd
// of ours, as uid/gid when given (0: stay root).
pid_t spawn(const std::vector<std::string>& argv, const fs::path& out, const fs::path& err,
            uid_t uid = 0) {
  std::vector<char*> args;
  for (const auto& a : argv)
    args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  const pid_t pid = ::fork();
  if (pid != 0) return pid;
  const int in = ::open("/dev/null", O_RDONLY);
  const int o = ::open(out.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
  const int e = ::open(err.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
  if (in < 0 || o < 0 || e < 0 || ::dup2(in, 0) < 0 || ::dup2(o, 1) < 0 || ::dup2(e, 2) < 0)
    ::_exit(126);
  ::close_range(3, ~0U, 0);
  if (uid != 0 && (::setgroups(0, nullptr) != 0 || ::setresgid(kNogroup, kNogroup, kNogroup) != 0 ||
                   ::setresuid(uid, uid, uid) != 0))
    ::_exit(126);
  ::execv(args[0], args.data());
  ::_exit(127);
}

bool alive(pid_t pid) {
  return ::kill(pid, 0) == 0 &&
         text_of("/proc/" + std::to_string(pid) + "/stat").find(") Z") == std::string::npos;
}

void kill_and_reap(pid_t pid) {
  ::kill(pid, SIGKILL);
  ::waitpid(pid, nullptr, 0);
}

// The state letter of /proc/PID/stat: S sleeping, t traced, T stopped...
char state_of(pid_t pid) {
  const std::string stat = text_of("/proc/" + std::to_string(pid) + "/stat");
  const auto at = stat.rfind(") ");
  return at == std::string::npos ? '?' : stat[at + 2];
}

template <typename F>
bool eventually(F done, std::chrono::seconds limit = std::chrono::seconds(30)) {
  const auto until = Clock::now() + limit;
  while (!done()) {
    if (Clock::now() > until) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  return true;
}

int connect_to(const std::string& path) {
  const int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_un sa{};
  sa.sun_family = AF_UNIX;
  path.copy(sa.sun_path, sizeof sa.sun_path - 1);
  if (::connect(fd, reinterpret_cast<sockaddr*>(&sa), sizeof sa) != 0) {
    ::close(fd);
    return -1;
  }
  return fd;
}

std::string frame(const std::string& body) {
  const auto n = static_cast<std::uint32_t>(body.size());
  std::string f{static_cast<char>(n >> 24), static_cast<char>(n >> 16), static_cast<char>(n >> 8),
                static_cast<char>(n)};
  return f + body;
}

// Everything the service sends until it closes, as the JSON of its one frame (or null).
json read_reply(int fd) {
  std::string got;
  char buf[4096];
  for (ssize_t n; (n = ::read(fd, buf, sizeof buf)) > 0;)
    got.append(buf, static_cast<std::size_t>(n));
  if (got.size() < 4) return nullptr;
  return json::parse(got.substr(4), nullptr, false);
}

// Sends raw bytes and reads the reply.
json send_raw(const std::string& socket, const std::string& bytes) {
  const int fd = connect_to(socket);
  if (fd < 0) return nullptr;
  if (::send(fd, bytes.data(), bytes.size(), MSG_NOSIGNAL) != static_cast<ssize_t>(bytes.size())) {
    ::close(fd);
    return nullptr;
  }
  json reply = read_reply(fd);
  ::close(fd);
  return reply;
}

// One request as uid (0: as ourselves, root), its reply.
json request(const std::string& socket, const json& req, uid_t uid = 0) {
  if (uid == 0) return send_raw(socket, frame(req.dump()));
  int pipe_fds[2];
  if (::pipe(pipe_fds) != 0) return nullptr;
  const pid_t child = ::fork();
  if (child == 0) {
    ::close(pipe_fds[0]);
    if (::setgroups(0, nullptr) != 0 || ::setresgid(kNogroup, kNogroup, kNogroup) != 0 ||
        ::setresuid(uid, uid, uid) != 0)
      ::_exit(1);
    const std::string reply = send_raw(socket, frame(req.dump())).dump();
    const bool ok =
        ::write(pipe_fds[1], reply.data(), reply.size()) == static_cast<ssize_t>(reply.size());
    ::_exit(ok ? 0 : 1);
  }
  ::close(pipe_fds[1]);
  std::string got;
  char buf[4096];
  for (ssize_t n; (n = ::read(pipe_fds[0], buf, sizeof buf)) > 0;)
    got.append(buf, static_cast<std::size_t>(n));
  ::close(pipe_fds[0]);
  ::waitpid(child, nullptr, 0);
  return json::parse(got, nullptr, false);
}

class CkptService : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_EQ(::geteuid(), 0u) << "ckpt service ptraces and restores: run this test as root";
    ASSERT_EQ(::prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0), 0);
    // nobody must reach the socket and the images below: the scratch directory is searchable.
    ::chmod(dir_.path().c_str(), 0755);
    socket_ = (dir_.path() / "ckpt.sock").string();
    service_ = spawn({kCkpt, "service", "--address", socket_, "--request-timeout", "1"},
                     dir_.path() / "service.out", dir_.path() / "service.log");
    ASSERT_TRUE(eventually([&] {
      const int fd = connect_to(socket_);
      if (fd >= 0) ::close(fd);
      return fd >= 0 || !alive(service_);
    })) << text_of(dir_.path() / "service.log");
    ASSERT_TRUE(alive(service_)) << text_of(dir_.path() / "service.log");
  }

  void TearDown() override {
    ::kill(service_, SIGTERM);
    int status = 0;
    ::waitpid(service_, &status, 0);
    EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0)
        << "the service stops cleanly on SIGTERM\n"
        << log();
    EXPECT_FALSE(fs::exists(socket_)) << "the service removes its socket";
    // Whatever else the tests started or restored: we are their subreaper.
    while (::waitpid(-1, nullptr, WNOHANG) > 0) {
    }
  }

  std::string log() const { return text_of(dir_.path() / "service.log"); }

  crossrig::test_support::TempDir dir_{"ckpt-service"};
  std::string socket_;
  pid_t service_ = -1;
};

TEST_F(CkptService, ASelfCheckpointingProgramRestoredFromItsLatestImageCountsOn) {
  const fs::path images = dir_.path() / "images", out = dir_.path() / "count.out",
                 err = dir_.path() / "count.err";
  const pid_t counter =
      spawn({kExample, "--address", socket_, "--images", images.string()}, out, err);
  ASSERT_TRUE(eventually([&] {
    return lines_of(out).size() >= 4 && fs::exists(images / "latest");
  })) << text_of(err)
      << log();
  kill_and_reap(counter);
  const std::string latest = fs::read_symlink(images / "latest").string();
  const long taken = std::stol(latest);
  const std::size_t before = lines_of(out).size();
  ASSERT_GE(before, 4u);
  for (std::size_t i = 0; i < before; ++i)
    EXPECT_EQ(lines_of(out)[i], "count " + std::to_string(i + 1));
  EXPECT_EQ(text_of(err), "") << "nothing but counter lines";

  const pid_t restore = spawn({kCkpt, "restore", "-D", (images / "latest").string(), "-d"},
                              dir_.path() / "restore.out", dir_.path() / "restore.err");
  int status = 0;
  ::waitpid(restore, &status, 0);
  ASSERT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0)
      << text_of(dir_.path() / "restore.err");
  ASSERT_TRUE(alive(counter)) << "restored with its PID";

  // The restored copy prints the count after its image's, learns it was restored from the
  // very call that dumped it, and goes on checkpointing: DIR/latest moves past that image.
  ASSERT_TRUE(eventually([&] { return lines_of(out).size() >= before + 3; })) << text_of(err);
  const auto after = lines_of(out);
  for (std::size_t i = 0; i < 3; ++i)
    EXPECT_EQ(after[before + i], "count " + std::to_string(taken + 1 + static_cast<long>(i)))
        << text_of(out);
  ASSERT_TRUE(eventually(
      [&] { return std::stol(fs::read_symlink(images / "latest").string()) >= taken + 2; }));
  EXPECT_EQ(text_of(err), "");
  kill_and_reap(counter);
  EXPECT_NE(log().find("(itself)"), std::string::npos) << log();
}

TEST_F(CkptService, SomeoneElsesProcessOrDirectoryIsRefusedAndLogged) {
  const pid_t roots = spawn({"/bin/sleep", "600"}, "/dev/null", "/dev/null");
  const pid_t nobodys = spawn({"/bin/sleep", "600"}, "/dev/null", "/dev/null", kNobody);
  const fs::path mine = dir_.path() / "nobody";
  fs::create_directory(mine);
  ASSERT_EQ(::chown(mine.c_str(), kNobody, kNogroup), 0);
  ASSERT_TRUE(eventually([&] { return state_of(nobodys) == 'S' && state_of(roots) == 'S'; }));

  json r = request(socket_, {{"op", "dump"}, {"pid", roots}, {"images_dir", (mine / "a").string()}},
                   kNobody);
  EXPECT_EQ(r["ok"], false) << r;
  EXPECT_EQ(r["kind"], "denied") << r;
  EXPECT_EQ(r["code"], 6);
  EXPECT_NE(r["error"].get<std::string>().find("process " + std::to_string(roots)),
            std::string::npos)
      << r;
  EXPECT_NE(log().find("refuses uid 65534"), std::string::npos) << log();
  EXPECT_EQ(state_of(roots), 'S') << "root's process is untouched";
  EXPECT_FALSE(fs::exists(mine / "a"));

  // Its own process, but into a directory it cannot write.
  r = request(socket_, {{"op", "dump"}, {"pid", nobodys}, {"images_dir", "/root/nobody-may-not"}},
              kNobody);
  EXPECT_EQ(r["kind"], "denied") << r;
  EXPECT_FALSE(fs::exists("/root/nobody-may-not"));

  // Its own process into its own directory: done, and the image is its own.
  r = request(socket_,
              {{"op", "dump"},
               {"pid", nobodys},
               {"images_dir", (mine / "b").string()},
               {"leave_running", true}},
              kNobody);
  EXPECT_EQ(r["ok"], true) << r << log();
  EXPECT_EQ(r["status"], "dumped");
  struct stat st {};
  ASSERT_EQ(::stat((mine / "b" / "inventory.json").c_str(), &st), 0);
  EXPECT_EQ(st.st_uid, kNobody);
  EXPECT_TRUE(alive(nobodys));

  // Restoring is root's only.
  r = request(socket_, {{"op", "restore"}, {"images_dir", (mine / "b").string()}}, kNobody);
  EXPECT_EQ(r["kind"], "denied") << r;
  kill_and_reap(roots);
  kill_and_reap(nobodys);
}

TEST_F(CkptService, GarbageOversizedAndHalfSentRequestsGetErrorsWhileOthersAreServed) {
  json r = send_raw(socket_, std::string("\xff\xff\xff\xffgarbage", 11));
  EXPECT_EQ(r["ok"], false) << r;
  EXPECT_EQ(r["kind"], "usage");
  EXPECT_NE(r["error"].get<std::string>().find("4294967295"), std::string::npos) << r;

  r = send_raw(socket_, frame("{not json"));
  EXPECT_EQ(r["kind"], "usage") << r;
  EXPECT_NE(r["error"].get<std::string>().find("not JSON"), std::string::npos) << r;
  r = send_raw(socket_, frame(R"({"op":"dump","pid":"one"})"));
  EXPECT_NE(r["error"].get<std::string>().find("'pid'"), std::string::npos) << r;

  // Half a request, then silence: the others are answered meanwhile, and it gets its error
  // when its time is up.
  const int stalled = connect_to(socket_);
  ASSERT_GE(stalled, 0);
  ASSERT_EQ(::send(stalled, "\0\0\0\x40{\"op\"", 9, MSG_NOSIGNAL), 9);
  const auto asked = Clock::now();
  r = request(socket_, {{"op", "check"}});
  EXPECT_EQ(r["ok"], true) << r;
  EXPECT_EQ(r["status"], "checked");
  EXPECT_TRUE(r["findings"].is_array() && !r["findings"].empty());
  EXPECT_LT(Clock::now() - asked, std::chrono::milliseconds(900))
      << "answered before the stalled client's 1 s ran out";
  r = read_reply(stalled);
  ::close(stalled);
  EXPECT_EQ(r["ok"], false) << r;
  EXPECT_NE(r["error"].get<std::string>().find("incomplete request"), std::string::npos) << r;

  // A client that connects and leaves at once.
  ::close(connect_to(socket_));
  EXPECT_EQ(request(socket_, {{"op", "check"}})["ok"], true) << log();
}

TEST_F(CkptService, AFailingActionScriptAbortsTheDumpAndTheProcessRunsOn) {
  const fs::path script = dir_.path() / "refuse.sh", ran = dir_.path() / "ran";
  std::ofstream(script) << "#!/bin/sh\necho \"$CKPT_SCRIPT_ACTION $CKPT_INIT_PID\" >> "
                        << ran.string() << "\nexit 7\n";
  fs::permissions(script, fs::perms::owner_all);
  const std::string socket = (dir_.path() / "scripted.sock").string();
  const pid_t scripted =
      spawn({kCkpt, "service", "--address", socket, "--action-script", script.string()},
            dir_.path() / "scripted.out", dir_.path() / "scripted.log");
  ASSERT_TRUE(eventually([&] { return fs::exists(socket); }));
  const pid_t sleeper = spawn({"/bin/sleep", "600"}, "/dev/null", "/dev/null");
  ASSERT_TRUE(eventually([&] { return state_of(sleeper) == 'S'; }));
  const std::string image = (dir_.path() / "refused").string();
  json r = request(socket, {{"op", "dump"}, {"pid", sleeper}, {"images_dir", image}});
  EXPECT_EQ(r["ok"], false) << r;
  EXPECT_NE(r["error"].get<std::string>().find(script.string()), std::string::npos) << r;
  EXPECT_EQ(text_of(ran), "pre-dump " + std::to_string(sleeper) + "\n");
  EXPECT_FALSE(fs::exists(image));
  EXPECT_TRUE(eventually([&] { return state_of(sleeper) == 'S'; })) << "runs on, untraced";
  EXPECT_NE(text_of("/proc/" + std::to_string(sleeper) + "/status").find("TracerPid:\t0\n"),
            std::string::npos);
  ::kill(scripted, SIGTERM);
  ::waitpid(scripted, nullptr, 0);
  kill_and_reap(sleeper);
}

TEST_F(CkptService, RootDumpsAndRestoresThroughTheService) {
  const pid_t sleeper = spawn({"/bin/sleep", "600"}, "/dev/null", "/dev/null");
  ASSERT_TRUE(eventually([&] { return state_of(sleeper) == 'S'; }));
  const std::string image = (dir_.path() / "sleeper").string();
  json r = request(socket_, {{"op", "dump"}, {"pid", sleeper}, {"images_dir", image}});
  ASSERT_EQ(r["ok"], true) << r << log();
  ::waitpid(sleeper, nullptr, 0);
  ASSERT_FALSE(alive(sleeper)) << "dumped without leave_running: killed";
  r = request(socket_, {{"op", "restore"}, {"images_dir", image}});
  ASSERT_EQ(r["ok"], true) << r << log();
  EXPECT_EQ(r["pid"], sleeper);
  EXPECT_TRUE(alive(sleeper));
  EXPECT_EQ(text_of("/proc/" + std::to_string(sleeper) + "/cmdline"), std::string("/bin/sleep\0"
                                                                                  "600\0",
                                                                                  15));
  // A second restore of the same image while it runs: the PID is taken.
  r = request(socket_, {{"op", "restore"}, {"images_dir", image}});
  EXPECT_EQ(r["ok"], false) << r;
  EXPECT_EQ(r["kind"], "system") << r;
  ::kill(sleeper, SIGKILL);
  EXPECT_TRUE(eventually([&] { return !alive(sleeper); })) << "the service reaps what it restored";
}

}  // namespace
