#include "common/glob.h"

#include <gtest/gtest.h>

#include <string>

namespace bm {
namespace {

TEST(GlobMatchTest, StarsAndQuestionMarks) {
  EXPECT_TRUE(GlobMatch("5.1.*", "5.1.1"));
  EXPECT_TRUE(GlobMatch("5.1.*", "5.1.10"));
  EXPECT_FALSE(GlobMatch("5.1.*", "5.2.1"));
  EXPECT_TRUE(GlobMatch("55?", "550"));
  EXPECT_FALSE(GlobMatch("55?", "55"));
  EXPECT_FALSE(GlobMatch("55?", "5500"));
  EXPECT_TRUE(GlobMatch("*", ""));
  EXPECT_FALSE(GlobMatch("?", ""));
  EXPECT_TRUE(GlobMatch("a*b*c", "axxbyyc"));
  EXPECT_FALSE(GlobMatch("a*b*c", "axxbyy"));
}

TEST(GlobMatchTest, WholeAddressesIgnoringAsciiCase) {
  EXPECT_TRUE(GlobMatch("*.google.com", "MX.Google.COM"));
  EXPECT_TRUE(GlobMatch("bounces@example.com", "Bounces@EXAMPLE.com"));
  EXPECT_FALSE(GlobMatch("bounces@example.com", "bounces@example.com.evil"));
  EXPECT_TRUE(GlobMatch("bounces+*@example.com", "bounces+u=x.org@example.com"));
  EXPECT_TRUE(GlobMatch("bounces+*@example.com", "bounces+@example.com"));
  EXPECT_FALSE(GlobMatch("bounces+*@example.com", "bounces@example.com"));
  EXPECT_TRUE(GlobMatch("*@bounce.example.com", "anything@bounce.example.com"));
  EXPECT_TRUE(GlobMatch("b?unces@x", "bounces@x"));
  // Bytes >= 0x80 are compared as they are, never folded.
  EXPECT_FALSE(GlobMatch("\xc3\x89*", "\xc3\xa9t\xc3\xa9"));
}

// A '*' in the text does not turn the pattern's `*` into a literal.
TEST(GlobMatchTest, StarInTheText) {
  EXPECT_TRUE(GlobMatch("a*", "a*b"));
  EXPECT_TRUE(GlobMatch("*x", "**x"));
  EXPECT_FALSE(GlobMatch("a*c", "a*b"));
}

TEST(GlobMatchTest, BacktrackingStaysLinear) {
  EXPECT_TRUE(GlobMatch("*a*a*a*b", std::string(5000, 'a') + "b"));
  EXPECT_FALSE(GlobMatch("*a*a*a*b", std::string(5000, 'a')));
}

}  // namespace
}  // namespace bm
