#include "rules/pattern.h"

#include <gtest/gtest.h>

namespace bm {
namespace {

TEST(PatternTest, GlobListAndNone) {
  Result<Pattern> p = Pattern::Glob("550,551,none");
  ASSERT_TRUE(p.ok());
  EXPECT_TRUE(p->Matches("551"));
  EXPECT_TRUE(p->Matches(""));
  EXPECT_FALSE(p->Matches("552"));
  EXPECT_FALSE(p->is_regex());
  EXPECT_EQ(p->source(), "550,551,none");
  EXPECT_FALSE(Pattern::Glob("550,,551").ok());
}

TEST(PatternTest, RegexCaselessAndMatchedText) {
  Result<Pattern> p = Pattern::Regex("mailbox (is )?full", "i");
  ASSERT_TRUE(p.ok());
  std::string_view matched;
  EXPECT_TRUE(p->Matches("552 5.2.2 Mailbox is FULL today", &matched));
  EXPECT_EQ(matched, "Mailbox is FULL");
  EXPECT_FALSE(p->Matches("mailbox unavailable"));
  EXPECT_FALSE(p->Matches(""));
  EXPECT_EQ(p->source(), "/mailbox (is )?full/i");

  Result<Pattern> exact = Pattern::Regex("Full", "");
  ASSERT_TRUE(exact.ok());
  EXPECT_FALSE(exact->Matches("mailbox full"));
}

TEST(PatternTest, RegexErrorsCarryPcreMessageAndOffset) {
  Result<Pattern> p = Pattern::Regex("user (unknown", "i");
  ASSERT_FALSE(p.ok());
  EXPECT_NE(p.status().message().find("missing closing parenthesis"), std::string::npos)
      << p.status().message();
  EXPECT_NE(p.status().message().find("offset 13"), std::string::npos) << p.status().message();
  EXPECT_FALSE(Pattern::Regex("x", "q").ok());
}

TEST(PatternTest, InvalidUtf8SubjectDoesNotBreakMatching) {
  Result<Pattern> p = Pattern::Regex("quota", "i");
  ASSERT_TRUE(p.ok());
  EXPECT_TRUE(p->Matches("\xff\xfe over QUOTA \xc3"));
}

TEST(PatternTest, CatastrophicBacktrackingIsBoundedAndFails) {
  Result<Pattern> p = Pattern::Regex("(a+)+$", "");
  ASSERT_TRUE(p.ok());
  EXPECT_FALSE(p->Matches(std::string(40, 'a') + "!"));
}

}  // namespace
}  // namespace bm
