#include "engine/namespaces.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include "engine/ckpt_error.h"

namespace crossrig::engine {
namespace {

const NamespaceIds kHost = {{"ipc", 1}, {"mnt", 2}, {"net", 3}, {"pid", 4}, {"uts", 5}};

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

TEST(NamespacesToMake, UtsIpcAndNetOfTheRoot) {
  NamespaceIds own = kHost;
  own["uts"] = 50;
  own["ipc"] = 51;
  own["net"] = 52;
  EXPECT_EQ(namespaces_to_make(kHost, {{10, own}, {11, own}}),
            (std::vector<std::string>{"ipc", "net", "uts"}));
}

TEST(NamespacesToMake, RefusesOtherKindsAndSplitTrees) {
  NamespaceIds mnt = kHost;
  mnt["mnt"] = 60;
  EXPECT_NE(refusal({{10, mnt}}).find("process 10 runs in its own mount namespace"),
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
