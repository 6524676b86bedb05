#include "engine/kcmp.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include "common/unique_fd.h"

namespace crossrig::engine {
namespace {

TEST(SameOpenFile, DupSharesOneDescriptionAndASecondOpenDoesNot) {
  UniqueFd a(::open("/dev/null", O_RDONLY | O_CLOEXEC));
  UniqueFd dup(::fcntl(a.get(), F_DUPFD_CLOEXEC, 0));
  UniqueFd other(::open("/dev/null", O_RDONLY | O_CLOEXEC));
  ASSERT_TRUE(a && dup && other);
  const pid_t self = ::getpid();
  EXPECT_TRUE(same_open_file(self, a.get(), self, dup.get()));
  EXPECT_FALSE(same_open_file(self, a.get(), self, other.get()));
}

TEST(SameOpenFile, AClosedFdIsAnErrorNotAnAnswer) {
  UniqueFd a(::open("/dev/null", O_RDONLY | O_CLOEXEC));
  EXPECT_THROW(same_open_file(::getpid(), a.get(), ::getpid(), 1 << 20), std::runtime_error);
}

}  // namespace
}  // namespace crossrig::engine
