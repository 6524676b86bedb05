#include "plugctl/klap_cipher.h"

#include <gtest/gtest.h>

#include <fstream>
#include <nlohmann/json.hpp>

#include "common/hex.h"

namespace crossrig::plugctl {
namespace {

nlohmann::json vectors() {
  std::ifstream in(CROSSRIG_SOURCE_DIR "/plugctl/testdata/klap_vectors.json");
  return nlohmann::json::parse(in);
}

Bytes hex(const nlohmann::json& j) {
  return from_hex(j.get<std::string>()).value();
}

class KlapVectors : public ::testing::TestWithParam<KlapVersion> {
 protected:
  void SetUp() override {
    all_ = vectors();
    v_ = all_["versions"][GetParam() == KlapVersion::kV1 ? "v1" : "v2"];
    local_ = hex(all_["local_seed"]);
    remote_ = hex(all_["remote_seed"]);
  }
  nlohmann::json all_, v_;
  Bytes local_, remote_;
};

TEST_P(KlapVectors, AuthHashes) {
  EXPECT_EQ(to_hex(klap_auth_hash(GetParam(), all_["username"].get<std::string>(),
                                  all_["password"].get<std::string>())),
            v_["auth_hash"]);
  EXPECT_EQ(to_hex(klap_auth_hash(GetParam(), "", "")), v_["blank_auth_hash"]);
}

TEST_P(KlapVectors, Handshakes) {
  Bytes auth = hex(v_["auth_hash"]);
  Bytes h1 = remote_;
  Bytes server = klap_handshake1_hash(GetParam(), local_, remote_, auth);
  h1.insert(h1.end(), server.begin(), server.end());
  EXPECT_EQ(to_hex(h1), v_["handshake1_response_body"]);
  EXPECT_EQ(to_hex(klap_handshake2_hash(GetParam(), local_, remote_, auth)),
            v_["handshake2_request_body"]);
}

TEST_P(KlapVectors, SessionKeysAndMessages) {
  KlapSession s(local_, remote_, hex(v_["auth_hash"]));
  EXPECT_EQ(to_hex(s.key()), v_["key"]);
  EXPECT_EQ(to_hex(s.iv_prefix()), v_["iv_prefix12"]);
  EXPECT_EQ(to_hex(s.sig_prefix()), v_["sig_prefix28"]);
  EXPECT_EQ(s.seq(), v_["seq_initial"].get<std::int32_t>());

  std::int32_t seq = s.next_seq();
  EXPECT_EQ(seq, v_["request_seq"].get<std::int32_t>());
  EXPECT_EQ("/app/request?seq=" + std::to_string(seq), v_["request_url"]);
  EXPECT_EQ(to_hex(s.iv(seq)), v_["request_iv"]);
  std::string plain = v_["request_plain"];
  EXPECT_EQ(to_hex(s.encrypt(plain, seq)), v_["request_body"]);
  EXPECT_EQ(s.decrypt(hex(v_["request_body"]), seq), plain);
  EXPECT_EQ(s.decrypt(hex(v_["response_body"]), seq), v_["response_plain"].get<std::string>());
}

TEST_P(KlapVectors, RejectsTamperedOrMisSequencedMessages) {
  KlapSession s(local_, remote_, hex(v_["auth_hash"]));
  std::int32_t seq = v_["request_seq"];
  Bytes body = hex(v_["request_body"]);
  EXPECT_FALSE(s.decrypt(body, seq + 1));
  body.back() ^= 1;
  EXPECT_FALSE(s.decrypt(body, seq));
  EXPECT_FALSE(s.decrypt(Bytes(31), seq));
  EXPECT_FALSE(s.decrypt(Bytes(32 + 17), seq));
}

INSTANTIATE_TEST_SUITE_P(BothVersions, KlapVectors,
                         ::testing::Values(KlapVersion::kV1, KlapVersion::kV2),
                         [](const ::testing::TestParamInfo<KlapVersion>& p) {
                           return p.param == KlapVersion::kV1 ? "v1" : "v2";
                         });

TEST(KlapSession, SequenceWrapsLikeTheDevice) {
  Bytes seed(16, 0);
  KlapSession s(seed, seed, Bytes(16, 0));
  std::int32_t start = s.seq();
  EXPECT_EQ(s.next_seq(), static_cast<std::int32_t>(static_cast<std::uint32_t>(start) + 1));
}

}  // namespace
}  // namespace crossrig::plugctl
