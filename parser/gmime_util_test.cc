#include "parser/gmime_util.h"

#include <gtest/gtest.h>

namespace bm {
namespace {

TEST(GMimeUtilTest, SanitizeReplacesInvalidUtf8) {
  EXPECT_EQ(SanitizeUtf8("ok \xC3\xA9"), "ok \xC3\xA9");
  EXPECT_EQ(SanitizeUtf8("a\xFF" "b"), "a\xEF\xBF\xBD" "b");
  EXPECT_EQ(SanitizeUtf8("\xE3\x81"), "\xEF\xBF\xBD\xEF\xBF\xBD");  // truncated sequence
  EXPECT_EQ(SanitizeUtf8("\xED\xA0\x80"), "\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD");  // surrogate
}

TEST(GMimeUtilTest, ConvertsCharsets) {
  EXPECT_EQ(ToUtf8("caf\xE9", "iso-8859-1"), "caf\xC3\xA9");
  // ISO-2022-JP "ねこ" (stateful charset with escape sequences).
  EXPECT_EQ(ToUtf8("\x1B$B$M$3\x1B(B", "iso-2022-jp"), "\xE3\x81\xAD\xE3\x81\x93");
}

TEST(GMimeUtilTest, InvalidBytesAndUnknownCharsetsYieldValidUtf8) {
  EXPECT_EQ(ToUtf8("a\xFF" "b", "utf-8"), "a\xEF\xBF\xBD" "b");
  EXPECT_EQ(ToUtf8("a\xFF" "b", "x-no-such-charset"), "a\xEF\xBF\xBD" "b");
  const std::string sjis_broken = "\x82";  // a Shift_JIS lead byte without its trail byte
  EXPECT_EQ(ToUtf8(sjis_broken, "shift_jis"), "\xEF\xBF\xBD");
}

}  // namespace
}  // namespace bm
