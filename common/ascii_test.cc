#include "common/ascii.h"

#include <gtest/gtest.h>

namespace bm {
namespace {

TEST(AsciiTest, Classes) {
  EXPECT_TRUE(IsAsciiDigit('0') && IsAsciiDigit('9') && !IsAsciiDigit('a'));
  EXPECT_TRUE(IsAsciiAlpha('a') && IsAsciiAlpha('Z') && !IsAsciiAlpha('1') && !IsAsciiAlpha('@'));
  EXPECT_TRUE(IsAsciiAlnum('q') && IsAsciiAlnum('7') && !IsAsciiAlnum('-'));
  EXPECT_FALSE(IsAsciiAlpha('\xc3'));
}

TEST(AsciiTest, CaseFoldingLeavesNonAsciiAlone) {
  EXPECT_EQ(ToLowerAscii("Bounces@EXAMPLE.com"), "bounces@example.com");
  EXPECT_EQ(ToLowerAscii("\xc3\x89T\xc3\x89"), "\xc3\x89t\xc3\x89");
  EXPECT_TRUE(EqualsIgnoreCase("Received", "RECEIVED"));
  EXPECT_FALSE(EqualsIgnoreCase("Received", "Receive"));
  EXPECT_FALSE(EqualsIgnoreCase("\xc3\x89", "\xc3\xa9"));
  EXPECT_TRUE(EqualsIgnoreCase("", ""));
}

}  // namespace
}  // namespace bm
