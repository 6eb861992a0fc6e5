#include "rules/literal_prefilter.h"

#include <gtest/gtest.h>

#include "rules/default_rules.h"
#include "rules/rule_parser.h"

namespace bm {
namespace {

std::vector<std::string> Texts(std::string_view re, std::string_view flags = "i") {
  std::vector<std::string> out;
  auto literals = RequiredLiterals(re, flags);
  if (!literals) return {"<none>"};
  for (const RequiredLiteral& l : *literals) out.push_back(l.text);
  return out;
}

TEST(RequiredLiteralsTest, LongestRequiredRunPerAlternative) {
  EXPECT_EQ(Texts("Over Quota|disk full"), (std::vector<std::string>{"disk full", "over quota"}));
  EXPECT_EQ(Texts("relay+ing denied"), (std::vector<std::string>{"ing denied"}));
  EXPECT_EQ(Texts("\\bspf\\b.{0,80}fail"), (std::vector<std::string>{"fail"}));
  EXPECT_EQ(Texts("5\\.1\\.1 [a-z]+ rejected"), (std::vector<std::string>{" rejected"}));
  EXPECT_EQ(Texts("abcd{0,3}e"), (std::vector<std::string>{"abc"}));
}

// Optional parts, small groups and classes are spelled out; a set of
// literals stands for an alternative when one of them must occur.
TEST(RequiredLiteralsTest, SpellsOutGroupsAndOptionalParts) {
  EXPECT_EQ(Texts("mail ?box"), (std::vector<std::string>{"mail box", "mailbox"}));
  EXPECT_EQ(Texts("(user|recipient)"), (std::vector<std::string>{"recipient", "user"}));
  EXPECT_EQ(Texts("recogni[sz]ed"), (std::vector<std::string>{"recognised", "recognized"}));
  EXPECT_EQ(Texts("(?:no|bad) (?<what>user|host)s?"),
            (std::vector<std::string>{"bad host", "bad user", "no host", "no user"}));
  // A lookaround matches no text; the literal is what follows it.
  EXPECT_EQ(Texts("(?<!not )listed (in|at)"), (std::vector<std::string>{"listed at", "listed in"}));
  // Too many combinations: the group is a set of its own, the longer runs win.
  EXPECT_EQ(Texts("\\b(aaa|bbb|ccc|ddd|eee)(fff|ggg|hhh|iii|jjj)\\b"),
            (std::vector<std::string>{"aaa", "bbb", "ccc", "ddd", "eee"}));
  EXPECT_EQ(Texts("(ab|cd)+xyz"), (std::vector<std::string>{"xyz"}));
  EXPECT_EQ(Texts("(abc|def)+x"), (std::vector<std::string>{"abc", "def"}));
  EXPECT_EQ(Texts("(ab|cd){0,2}efg"), (std::vector<std::string>{"efg"}));
  // A member that contains another adds nothing.
  EXPECT_EQ(Texts("header|(a|b)header"), (std::vector<std::string>{"header"}));
}

// Each literal costs a check per recipient: a single literal of 8 bytes or
// more (all 6 trigrams checked) beats a set of longer ones.
TEST(RequiredLiteralsTest, PrefersFewLongLiterals) {
  EXPECT_EQ(Texts("mailbox (is )?full"), (std::vector<std::string>{"mailbox "}));
  EXPECT_EQ(Texts("(user|recipient) unknown"), (std::vector<std::string>{" unknown"}));
  EXPECT_EQ(Texts("mailbox (is )?quarantined"), (std::vector<std::string>{"quarantined"}));
  EXPECT_EQ(Texts("user unknown?x"), (std::vector<std::string>{"user unknow"}));
}

TEST(RequiredLiteralsTest, GivesUpWhenUnsure) {
  EXPECT_EQ(Texts("full|ab"), (std::vector<std::string>{"<none>"}));  // too short
  EXPECT_EQ(Texts("(user|recipient)?"), (std::vector<std::string>{"<none>"}));
  EXPECT_EQ(Texts("\\x{41}bcdef"), (std::vector<std::string>{"<none>"}));
  EXPECT_EQ(Texts("\\Quser\\E unknown"), (std::vector<std::string>{"<none>"}));
  EXPECT_EQ(Texts("(a\\Q)\\E|)bcdef"), (std::vector<std::string>{"<none>"}));
  EXPECT_EQ(Texts("user unknown", "ix"), (std::vector<std::string>{"<none>"}));
  EXPECT_EQ(Texts("(?x) user unknown"), (std::vector<std::string>{"<none>"}));
  EXPECT_EQ(Texts("(*UTF)user unknown"), (std::vector<std::string>{"<none>"}));
  // (*ACCEPT) ends the match before "bcdef".
  EXPECT_EQ(Texts("(a(*ACCEPT))bcdef"), (std::vector<std::string>{"<none>"}));
  // Not a quantifier: '{' is a literal here, and "|" really separates.
  EXPECT_EQ(Texts("abc{x|yz}"), (std::vector<std::string>{"<none>"}));
  EXPECT_EQ(Texts("(?#a)bcdef"), (std::vector<std::string>{"<none>"}));
  // What a group does not understand is unknown text, not a failure.
  EXPECT_EQ(Texts("(\\x{41}|b)cdef"), (std::vector<std::string>{"cdef"}));
  EXPECT_EQ(Texts("(?x: a b )cdef"), (std::vector<std::string>{"<none>"}));
  EXPECT_EQ(Texts("(a(?x) b )cdef"), (std::vector<std::string>{"cdef"}));
}

TEST(TrigramSetTest, NeverDeniesALiteralThatOccurs) {
  const std::string subject = "550 5.1.1 <kijitora@example.jp>: Recipient address rejected: USER UNKNOWN";
  TrigramSet grams(subject);
  for (std::string re : {"user unknown", "recipient address", "kijitora@", "5\\.1\\.1 <"}) {
    auto literals = RequiredLiterals(re, "i");
    ASSERT_TRUE(literals.has_value()) << re;
    EXPECT_TRUE(grams.MayContain((*literals)[0])) << re;
  }
  auto absent = RequiredLiterals("mailbox is full", "i");
  ASSERT_TRUE(absent.has_value());
  EXPECT_FALSE(grams.MayContain((*absent)[0]));
  EXPECT_FALSE(TrigramSet("ab").MayContain((*absent)[0]));
}

// The prefilter must never change a result: every regex of the default table
// gives the same answer with and without it on real diagnostics.
TEST(LiteralPrefilterTest, DefaultTableAgreesWithAndWithoutPrefilter) {
  Result<RuleSet> set = ParseRules(DefaultRulesText(), "default.rules");
  ASSERT_TRUE(set.ok()) << set.status().message();
  const char* kTexts[] = {
      "550 5.1.1 <kijitora@example.jp>... User Unknown",
      "552 5.2.2 Mailbox Full",
      "554 5.7.1 Client host [192.0.2.1] blocked using zen.spamhaus.org",
      "550 5.7.26 This mail has been blocked because the sender is unauthenticated. Gmail "
      "requires all senders to authenticate with either SPF or DKIM.",
      "connect to mx.example.org[192.0.2.1]:25: Connection timed out",
      "Name service error for name=example.org type=MX: Malformed or unexpected name server reply",
      "550 5.7.1 Connections not accepted from servers without a valid sender domain. Fix "
      "reverse DNS for 203.0.113.2",
      "SMTP error from remote mail server after MAIL FROM:<a@b.example> SIZE=1: 550 Unroutable "
      "sender address",
      "Sorry, I couldn't find a mail exchanger or IP address. (#5.4.4)",
      "554 Transaction failed: Duplicate header 'DKIM-Signature'.",
      "421 4.7.0 [TSS04] Messages from 192.0.2.25 temporarily deferred due to unexpected volume",
      "x", "", "255",
      "552-5.2.2 The recipient's inbox is out of storage space and inactive.",
      "Message will be retried for 2 more day(s)",
      "550 Requested action not taken: mailbox unavailable",
  };
  int regexes = 0;
  for (const char* text : kTexts) {
    TrigramSet grams(text);
    for (const Rule& rule : set->rules) {
      for (const Condition& c : rule.conditions) {
        if (!c.pattern.is_regex()) continue;
        ++regexes;
        EXPECT_EQ(c.pattern.Matches(text), c.pattern.Matches(text, nullptr, &grams))
            << "rule " << rule.id << " " << c.pattern.source() << " on: " << text;
      }
    }
  }
  EXPECT_GT(regexes, 100);
}

}  // namespace
}  // namespace bm
