#include "store/address.h"

#include <gtest/gtest.h>

namespace bm {
namespace {

std::string Norm(std::string_view a, bool fold = true) {
  Result<std::string> r = NormalizeAddress(a, AddressNormalization{fold});
  return r.ok() ? *r : "ERROR: " + r.status().message();
}

TEST(NormalizeAddress, FoldsCaseOfDomainAndLocalPartByDefault) {
  EXPECT_EQ(Norm("User.Name@Example.COM"), "user.name@example.com");
  EXPECT_EQ(Norm("User.Name@Example.COM", /*fold=*/false), "User.Name@example.com");
}

TEST(NormalizeAddress, StripsBracketsTypeAndWhiteSpace) {
  EXPECT_EQ(Norm("  <a@b.example>  "), "a@b.example");
  EXPECT_EQ(Norm("rfc822; A@B.example"), "a@b.example");
  EXPECT_EQ(Norm("a@b.example."), "a@b.example");
}

TEST(NormalizeAddress, KeepsNonAsciiDomainLabelsAsGiven) {
  EXPECT_EQ(Norm("Jos\xC3\xA9@M\xC3\x9CNCHEN.Example"), "jos\xC3\xA9@m\xC3\x9C" "nchen.example");
}

TEST(NormalizeAddress, SplitsAtTheLastAt) {
  EXPECT_EQ(Norm("\"a@b\"@Example.org"), "\"a@b\"@example.org");
}

TEST(NormalizeAddress, RejectsMalformedAddresses) {
  EXPECT_FALSE(NormalizeAddress("no-at-sign", {}).ok());
  EXPECT_FALSE(NormalizeAddress("@example.com", {}).ok());
  EXPECT_FALSE(NormalizeAddress("a@", {}).ok());
  EXPECT_FALSE(NormalizeAddress("a b@example.com", {}).ok());
  EXPECT_FALSE(NormalizeAddress("a@exa..mple.com", {}).ok());
  EXPECT_FALSE(NormalizeAddress(std::string(65, 'x') + "@example.com", {}).ok());
  EXPECT_FALSE(NormalizeAddress("a@" + std::string(256, 'x'), {}).ok());
  EXPECT_FALSE(NormalizeAddress(std::string("a\0b@example.com", 15), {}).ok());
}

TEST(NormalizeDomain, AcceptsLeadingAt) {
  Result<std::string> d = NormalizeDomain("@Example.NET");
  ASSERT_TRUE(d.ok());
  EXPECT_EQ(*d, "example.net");
  EXPECT_EQ(DomainOf("x@y.example"), "y.example");
}

}  // namespace
}  // namespace bm
