#include "parser/text_util.h"

#include <gtest/gtest.h>

namespace bm {
namespace {

TEST(TextUtilTest, CaseInsensitiveSearch) {
  EXPECT_TRUE(EqualsIgnoreCase("Final-Recipient", "final-RECIPIENT"));
  EXPECT_FALSE(EqualsIgnoreCase("Final", "Finale"));
  EXPECT_TRUE(StartsWithIgnoreCase("RCPT TO:<a@b.c>", "rcpt to:"));
  EXPECT_EQ(FindIgnoreCase("xxHeLLo", "hello"), 2u);
  EXPECT_EQ(FindIgnoreCase("abc", "abcd"), std::string_view::npos);
  EXPECT_EQ(FindIgnoreCase("Mmessage MESSAGE", "message"), 1u);
  EXPECT_EQ(FindIgnoreCase("Mmessage MESSAGE", "message", 2), 9u);
  EXPECT_EQ(FindIgnoreCase("xxMESSAGe", "message"), 2u);  // match ends at the last byte
  EXPECT_EQ(FindIgnoreCase("mmmmmmmmmm", "mmx"), std::string_view::npos);
  EXPECT_EQ(FindIgnoreCase("a-1-2", "-2"), 3u);  // first character without case
  EXPECT_EQ(FindIgnoreCase("abc", "c", 5), std::string_view::npos);
}

TEST(TextUtilTest, SplitLinesAcceptsLfAndCrlf) {
  std::vector<std::string_view> lines = SplitLines("a\r\nb\nc");
  ASSERT_EQ(lines.size(), 3u);
  EXPECT_EQ(lines[0], "a");
  EXPECT_EQ(lines[1], "b");
  EXPECT_EQ(lines[2], "c");
}

TEST(TextUtilTest, CollapseWhitespaceUnfoldsAndBounds) {
  EXPECT_EQ(CollapseWhitespace("  550 5.1.1\r\n    user\tunknown  ", 100), "550 5.1.1 user unknown");
  EXPECT_EQ(CollapseWhitespace("abcdef", 3), "abc");
}

TEST(TextUtilTest, TruncateNeverSplitsUtf8) {
  const std::string text = "ab\xC3\xA9";  // "abé"
  EXPECT_EQ(TruncateUtf8(text, 3), "ab");
  EXPECT_EQ(TruncateUtf8(text, 4), text);
}

}  // namespace
}  // namespace bm
