#include "rules/rule_table.h"

#include <gtest/gtest.h>

#include <atomic>
#include <cstdio>
#include <fstream>
#include <thread>

namespace bm {
namespace {

std::shared_ptr<const RuleTable> Load(std::string_view text) {
  auto r = RuleTable::LoadString(text, "t.rules");
  EXPECT_TRUE(r.ok()) << r.status().message();
  return r.ok() ? *r : nullptr;
}

RuleInput Diag(std::string_view diagnostic, std::string_view status = "",
               std::string_view code = "") {
  RuleInput in;
  in.action = "failed";
  in.diagnostic = diagnostic;
  in.status = status;
  in.reply_code = code;
  return in;
}

TEST(RuleTableTest, DefaultTableLoads) {
  auto loaded = RuleTable::LoadString(RuleTable::DefaultText(), "default.rules");
  ASSERT_TRUE(loaded.ok()) << loaded.status().message();
  EXPECT_GT((*loaded)->size(), 0u);
  EXPECT_EQ(RuleTable::Default()->size(), (*loaded)->size());
}

TEST(RuleTableTest, EmptyPathMeansDefaultTable) {
  auto table = RuleTable::LoadFileOrDefault("");
  ASSERT_TRUE(table.ok()) << table.status().message();
  EXPECT_EQ(table->get(), RuleTable::Default().get());

  auto missing = RuleTable::LoadFileOrDefault("/nonexistent/bounce.rules");
  ASSERT_FALSE(missing.ok());
  EXPECT_NE(missing.status().message().find("/nonexistent/bounce.rules"), std::string::npos);
}

TEST(RuleTableTest, EachFieldCanBeMatched) {
  auto t = Load(
      "reason userunknown hard\n"
      "rule by-kind     kind feedback            => feedback\n"
      "rule by-format   format exim              => mailererror\n"
      "rule by-feedback feedback abuse           => spamdetected\n"
      "rule by-action   action delayed           => expired\n"
      "rule by-command  command DATA             => filtered\n"
      "rule by-status   status 5.1.*             => userunknown\n"
      "rule by-code     code 55?                 => rejected\n"
      "rule by-mta      mta ~ /\\.example\\.net$/  => blocked\n"
      "rule by-diag     diag ~ /over quota/i     => mailboxfull\n");
  ASSERT_TRUE(t);
  RuleInput in = Diag("");
  in.kind = ReportKind::kFeedback;
  EXPECT_EQ(t->Classify(in).rule_id, "by-kind");
  in = Diag("");
  in.format = "exim";
  EXPECT_EQ(t->Classify(in).rule_id, "by-format");
  in = Diag("");
  in.feedback_type = "abuse";
  EXPECT_EQ(t->Classify(in).rule_id, "by-feedback");
  in = Diag("");
  in.action = "delayed";
  EXPECT_EQ(t->Classify(in).rule_id, "by-action");
  in = Diag("");
  in.command = "data";
  EXPECT_EQ(t->Classify(in).rule_id, "by-command");
  EXPECT_EQ(t->Classify(Diag("", "5.1.10")).rule_id, "by-status");
  EXPECT_EQ(t->Classify(Diag("", "", "553")).rule_id, "by-code");
  in = Diag("");
  in.remote_mta = "mx1.example.net";
  EXPECT_EQ(t->Classify(in).rule_id, "by-mta");
  EXPECT_EQ(t->Classify(Diag("User is OVER QUOTA")).rule_id, "by-diag");
  EXPECT_EQ(t->Classify(Diag("something else", "5.7.1")).rule_id, "fallback-permanent");
}

TEST(RuleTableTest, FirstMatchWinsAndAllConditionsMustHold) {
  auto t = Load(
      "rule specific diag ~ /quota/i  code 452  => mailboxfull\n"
      "rule negated  diag ~ /quota/i  diag !~ /exceeded/i => systemfull\n"
      "rule general  diag ~ /quota/i  => exceedlimit\n"
      "rule excluded code != 550,551  diag ~ /denied/ => rejected\n");
  ASSERT_TRUE(t);
  EXPECT_EQ(t->Classify(Diag("quota", "", "452")).rule_id, "specific");
  EXPECT_EQ(t->Classify(Diag("quota", "", "552")).rule_id, "negated");
  EXPECT_EQ(t->Classify(Diag("quota exceeded", "", "552")).rule_id, "general");
  EXPECT_EQ(t->Classify(Diag("denied", "", "554")).rule_id, "excluded");
  EXPECT_EQ(t->Classify(Diag("denied", "", "550")).rule_id, "fallback-permanent");
}

TEST(RuleTableTest, ClassDefaultsFromCodesAndHardFromReason) {
  auto t = Load(
      "reason userunknown hard\n"
      "reason notaccept hard-if-permanent\n"
      "rule unknown  diag ~ /no such user/ => userunknown\n"
      "rule nomx     diag ~ /null MX/ => notaccept\n"
      "rule full     diag ~ /full/ => mailboxfull\n"
      "rule forced   diag ~ /forced/ => mailboxfull permanent hard\n");
  ASSERT_TRUE(t);
  Classification c = t->Classify(Diag("no such user", "4.1.1"));
  EXPECT_EQ(c.bounce_class, BounceClass::kTransient);
  EXPECT_TRUE(c.hard);  // user unknown is hard whatever the class
  c = t->Classify(Diag("null MX", "", "556"));
  EXPECT_EQ(c.bounce_class, BounceClass::kPermanent);
  EXPECT_TRUE(c.hard);
  c = t->Classify(Diag("null MX", "", "450"));
  EXPECT_EQ(c.bounce_class, BounceClass::kTransient);
  EXPECT_FALSE(c.hard);
  c = t->Classify(Diag("full", "5.2.2"));
  EXPECT_EQ(c.bounce_class, BounceClass::kPermanent);
  EXPECT_FALSE(c.hard);
  c = t->Classify(Diag("forced", "4.2.2"));
  EXPECT_EQ(c.bounce_class, BounceClass::kPermanent);
  EXPECT_TRUE(c.hard);
}

TEST(RuleTableTest, FallbackClasses) {
  auto t = Load("reason onhold soft\n");
  ASSERT_TRUE(t);
  RuleInput in = Diag("");
  in.kind = ReportKind::kAutoReply;
  EXPECT_EQ(t->Classify(in).reason, "vacation");
  EXPECT_EQ(t->Classify(in).status, "");
  in.kind = ReportKind::kFeedback;
  EXPECT_EQ(t->Classify(in).reason, "feedback");
  EXPECT_EQ(t->Classify(Diag("ok", "2.0.0")).reason, "delivered");
  EXPECT_EQ(t->Classify(Diag("ok", "2.0.0")).rule_id, "fallback-delivered");

  Classification c = t->Classify(Diag("odd", "5.9.9"));
  EXPECT_EQ(c.reason, "onhold");
  EXPECT_EQ(c.bounce_class, BounceClass::kPermanent);
  EXPECT_EQ(c.rule_id, "fallback-permanent");
  c = t->Classify(Diag("odd", "", "421"));
  EXPECT_EQ(c.bounce_class, BounceClass::kTransient);
  EXPECT_EQ(c.rule_id, "fallback-transient");
  c = t->Classify(Diag(""));
  EXPECT_EQ(c.reason, "undefined");
  EXPECT_EQ(c.rule_id, "fallback-undefined");
  EXPECT_FALSE(c.hard);
}

TEST(RuleTableTest, PseudoStatusWhenNoneFound) {
  auto t = Load(
      "reason greylisted pseudo 990\n"
      "rule unknown diag ~ /no such user/ => userunknown\n"
      "rule grey    diag ~ /greylist/ => greylisted transient\n");
  ASSERT_TRUE(t);
  Classification c = t->Classify(Diag("no such user"));
  EXPECT_EQ(c.status, "5.0.911");
  EXPECT_TRUE(c.status_derived);
  c = t->Classify(Diag("no such user", "", "450"));
  EXPECT_EQ(c.status, "4.0.911");
  c = t->Classify(Diag("no such user", "5.0.0"));
  EXPECT_EQ(c.status, "5.0.0");  // a status found is reported as found
  EXPECT_FALSE(c.status_derived);
  c = t->Classify(Diag("greylisted"));
  EXPECT_EQ(c.reason, "greylisted");  // an extension of the vocabulary
  EXPECT_EQ(c.status, "4.0.990");
  c = t->Classify(Diag("nothing known"));
  EXPECT_EQ(c.status, "5.0.901");  // onhold
}

TEST(RuleTableTest, ExplanationNamesRuleLineAndMatchedText) {
  auto t = Load("\n\nrule full\n  status 5.2.*\n  diag ~ /mailbox (is )?full/i\n  => mailboxfull\n");
  ASSERT_TRUE(t);
  Classification c = t->Classify(Diag("550 Mailbox is full, sorry", "5.2.2"));
  EXPECT_EQ(c.explanation,
            "rule full (line 3): status 5.2.* matched \"5.2.2\", "
            "diag ~ /mailbox (is )?full/i matched \"Mailbox is full\"");
}

TEST(RuleTableTest, LoadFileRejectsWholeFileAndReportsPath) {
  std::string path = ::testing::TempDir() + "/bad.rules";
  {
    std::ofstream f(path);
    f << "rule ok code 550 => rejected\nrule bad diag ~ /(/ => rejected\n";
  }
  auto r = RuleTable::LoadFile(path);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().message().rfind(path + ":2: bad regex", 0), 0u) << r.status().message();
  std::remove(path.c_str());
  EXPECT_FALSE(RuleTable::LoadFile(path).ok());
}

TEST(RuleTableTest, ClassifyReportKeepsFactsAndOrder) {
  BounceReport report;
  report.kind = ReportKind::kDsn;
  report.recipients.resize(2);
  report.recipients[0].address = "a@x";
  report.recipients[0].status = "5.1.1";
  report.recipients[1].address = "b@x";
  report.recipients[1].status = "4.2.2";
  report.recipients[1].smtp_command = "DATA";
  auto t = Load(
      "rule u status 5.1.1 => userunknown\n"
      "rule d command DATA => filtered\n"
      "rule f status 4.2.2 => mailboxfull\n");
  ASSERT_TRUE(t);
  std::vector<ClassifiedRecipient> out = ClassifyReport(report, *t);
  ASSERT_EQ(out.size(), 2u);
  EXPECT_EQ(out[0].facts.address, "a@x");
  EXPECT_EQ(out[0].classification.reason, "userunknown");
  EXPECT_EQ(out[1].classification.reason, "filtered");  // the SMTP command reached the rules
  EXPECT_EQ(out[1].classification.bounce_class, BounceClass::kTransient);
}

TEST(RuleTableTest, ManyThreadsClassifyWithOneTable) {
  auto t = RuleTable::Default();
  const Classification expected = t->Classify(Diag("mailbox full", "5.2.2"));
  std::atomic<int> mismatches{0};
  std::vector<std::thread> threads;
  for (int i = 0; i < 8; ++i) {
    threads.emplace_back([&] {
      for (int j = 0; j < 2000; ++j) {
        Classification c = t->Classify(Diag("mailbox full", "5.2.2"));
        if (c.reason != expected.reason || c.rule_id != expected.rule_id) ++mismatches;
      }
    });
  }
  for (std::thread& th : threads) th.join();
  EXPECT_EQ(mismatches.load(), 0);
}

}  // namespace
}  // namespace bm
