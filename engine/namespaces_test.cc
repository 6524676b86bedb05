#include "engine/namespaces.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include "engine/ckpt_error.h"

namespace crossrig::engine {
namespace {

const NamespaceIds kHost = {{"ipc", 1}, {"mnt", 2},  {"net", 3},
                            {"pid", 4}, {"user", 6}, {"uts", 5}};

std::string refusal(const std::vector<std::pair<pid_t, NamespaceIds>>& members) {
  try {
    namespaces_to_make(kHost, members);
  } catch (const CkptError& e) {
    EXPECT_EQ(e.kind(), CkptError::kUnsupported);
    return e.what();
  }
  return "";
}

TEST(NamespacesToMake, NoneForATreeInCkptsOwn) {
  EXPECT_TRUE(namespaces_to_make(kHost, {{10, kHost}, {11, kHost}}).empty());
}

TEST(NamespacesToMake, UtsIpcMountAndNetOfTheRoot) {
  NamespaceIds own = kHost;
  own["uts"] = 50;
  own["ipc"] = 51;
  own["net"] = 52;
  own["mnt"] = 53;
  EXPECT_EQ(namespaces_to_make(kHost, {{10, own}, {11, own}}),
            (std::vector<std::string>{"ipc", "mnt", "net", "uts"}));
}

TEST(NamespacesToMake, RefusesOtherKindsAndSplitTrees) {
  NamespaceIds user = kHost;
  user["user"] = 60;
  EXPECT_NE(refusal({{10, user}}).find("process 10 runs in its own user namespace"),
            std::string::npos);
  NamespaceIds uts = kHost;
  uts["uts"] = 61;
  EXPECT_NE(refusal({{10, kHost}, {11, uts}})
                .find("process 11 runs in another UTS namespace than the root process 10"),
            std::string::npos);
}

TEST(ReadNamespaces, OwnMatchesSelf) {
  NamespaceIds self = read_namespaces(::getpid());
  EXPECT_EQ(self.count("pid"), 1u);
  EXPECT_EQ(self, read_namespaces(::getpid()));
}

}  // namespace
}  // namespace crossrig::engine
