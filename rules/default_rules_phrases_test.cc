// The generalisation check of the default table: realistic diagnostics in the
// wording of many MTAs and providers (rules/testdata/phrases.txt, written
// from their documented phrasing, not taken from the bounce corpus), each
// classified through the embedded default table the way `bouncectl parse`
// does it, and compared with the expected reason, class and hard flag.
#include <gtest/gtest.h>

#include <cstdlib>
#include <set>
#include <sstream>
#include <string>
#include <string_view>
#include <vector>

#include "common/file_util.h"
#include "parser/bounce_report.h"
#include "parser/smtp_codes.h"
#include "rules/reason_vocabulary.h"
#include "rules/rule_table.h"

namespace bm {
namespace {

constexpr std::size_t kMaxPhraseFileBytes = 1 << 20;
constexpr std::size_t kFieldsPerCase = 8;

// One line of phrases.txt.
struct PhraseCase {
  int line = 0;
  std::string mta;
  std::string report;  // DSN action, or "autoreply" / "feedback"
  std::string status;  // "" for '-'
  std::string code;    // "" for '-'
  std::string reason;
  std::string bounce_class;
  bool hard = false;
  std::string diagnostic;
};

std::string_view Trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r')) {
    s.remove_suffix(1);
  }
  return s;
}

std::string DashIsEmpty(std::string_view field) {
  return field == "-" ? std::string() : std::string(field);
}

// Splits "a | b | ... | diagnostic": the last field keeps any further '|'.
Result<PhraseCase> ParseCase(std::string_view text, int line) {
  std::vector<std::string_view> fields;
  while (fields.size() + 1 < kFieldsPerCase) {
    std::size_t bar = text.find('|');
    if (bar == std::string_view::npos) break;
    fields.push_back(Trim(text.substr(0, bar)));
    text.remove_prefix(bar + 1);
  }
  fields.push_back(Trim(text));
  std::string where = "phrases.txt:" + std::to_string(line) + ": ";
  if (fields.size() != kFieldsPerCase) {
    return Status::InvalidArgument(where + "expected " + std::to_string(kFieldsPerCase) +
                                   " '|'-separated fields");
  }
  if (fields[6] != "hard" && fields[6] != "soft") {
    return Status::InvalidArgument(where + "HARD must be 'hard' or 'soft'");
  }
  if (fields[5] != "permanent" && fields[5] != "transient") {
    return Status::InvalidArgument(where + "CLASS must be 'permanent' or 'transient'");
  }
  PhraseCase c;
  c.line = line;
  c.mta = fields[0];
  c.report = fields[1];
  c.status = DashIsEmpty(fields[2]);
  c.code = DashIsEmpty(fields[3]);
  c.reason = fields[4];
  c.bounce_class = fields[5];
  c.hard = fields[6] == "hard";
  c.diagnostic = fields[7];
  return c;
}

std::vector<PhraseCase> LoadCases() {
  const char* source = std::getenv("BM_SOURCE_DIR");
  std::string dir = source != nullptr ? source : ".";
  auto text = ReadFileBounded(dir + "/rules/testdata/phrases.txt", kMaxPhraseFileBytes);
  EXPECT_TRUE(text.ok()) << text.status().message();
  std::vector<PhraseCase> cases;
  if (!text.ok()) return cases;
  std::istringstream in(*text);
  std::string raw;
  for (int line = 1; std::getline(in, raw); ++line) {
    std::string_view l = Trim(raw);
    if (l.empty() || l.front() == '#') continue;
    auto parsed = ParseCase(l, line);
    EXPECT_TRUE(parsed.ok()) << parsed.status().message();
    if (parsed.ok()) cases.push_back(std::move(*parsed));
  }
  return cases;
}

// The report the parser would hand to the rules for this diagnostic.
BounceReport ReportFor(const PhraseCase& c) {
  BounceReport report;
  report.kind = c.report == "autoreply"  ? ReportKind::kAutoReply
                : c.report == "feedback" ? ReportKind::kFeedback
                                         : ReportKind::kDsn;
  RecipientResult r;
  r.address = "recipient@example.org";
  if (report.kind == ReportKind::kDsn) r.action = c.report;
  r.status = c.status;
  r.reply_code = c.code;
  r.diagnostic = c.diagnostic;
  RefineCodesFromDiagnostic(r);
  r.smtp_command = SmtpCommandIn(r.diagnostic);
  report.recipients.push_back(std::move(r));
  return report;
}

TEST(DefaultRulesPhrasesTest, TableIsLargeAndCoversEveryReason) {
  std::vector<PhraseCase> cases = LoadCases();
  EXPECT_GE(cases.size(), 150u);
  std::set<std::string> covered;
  for (const PhraseCase& c : cases) covered.insert(c.reason);
  const ReasonVocabulary vocabulary = ReasonVocabulary::BuiltIn();
  for (const ReasonInfo& word : vocabulary.words()) {
    EXPECT_TRUE(covered.count(word.name)) << "no phrase case for reason " << word.name;
  }
}

TEST(DefaultRulesPhrasesTest, EveryPhraseGetsItsReasonClassAndHardFlag) {
  std::vector<PhraseCase> cases = LoadCases();
  ASSERT_FALSE(cases.empty());
  auto table = RuleTable::Default();
  std::size_t passed = 0;
  for (const PhraseCase& c : cases) {
    std::vector<ClassifiedRecipient> got = ClassifyReport(ReportFor(c), *table);
    ASSERT_EQ(got.size(), 1u);
    const Classification& k = got[0].classification;
    bool ok = k.reason == c.reason && BounceClassName(k.bounce_class) == c.bounce_class &&
              k.hard == c.hard;
    EXPECT_TRUE(ok) << "phrases.txt:" << c.line << " (" << c.mta << "): \"" << c.diagnostic
                    << "\"\n  expected " << c.reason << " " << c.bounce_class << " "
                    << (c.hard ? "hard" : "soft") << ", got " << k.reason << " "
                    << BounceClassName(k.bounce_class) << " " << (k.hard ? "hard" : "soft")
                    << " by rule " << k.rule_id;
    if (ok) ++passed;
  }
  std::printf("default rules: %zu of %zu phrase cases classified as expected\n", passed,
              cases.size());
}

}  // namespace
}  // namespace bm
