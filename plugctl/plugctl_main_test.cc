// The plugctl command against peers written here: hostile XOR servers, a scripted XOR device
// and an in-test KLAP device, all on loopback. Asserts exit codes, output and messages.

#include <fcntl.h>
#include <gtest/gtest.h>
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <fstream>
#include <nlohmann/json.hpp>

#include "common/hex.h"
#include "common/net_io.h"
#include "plugctl/credentials.h"
#include "plugctl/loopback_peer.h"
#include "plugctl/xor_cipher.h"

namespace crossrig::plugctl {
namespace {

using nlohmann::json;
using testing::KlapDevice;
using testing::LoopbackPeer;
using testing::xor_reply_frame;
using testing::XorDevice;

struct Result {
  int code = -1;
  std::string out, err;
};

// Runs plugctl with args and only the given environment; kills it if it outlives the test's
// own generous limit, so a hang fails the test instead of blocking the suite.
Result run_plugctl(std::vector<std::string> args, std::vector<std::string> env = {}) {
  std::string exe = CROSSRIG_BINARY_DIR "/bin/plugctl";
  args.insert(args.begin(), exe);
  std::vector<char*> argv, envp;
  for (auto& a : args)
    argv.push_back(a.data());
  argv.push_back(nullptr);
  for (auto& e : env)
    envp.push_back(e.data());
  envp.push_back(nullptr);
  int out[2], err[2];
  EXPECT_EQ(pipe2(out, O_CLOEXEC), 0);
  EXPECT_EQ(pipe2(err, O_CLOEXEC), 0);
  pid_t pid = fork();
  if (pid == 0) {
    dup2(out[1], 1);
    dup2(err[1], 2);
    execve(exe.c_str(), argv.data(), envp.data());
    _exit(127);
  }
  close(out[1]);
  close(err[1]);
  Result r;
  pollfd p[2] = {{out[0], POLLIN, 0}, {err[0], POLLIN, 0}};
  int open_fds = 2;
  while (open_fds > 0) {
    if (poll(p, 2, 60'000) <= 0) {
      kill(pid, SIGKILL);
      ADD_FAILURE() << "plugctl did not finish";
      break;
    }
    for (int i = 0; i < 2; ++i) {
      if (p[i].fd < 0 || p[i].revents == 0) continue;
      char buf[4096];
      ssize_t n = read(p[i].fd, buf, sizeof buf);
      if (n <= 0) {
        close(p[i].fd);
        p[i].fd = -1;
        --open_fds;
      } else {
        (i == 0 ? r.out : r.err).append(buf, static_cast<std::size_t>(n));
      }
    }
  }
  for (auto& f : p) {
    if (f.fd >= 0) close(f.fd);
  }
  int status = 0;
  waitpid(pid, &status, 0);
  r.code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return r;
}

json fixture(const std::string& name) {
  std::ifstream in(CROSSRIG_SOURCE_DIR "/plugctl/fixtures/" + name);
  return json::parse(in);
}

// Answers like a plug: sysinfo from a fixture, relay switches, anything else err_code -1.
struct ScriptedPlug {
  json sysinfo;
  json operator()(const json& request) {
    json reply = json::object();
    for (const auto& [module, methods] : request.items()) {
      if (module == "context") continue;
      if (module != "system") {
        reply[module] = {{"err_code", -1}, {"err_msg", "module not support"}};
        continue;
      }
      for (const auto& [method, args] : methods.items()) {
        if (method == "get_sysinfo") {
          reply["system"][method] = sysinfo;
        } else if (method == "set_relay_state") {
          if (request.contains("context")) {
            std::string id = request["context"]["child_ids"][0];
            for (auto& c : sysinfo["children"]) {
              if (c["id"] == id) c["state"] = args["state"];
            }
          } else {
            sysinfo["relay_state"] = args["state"];
          }
          reply["system"][method] = {{"err_code", 0}};
        } else {
          reply["system"][method] = {{"err_code", -2}, {"err_msg", "member not support"}};
        }
      }
    }
    return reply;
  }
};

TEST(PlugctlCli, StateOnOffAgainstAPlug) {
  XorDevice device{ScriptedPlug{fixture("HS100(US)_1.0_1.2.5.json")["system"]["get_sysinfo"]}};
  LoopbackPeer peer(std::ref(device));
  Result r = run_plugctl({"-H", peer.address(), "state"});
  EXPECT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(r.out, "Power OFF\n");
  r = run_plugctl({"-H", peer.address(), "on"});
  EXPECT_EQ(r.code, 0) << r.err;
  r = run_plugctl({"-H", peer.address(), "state"});
  EXPECT_EQ(r.out, "Power ON\n");
  r = run_plugctl({"-H", peer.address(), "--json", "toggle"});
  EXPECT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(json::parse(r.out), json({{"on", false}}));
}

TEST(PlugctlCli, ChildOutletsAreAddressedByNumberIdOrAliasWithContext) {
  json info = fixture("HS300(US)_1.0_1.0.21.json")["system"]["get_sysinfo"];
  info["children"][1]["state"] = 0;
  XorDevice device{ScriptedPlug{info}};
  LoopbackPeer peer(std::ref(device));
  Result r = run_plugctl({"-H", peer.address(), "--child", "2", "state"});
  EXPECT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(r.out, "Power OFF\n");
  r = run_plugctl({"-H", peer.address(), "--child", "#MASKED_NAME# 3", "off"});
  EXPECT_EQ(r.code, 0) << r.err;
  {
    std::lock_guard lock(device.mutex);
    EXPECT_EQ(device.requests.back()["context"],
              json({{"child_ids", {"SCRUBBED_CHILD_DEVICE_ID_3"}}}));
  }
  r = run_plugctl({"-H", peer.address(), "--child", "SCRUBBED_CHILD_DEVICE_ID_3", "state"});
  EXPECT_EQ(r.out, "Power OFF\n");
  r = run_plugctl({"-H", peer.address(), "--child", "7", "state"});
  EXPECT_EQ(r.code, 2);
  EXPECT_NE(r.err.find("no outlet '7'"), std::string::npos) << r.err;
}

TEST(PlugctlCli, DeviceErrorCarriesTheDevicesMessage) {
  XorDevice device{ScriptedPlug{fixture("HS100(US)_1.0_1.2.5.json")["system"]["get_sysinfo"]}};
  LoopbackPeer peer(std::ref(device));
  Result r = run_plugctl({"-H", peer.address(), "emeter"});
  EXPECT_EQ(r.code, 1);
  EXPECT_NE(r.err.find("module not support"), std::string::npos) << r.err;
  r = run_plugctl({"-H", peer.address(), "raw", R"({"system":{"frobnicate":{}}})"});
  EXPECT_EQ(r.code, 1);
  EXPECT_NE(r.err.find("member not support"), std::string::npos) << r.err;
}

TEST(PlugctlCli, EveryCommandHasJsonOutput) {
  json info = fixture("HS100(US)_1.0_1.2.5.json")["system"]["get_sysinfo"];
  XorDevice device{ScriptedPlug{info}};
  LoopbackPeer peer(std::ref(device));
  for (std::vector<std::string> cmd : {std::vector<std::string>{"info"},
                                       {"state"},
                                       {"on"},
                                       {"off"},
                                       {"toggle"},
                                       {"led"},
                                       {"alias"},
                                       {"raw", R"({"system":{"get_sysinfo":{}}})"}}) {
    std::vector<std::string> args{"-H", peer.address(), "--json"};
    args.insert(args.end(), cmd.begin(), cmd.end());
    Result r = run_plugctl(args);
    EXPECT_EQ(r.code, 0) << cmd[0] << ": " << r.err;
    EXPECT_FALSE(json::parse(r.out, nullptr, false).is_discarded()) << cmd[0] << ": " << r.out;
  }
}

// Hostile peers: each reads the request, then misbehaves.
Result against(LoopbackPeer::Handler handler, std::vector<std::string> extra = {}) {
  LoopbackPeer peer(std::move(handler));
  std::vector<std::string> args{"-H", peer.address(), "--transport", "xor", "--timeout", "1"};
  args.insert(args.end(), extra.begin(), extra.end());
  args.push_back("state");
  return run_plugctl(args);
}

TEST(PlugctlCli, PeerClosingBeforeAnsweringIsUnreachable) {
  Result r = against([](int fd, const LoopbackPeer& p) { p.read_xor_request(fd); });
  EXPECT_EQ(r.code, 3);
  EXPECT_NE(r.err.find("closed the connection before answering"), std::string::npos) << r.err;
}

TEST(PlugctlCli, TruncatedReplyIsABadReply) {
  Result r = against([](int fd, const LoopbackPeer& p) {
    p.read_xor_request(fd);
    std::string frame = xor_reply_frame(R"({"system":{"get_sysinfo":{"relay_state":1}}})");
    LoopbackPeer::write_all(fd, frame.substr(0, 20));
  });
  EXPECT_EQ(r.code, 5);
  EXPECT_NE(r.err.find("truncated reply: got 16 of"), std::string::npos) << r.err;
}

TEST(PlugctlCli, LengthPrefixShorterThanThePayloadGivesNotJson) {
  Result r = against([](int fd, const LoopbackPeer& p) {
    p.read_xor_request(fd);
    std::string frame = xor_reply_frame(R"({"system":{"get_sysinfo":{"relay_state":1}}})");
    frame[3] = static_cast<char>(frame[3] - 5);
    LoopbackPeer::write_all(fd, frame);
  });
  EXPECT_EQ(r.code, 5);
  EXPECT_NE(r.err.find("not JSON"), std::string::npos) << r.err;
}

TEST(PlugctlCli, GarbageIsABadReply) {
  Result r = against([](int fd, const LoopbackPeer& p) {
    p.read_xor_request(fd);
    LoopbackPeer::write_all(fd, std::string("\0\0\0\x08\x01\x02\x03\x04\xff\xfe\xfd\xfc", 12));
  });
  EXPECT_EQ(r.code, 5);
  EXPECT_NE(r.err.find("not JSON"), std::string::npos) << r.err;
}

TEST(PlugctlCli, OversizedLengthPrefixIsRefused) {
  Result r = against([](int fd, const LoopbackPeer& p) {
    p.read_xor_request(fd);
    LoopbackPeer::write_all(fd, std::string("\x00\x10\x00\x01", 4));
    std::string chunk;
    while (p.read_some(fd, chunk) > 0) {
    }
  });
  EXPECT_EQ(r.code, 5);
  EXPECT_NE(r.err.find("over the 1 MiB limit"), std::string::npos) << r.err;
}

TEST(PlugctlCli, SilentPeerTimesOut) {
  Result r = against([](int fd, const LoopbackPeer& p) {
    std::string chunk;
    while (p.read_some(fd, chunk) > 0) {
    }
  });
  EXPECT_EQ(r.code, 3);
  EXPECT_NE(r.err.find("timed out"), std::string::npos) << r.err;
}

TEST(PlugctlCli, JsonButWrongShapeIsABadReply) {
  Result r = against([](int fd, const LoopbackPeer& p) {
    p.read_xor_request(fd);
    LoopbackPeer::write_all(fd, xor_reply_frame(R"({"system":{}})"));
  });
  EXPECT_EQ(r.code, 5);
  EXPECT_NE(r.err.find("system.get_sysinfo"), std::string::npos) << r.err;
}

TEST(PlugctlCli, RetriesADroppedConnection) {
  json info = fixture("HS100(US)_1.0_1.2.5.json")["system"]["get_sysinfo"];
  XorDevice device{ScriptedPlug{info}};
  LoopbackPeer peer([&](int fd, const LoopbackPeer& p) {
    if (p.connections() == 1) {
      p.read_xor_request(fd);  // first attempt: dropped unanswered
      return;
    }
    device(fd, p);
  });
  Result r = run_plugctl({"-H", peer.address(), "--retries", "2", "state"});
  EXPECT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(r.out, "Power OFF\n");
}

TEST(PlugctlCli, DeviceErrorsAreNotRetried) {
  XorDevice device{ScriptedPlug{fixture("HS100(US)_1.0_1.2.5.json")["system"]["get_sysinfo"]}};
  LoopbackPeer peer(std::ref(device));
  Result r = run_plugctl({"-H", peer.address(), "--retries", "3", "emeter"});
  EXPECT_EQ(r.code, 1);
  std::lock_guard lock(device.mutex);
  EXPECT_EQ(device.requests.size(), 1u);
}

TEST(PlugctlCli, RefusedPortIsUnreachable) {
  int port;
  {
    LoopbackPeer gone([](int, const LoopbackPeer&) {});
    port = gone.port();
  }
  Result r = run_plugctl({"-H", "127.0.0.1:" + std::to_string(port), "state"});
  EXPECT_EQ(r.code, 3);
  EXPECT_NE(r.err.find("refused"), std::string::npos) << r.err;
}

TEST(PlugctlCli, UsageErrors) {
  EXPECT_EQ(run_plugctl({}).code, 2);
  EXPECT_EQ(run_plugctl({"-H", "127.0.0.1", "fly"}).code, 2);
  EXPECT_EQ(run_plugctl({"state"}).code, 2);
  Result r = run_plugctl({"-H", "127.0.0.1", "--password", "x", "state"});
  EXPECT_EQ(r.code, 2);
  EXPECT_NE(r.err.find("--help"), std::string::npos) << r.err;
  EXPECT_EQ(run_plugctl({"-H", "127.0.0.1", "--transport", "carrier-pigeon", "state"}).code, 2);
  r = run_plugctl({"--help"});
  EXPECT_EQ(r.code, 0);
  for (const char* needle : {"discover", "--child", "--retries", "Exit codes", "5  bad reply"}) {
    EXPECT_NE(r.out.find(needle), std::string::npos) << needle;
  }
}

// KLAP: an in-test device holding one auth hash.
json klap_plug_answer(const json& request) {
  ScriptedPlug plug{fixture("HS100(US)_1.0_1.2.5.json")["system"]["get_sysinfo"]};
  return plug(request);
}

TEST(PlugctlCli, KlapV2WithCredentialsFromTheEnvironment) {
  KlapDevice device{KlapVersion::kV2, klap_auth_hash(KlapVersion::kV2, "u@example.com", "pw"),
                    klap_plug_answer};
  LoopbackPeer peer(std::ref(device));
  Result r = run_plugctl({"-H", peer.address(), "state"},
                         {"KASA_USERNAME=u@example.com", "KASA_PASSWORD=pw"});
  EXPECT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(r.out, "Power OFF\n");
}

TEST(PlugctlCli, KlapV1WithAPasswordFile) {
  KlapDevice device{KlapVersion::kV1, klap_auth_hash(KlapVersion::kV1, "u@example.com", "pw"),
                    klap_plug_answer};
  LoopbackPeer peer(std::ref(device));
  std::string file = ::testing::TempDir() + "/plugctl_password";
  std::ofstream(file) << "pw\n";
  Result r = run_plugctl({"-H", peer.address(), "--transport", "klap", "--username",
                          "u@example.com", "--password-file", file, "--json", "info"});
  EXPECT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(json::parse(r.out)["transport"], "klap");
}

TEST(PlugctlCli, KlapBlankAndDefaultCredentialsNeedNoneGiven) {
  for (auto [user, password] : {std::pair{"", ""}, std::pair{"kasa@tp-link.net", "kasaSetup"}}) {
    KlapDevice device{KlapVersion::kV2, klap_auth_hash(KlapVersion::kV2, user, password),
                      klap_plug_answer};
    LoopbackPeer peer(std::ref(device));
    Result r = run_plugctl({"-H", peer.address(), "--transport", "klap", "state"});
    EXPECT_EQ(r.code, 0) << user << ": " << r.err;
  }
}

TEST(PlugctlCli, KlapStoredCredentialsHash) {
  Bytes hash = klap_auth_hash(KlapVersion::kV2, "u@example.com", "pw");
  KlapDevice device{KlapVersion::kV2, hash, klap_plug_answer};
  LoopbackPeer peer(std::ref(device));
  Result r = run_plugctl({"-H", peer.address(), "--transport", "klap", "--credentials-hash",
                          base64_encode(hash), "on"});
  EXPECT_EQ(r.code, 0) << r.err;
}

TEST(PlugctlCli, KlapWrongCredentialsAreAnAuthFailure) {
  KlapDevice device{KlapVersion::kV2, klap_auth_hash(KlapVersion::kV2, "u@example.com", "pw"),
                    klap_plug_answer};
  LoopbackPeer peer(std::ref(device));
  Result r = run_plugctl({"-H", peer.address(), "--transport", "klap", "--retries", "2", "state"},
                         {"KASA_USERNAME=u@example.com", "KASA_PASSWORD=wrong"});
  EXPECT_EQ(r.code, 4);
  EXPECT_NE(r.err.find("--username"), std::string::npos) << r.err;
  std::lock_guard lock(device.mutex);
  EXPECT_EQ(device.handshakes, 1) << "auth failures are not retried";
}

TEST(PlugctlCli, KlapHandshakesAgainWhenTheSessionExpires) {
  ScriptedPlug strip{fixture("HS300(US)_1.0_1.0.21.json")["system"]["get_sysinfo"]};
  KlapDevice device{KlapVersion::kV2, klap_auth_hash(KlapVersion::kV2, "", ""), std::ref(strip)};
  device.forget_sessions_after = 1;
  LoopbackPeer peer(std::ref(device));
  // Switching an outlet takes two requests: sysinfo (to find the outlet), then the switch,
  // which meets the expired session.
  Result r = run_plugctl({"-H", peer.address(), "--transport", "klap", "--child", "2", "off"});
  EXPECT_EQ(r.code, 0) << r.err;
  std::lock_guard lock(device.mutex);
  EXPECT_EQ(device.handshakes, 2);
  EXPECT_EQ(strip.sysinfo["children"][1]["state"], 0);
}

// A KLAP-speaking peer that answers every HTTP request with the same response.
LoopbackPeer::Handler http_answering(std::string response) {
  return [response](int fd, const LoopbackPeer& p) {
    std::string request;
    while (request.find("\r\n\r\n") == std::string::npos) {
      if (p.read_some(fd, request) == 0) return;
    }
    LoopbackPeer::write_all(fd, response);
  };
}

TEST(PlugctlCli, KlapHandshakeOfTheWrongSizeIsABadReply) {
  LoopbackPeer peer(http_answering("HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello"));
  Result r = run_plugctl({"-H", peer.address(), "--transport", "klap", "state"});
  EXPECT_EQ(r.code, 5);
  EXPECT_NE(r.err.find("expected 48"), std::string::npos) << r.err;
}

TEST(PlugctlCli, KlapGarbledHttpIsABadReply) {
  LoopbackPeer peer(http_answering("HTTP/1.1 200 OK\r\nContent-Length: nope\r\n\r\n"));
  Result r = run_plugctl({"-H", peer.address(), "--transport", "klap", "state"});
  EXPECT_EQ(r.code, 5);
  EXPECT_NE(r.err.find("bad HTTP reply"), std::string::npos) << r.err;
}

TEST(PlugctlCli, KlapReplyFailingItsSignatureIsABadReply) {
  KlapDevice device{KlapVersion::kV2, klap_auth_hash(KlapVersion::kV2, "", ""), klap_plug_answer};
  LoopbackPeer honest(std::ref(device));
  // Relays to the honest device and flips one byte of every request's answer body.
  LoopbackPeer tamperer([&](int fd, const LoopbackPeer& p) {
    std::string request;
    while (request.find("\r\n\r\n") == std::string::npos) {
      if (p.read_some(fd, request) == 0) return;
    }
    auto length_at = request.find("Content-Length: ");
    std::size_t body =
        length_at == std::string::npos ? 0 : std::stoul(request.substr(length_at + 16));
    while (request.size() < request.find("\r\n\r\n") + 4 + body) {
      if (p.read_some(fd, request) == 0) return;
    }
    UniqueFd up = connect_tcp({"127.0.0.1", honest.port()}, Deadline(std::chrono::seconds(5)));
    write_all(up.get(), as_bytes(request), Deadline(std::chrono::seconds(5)));
    std::string answer;
    char buf[4096];
    for (;;) {
      pollfd pf{up.get(), POLLIN, 0};
      if (poll(&pf, 1, 5000) <= 0) break;
      ssize_t n = read(up.get(), buf, sizeof buf);
      if (n <= 0) break;
      answer.append(buf, static_cast<std::size_t>(n));
    }
    if (request.rfind("POST /app/request", 0) == 0 && !answer.empty()) answer.back() ^= 1;
    LoopbackPeer::write_all(fd, answer);
  });
  Result r = run_plugctl({"-H", tamperer.address(), "--transport", "klap", "state"});
  EXPECT_EQ(r.code, 5);
  EXPECT_NE(r.err.find("signature"), std::string::npos) << r.err;
}

TEST(PlugctlCli, AutoFallsBackToKlapWhenThePortSpeaksHttp) {
  KlapDevice device{KlapVersion::kV1, klap_auth_hash(KlapVersion::kV1, "", ""), klap_plug_answer};
  LoopbackPeer peer(std::ref(device));
  Result r = run_plugctl({"-H", peer.address(), "--json", "info"});
  EXPECT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(json::parse(r.out)["transport"], "klap");
}

}  // namespace
}  // namespace crossrig::plugctl
