#include "common/text_lists.h"

#include <gtest/gtest.h>

namespace crossrig {
namespace {

TEST(SplitCommas, EmptyItemsAreLeftOut) {
  EXPECT_EQ(split_commas("cell,qemu-x86_64"), (std::vector<std::string>{"cell", "qemu-x86_64"}));
  EXPECT_EQ(split_commas(",a,,b,"), (std::vector<std::string>{"a", "b"}));
  EXPECT_TRUE(split_commas("").empty());
  EXPECT_EQ(split_commas("one"), std::vector<std::string>{"one"});
}

}  // namespace
}  // namespace crossrig
