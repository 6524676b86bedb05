#include "plugctl/klap_transport.h"

#include <gtest/gtest.h>

namespace crossrig::plugctl {
namespace {

TEST(KlapSessionCookie, FindsTheSessionIdAmongAttributes) {
  EXPECT_EQ(klap_session_cookie("TP_SESSIONID=ABC123;TIMEOUT=86400"), "ABC123");
  EXPECT_EQ(klap_session_cookie("TIMEOUT=86400; TP_SESSIONID=x"), "x");
  EXPECT_EQ(klap_session_cookie("TP_SESSIONID="), std::nullopt);
  EXPECT_EQ(klap_session_cookie("OTHER=1"), std::nullopt);
  EXPECT_EQ(klap_session_cookie("TP_SESSIONIDX=1"), std::nullopt);
  EXPECT_EQ(klap_session_cookie(""), std::nullopt);
}

}  // namespace
}  // namespace crossrig::plugctl
