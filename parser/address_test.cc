#include "parser/address.h"

#include <gtest/gtest.h>

namespace bm {
namespace {

TEST(AddressTest, FindsAddressesInText) {
  std::vector<AddressHit> hits =
      FindAddresses("550 5.1.1 <kijitora@example.jp>... User unknown; cc sabineko@example.org.");
  ASSERT_EQ(hits.size(), 2u);
  EXPECT_EQ(hits[0].address, "kijitora@example.jp");
  EXPECT_EQ(hits[1].address, "sabineko@example.org");  // sentence dot dropped
}

TEST(AddressTest, QuotedLocalPartsAndEncodedWords) {
  EXPECT_EQ(ExtractAddress("rfc822; \"neko..nyaan\"@example.org"), "\"neko..nyaan\"@example.org");
  std::vector<AddressHit> hits = FindAddresses("550 <\"a b\"@example.org> and =?utf-8?b?8J+QiA==?=@example.org");
  ASSERT_EQ(hits.size(), 1u);  // a quoted local part with a blank is not taken
  EXPECT_EQ(hits[0].address, "=?utf-8?b?8J+QiA==?=@example.org");
}

TEST(AddressTest, RejectsDomainsWithoutDot) {
  EXPECT_TRUE(FindAddresses("user@localhost and @example.com").empty());
}

TEST(AddressTest, ExtractAddressStripsTypeAndBrackets) {
  EXPECT_EQ(ExtractAddress("rfc822; kijitora@example.jp"), "kijitora@example.jp");
  EXPECT_EQ(ExtractAddress("RFC822;<kijitora@example.jp>"), "kijitora@example.jp");
  EXPECT_EQ(ExtractAddress("\"Neko, Nyaan\" <neko@example.org>"), "neko@example.org");
  EXPECT_EQ(ExtractAddress("undisclosed-recipients:;"), "");
}

TEST(AddressTest, DaemonAddresses) {
  EXPECT_TRUE(IsDaemonAddress("MAILER-DAEMON@example.jp"));
  EXPECT_TRUE(IsDaemonAddress("postmaster@example.jp"));
  EXPECT_FALSE(IsDaemonAddress("kijitora@example.jp"));
}

}  // namespace
}  // namespace bm
