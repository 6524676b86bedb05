#include "plugctl/credentials.h"

#include <gtest/gtest.h>

#include <fstream>
#include <nlohmann/json.hpp>

#include "common/hex.h"
#include "plugctl/errors.h"

namespace crossrig::plugctl {
namespace {

TEST(Base64, RoundTripsEveryLength) {
  Bytes data;
  for (int n = 0; n < 40; ++n) {
    EXPECT_EQ(base64_decode(base64_encode(data)), data) << n;
    data.push_back(static_cast<std::uint8_t>(n * 37 + 11));
  }
  EXPECT_EQ(base64_encode(as_bytes("kasa@tp-link.net")), "a2FzYUB0cC1saW5rLm5ldA==");
  EXPECT_EQ(base64_decode("a2FzYVNldHVw"),
            Bytes(as_bytes("kasaSetup").begin(), as_bytes("kasaSetup").end()));
}

TEST(Base64, RefusesNonBase64) {
  EXPECT_FALSE(base64_decode("a2F*"));
  EXPECT_FALSE(base64_decode("a"));
  EXPECT_FALSE(base64_decode("a2F z"));
}

TEST(Credentials, StoredHashMustBeAKlapHash) {
  EXPECT_EQ(parse_credentials_hash(base64_encode(Bytes(32, 7))), Bytes(32, 7));
  EXPECT_EQ(parse_credentials_hash(base64_encode(Bytes(16, 7))), Bytes(16, 7));
  for (const char* bad : {"", "!!!!", "AAAA"}) {
    try {
      parse_credentials_hash(bad);
      ADD_FAILURE() << bad;
    } catch (const PlugError& e) {
      EXPECT_EQ(e.kind(), PlugError::kUsage);
    }
  }
}

TEST(Credentials, CandidatesComeInTheDocumentedOrder) {
  Credentials given{"u", "p", std::nullopt};
  auto c = auth_candidates(given);
  ASSERT_EQ(c.size(), 8u);
  EXPECT_EQ(c[0].version, KlapVersion::kV2);
  EXPECT_EQ(c[0].auth_hash, klap_auth_hash(KlapVersion::kV2, "u", "p"));
  EXPECT_EQ(c[1].version, KlapVersion::kV1);
  EXPECT_EQ(c[1].auth_hash, klap_auth_hash(KlapVersion::kV1, "u", "p"));
  EXPECT_EQ(c[2].auth_hash, klap_auth_hash(KlapVersion::kV2, "", ""));
  EXPECT_EQ(c[4].auth_hash, klap_auth_hash(KlapVersion::kV2, "kasa@tp-link.net", "kasaSetup"));
  EXPECT_EQ(c[6].auth_hash, klap_auth_hash(KlapVersion::kV2, "test@tp-link.net", "test"));
  EXPECT_EQ(auth_candidates({}).size(), 6u);
  Credentials stored{std::nullopt, std::nullopt, Bytes(16, 1)};
  EXPECT_EQ(auth_candidates(stored).front().version, KlapVersion::kV1);
}

TEST(Credentials, MatchesTheReferenceHandshakesOfBothVersions) {
  std::ifstream in(CROSSRIG_SOURCE_DIR "/plugctl/testdata/klap_vectors.json");
  auto v = nlohmann::json::parse(in);
  Bytes local = from_hex(v["local_seed"].get<std::string>()).value();
  Bytes remote = from_hex(v["remote_seed"].get<std::string>()).value();
  Credentials given{v["username"].get<std::string>(), v["password"].get<std::string>(), {}};
  for (auto [name, version] :
       {std::pair{"v1", KlapVersion::kV1}, std::pair{"v2", KlapVersion::kV2}}) {
    Bytes body =
        from_hex(v["versions"][name]["handshake1_response_body"].get<std::string>()).value();
    auto server_hash = std::span(body).subspan(16);
    auto match = match_handshake1(auth_candidates(given), local, remote, server_hash);
    ASSERT_TRUE(match) << name;
    EXPECT_EQ(match->version, version);
    EXPECT_EQ(match->source, "the given username and password");
    EXPECT_FALSE(match_handshake1(auth_candidates({}), local, remote, server_hash)) << name;
  }
}

}  // namespace
}  // namespace crossrig::plugctl
