#include "engine/post_copy.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <string>

#include "common/hex.h"

namespace crossrig::engine {
namespace {

Message hello(const nlohmann::json& body) {
  const std::string text = body.dump();
  const auto bytes = as_bytes(text);
  return {MessageType::kHello, {bytes.begin(), bytes.end()}};
}

TEST(SourceHello, TakesTheRestoreOfThisTree) {
  EXPECT_NO_THROW(
      check_source_hello(hello({{"protocol", kTransferProtocol}, {"pages_of", 42}}), 42));
}

TEST(SourceHello, RefusesAnotherTreeAPageServerClientAndAnotherProtocol) {
  EXPECT_THROW(check_source_hello(hello({{"protocol", kTransferProtocol}, {"pages_of", 43}}), 42),
               ProtocolError);
  EXPECT_THROW(check_source_hello(hello({{"protocol", kTransferProtocol}}), 42), ProtocolError);
  EXPECT_THROW(
      check_source_hello(hello({{"protocol", kTransferProtocol + 1}, {"pages_of", 42}}), 42),
      ProtocolError);
  EXPECT_THROW(check_source_hello(Message{MessageType::kPageRequest, {}}, 42), ProtocolError);
}

}  // namespace
}  // namespace crossrig::engine
