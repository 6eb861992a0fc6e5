#include "auth/tag_crypto.h"

#include <cstdio>
#include <string>

#include <gtest/gtest.h>

namespace bm {
namespace {

std::span<const std::uint8_t> Bytes(std::string_view s) {
  return {reinterpret_cast<const std::uint8_t*>(s.data()), s.size()};
}

TEST(TagCryptoTest, HmacSha256MatchesRfc4231TestCase2) {
  auto mac = HmacSha256(Bytes("Jefe"), "what do ya want for nothing?");
  std::string hex;
  for (std::uint8_t b : mac) {
    char buf[3];
    std::snprintf(buf, sizeof buf, "%02x", b);
    hex += buf;
  }
  EXPECT_EQ(hex, "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
}

TEST(TagCryptoTest, Base32MatchesRfc4648LowerCased) {
  EXPECT_EQ(Base32EncodeBits(Bytes("foobar"), 48), "mzxw6ytboi");
  EXPECT_EQ(Base32EncodeBits(Bytes("f"), 8), "my");
  EXPECT_EQ(Base32EncodeBits(Bytes("foobar"), 10), "mz");  // a prefix of the bits
}

TEST(TagCryptoTest, Base32ValueInvertsTheAlphabet) {
  for (std::size_t i = 0; i < kBase32Alphabet.size(); ++i) {
    EXPECT_EQ(Base32Value(kBase32Alphabet[i]), static_cast<int>(i));
  }
  EXPECT_EQ(Base32Value('A'), -1);  // callers lower-case first
  EXPECT_EQ(Base32Value('1'), -1);
  EXPECT_EQ(Base32Value('8'), -1);
}

TEST(TagCryptoTest, ConstantTimeEqual) {
  EXPECT_TRUE(ConstantTimeEqual("abcdef", "abcdef"));
  EXPECT_TRUE(ConstantTimeEqual("", ""));
  EXPECT_FALSE(ConstantTimeEqual("abcdef", "abcdeg"));
  EXPECT_FALSE(ConstantTimeEqual("bbcdef", "abcdef"));
  EXPECT_FALSE(ConstantTimeEqual("abc", "abcd"));
}

}  // namespace
}  // namespace bm
