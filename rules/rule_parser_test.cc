#include "rules/rule_parser.h"

#include <gtest/gtest.h>

namespace bm {
namespace {

bool StartsWith(const std::string& s, const std::string& prefix) { return s.rfind(prefix, 0) == 0; }

// The error message of parsing text, or "" when it parses.
std::string ErrorOf(std::string_view text) {
  Result<RuleSet> r = ParseRules(text, "t.rules");
  return r.ok() ? "" : r.status().message();
}

TEST(RuleParserTest, ParsesRulesReasonsAndContinuations) {
  Result<RuleSet> r = ParseRules(
      "# comment\n"
      "reason userunknown hard\n"
      "reason greylisted soft pseudo 990\n"
      "\n"
      "rule a status 5.1.1 => userunknown   # trailing comment\n"
      "rule b\n"
      "    diag ~ /grey ?list(ed|ing)/i   # why\n"
      "    code 45?\n"
      "    => greylisted transient\n",
      "t.rules");
  ASSERT_TRUE(r.ok()) << r.status().message();
  ASSERT_EQ(r->rules.size(), 2u);
  EXPECT_EQ(r->rules[0].id, "a");
  EXPECT_EQ(r->rules[0].line, 5);
  EXPECT_EQ(r->rules[1].line, 6);
  EXPECT_EQ(r->rules[1].reason, "greylisted");
  EXPECT_EQ(r->rules[1].bounce_class, BounceClass::kTransient);
  EXPECT_FALSE(r->rules[1].hard.has_value());
  // Cheap glob conditions are tested before the regex.
  ASSERT_EQ(r->rules[1].conditions.size(), 2u);
  EXPECT_EQ(r->rules[1].conditions[0].field, Field::kCode);
  EXPECT_EQ(r->rules[1].conditions[1].field, Field::kDiag);
  const ReasonInfo* grey = r->vocabulary.Find("greylisted");
  ASSERT_NE(grey, nullptr);
  EXPECT_EQ(grey->pseudo, 990);
  EXPECT_EQ(r->vocabulary.Find("userunknown")->hard, HardWhen::kAlways);
}

TEST(RuleParserTest, RegexMayContainHashAndEscapedSlash) {
  Result<RuleSet> r = ParseRules("rule a diag ~ /#5\\.1\\.1 and\\/or x/ => userunknown\n", "t");
  ASSERT_TRUE(r.ok()) << r.status().message();
  RuleInput in;
  in.diagnostic = "error #5.1.1 and/or x";
  EXPECT_TRUE(r->rules[0].Matches(in, nullptr));
}

TEST(RuleParserTest, ErrorsNameFileAndLine) {
  EXPECT_PRED2(StartsWith, ErrorOf("\n\nrule a reson 5.1.1 => userunknown\n"),
            "t.rules:3: unknown field 'reson'");
  EXPECT_EQ(ErrorOf("rule a diag ~ /x/ => nosuchreason\n"),
            "t.rules:1: unknown reason 'nosuchreason' (declare it first with a 'reason' line)");
  EXPECT_EQ(ErrorOf("rule a status 5.1.1 => userunknown\n#\nrule a code 550 => rejected\n"),
            "t.rules:3: duplicate rule id 'a' (first at line 1)");
  EXPECT_EQ(ErrorOf("rules a => x\n"),
            "t.rules:1: unknown statement 'rules' (expected 'rule' or 'reason')");
  EXPECT_EQ(ErrorOf("  diag ~ /x/\n"), "t.rules:1: indented line continues no rule");
  EXPECT_EQ(ErrorOf("rule a diag ~ /x(/i => rejected\n").substr(0, 33),
            "t.rules:1: bad regex /x(/: missin");
  EXPECT_NE(ErrorOf("rule a diag ~ /x(/i => rejected\n").find("at offset 2"), std::string::npos);
  EXPECT_EQ(ErrorOf("rule a diag ~ /x => rejected\n"),
            "t.rules:1: unterminated regex (missing closing '/')");
  EXPECT_EQ(ErrorOf("rule a diag ~ x => rejected\n"), "t.rules:1: expected /regex/ after '~'");
  EXPECT_EQ(ErrorOf("rule a diag /x/ => rejected\n"),
            "t.rules:1: a /regex/ needs '~' or '!~' before it");
  EXPECT_EQ(ErrorOf("rule a status 5.1.1\n"), "t.rules:1: rule 'a' has no '=> REASON'");
  EXPECT_EQ(ErrorOf("rule a status 5.1.1 =>\n"), "t.rules:1: '=>' needs a reason");
  EXPECT_PRED2(StartsWith, ErrorOf("rule a\n  status 5-1-1\n  => userunknown\n"),
            "t.rules:2: status '5-1-1' is n");
  EXPECT_PRED2(StartsWith, ErrorOf("rule a code 5xx => userunknown\n"),
            "t.rules:1: reply code '5xx' is");
  EXPECT_PRED2(StartsWith, ErrorOf("rule a kind bounce => userunknown\n"),
            "t.rules:1: unknown kind 'bounce'");
  EXPECT_EQ(ErrorOf("rule a code 550 => rejected hard soft\n"), "t.rules:1: hard/soft given twice");
  EXPECT_PRED2(StartsWith, ErrorOf("rule a code 550 => rejected loud\n"),
            "t.rules:1: unexpected 'loud' ");
  EXPECT_EQ(ErrorOf("rule fallback-x code 550 => rejected\n"),
            "t.rules:1: rule ids beginning with 'fallback' are reserved");
  EXPECT_PRED2(StartsWith, ErrorOf("rule a/b code 550 => rejected\n"), "t.rules:1: bad rule id 'a/b'");
  EXPECT_EQ(ErrorOf("reason x\nreason x\n"), "t.rules:2: reason 'x' declared twice (first at line 1)");
  EXPECT_EQ(ErrorOf("reason x pseudo 12\n"), "t.rules:1: pseudo status detail must be 900..999, not '12'");
  EXPECT_PRED2(StartsWith, ErrorOf("reason X\n"), "t.rules:1: bad reason name 'X'");
  EXPECT_PRED2(StartsWith, ErrorOf("reason x loud\n"), "t.rules:1: unknown reason attribute 'loud'");
  EXPECT_EQ(ErrorOf("rule a diag ~ /x/q => rejected\n"),
            "t.rules:1: unknown regex flag 'q' (known: i, x)");
}

TEST(RuleParserTest, ReasonMustBeDeclaredBeforeUse) {
  EXPECT_PRED2(StartsWith, ErrorOf("rule a code 550 => greylisted\nreason greylisted\n"),
            "t.rules:1: unknown reason 'greylisted' (");
}

TEST(RuleParserTest, CrLfLinesAreAccepted) {
  Result<RuleSet> r = ParseRules("rule a code 550\r\n  => rejected\r\n", "t");
  ASSERT_TRUE(r.ok()) << r.status().message();
  EXPECT_EQ(r->rules.size(), 1u);
}

TEST(RuleParserTest, LimitsAreEnforcedWithLineNumbers) {
  RulesLimits limits;
  limits.max_rules = 2;
  Result<RuleSet> r = ParseRules("rule a code 1 => rejected\nrule b code 2 => rejected\n"
                                 "rule c code 3 => rejected\n",
                                 "t", limits);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), Status::Code::kLimitExceeded);
  EXPECT_EQ(r.status().message(), "t:3: more than 2 rules");

  limits = RulesLimits();
  limits.max_line_bytes = 10;
  r = ParseRules("# short\n# this line is too long\n", "t", limits);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().message(), "t:2: line longer than 10 bytes");
}

}  // namespace
}  // namespace bm
