#include "auth/bounce_verifier.h"

#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "auth/test_util.h"

namespace bm {
namespace {

using testing::DaysLater;
using testing::TestNow;
using Ledger = std::optional<std::vector<std::string>>;

constexpr const char* kAlice = "alice@example.net";
constexpr const char* kBob = "bob@example.net";

RecipientResult Failed(const std::string& address, const std::string& status = "5.1.1") {
  RecipientResult r;
  r.address = address;
  r.action = "failed";
  r.status = status;
  return r;
}

BounceReport Dsn(std::vector<RecipientResult> recipients, std::string message_id = "m1@example.com") {
  BounceReport report;
  report.kind = ReportKind::kDsn;
  report.recipients = std::move(recipients);
  report.original.message_id = std::move(message_id);
  return report;
}

class BounceVerifierTest : public ::testing::Test {
 protected:
  BounceVerifierTest() : codec_(std::make_shared<ReturnPathCodec>(testing::TwoKeyRing(),
                                                                   ReturnPathOptions{})) {}

  std::string Verp(const std::string& recipient) {
    return *codec_->Sign("news@example.com", {recipient}, TestNow());
  }
  std::string PerMessage() {
    return *codec_->Sign("news@example.com", {kAlice, kBob}, TestNow());
  }
  std::string Forged() {
    std::string a = Verp(kAlice);
    a[12] = a[12] == 'a' ? 'b' : 'a';
    return a;
  }

  Verification Run(const std::vector<std::string>& envelope, const BounceReport& report,
                   const Ledger& ledger, VerifierOptions options = {},
                   std::chrono::system_clock::time_point now = TestNow()) {
    BounceVerifier verifier(codec_, options);
    return verifier.Verify(verifier.CheckEnvelope(envelope, now), report, ledger);
  }

  std::shared_ptr<const ReturnPathCodec> codec_;
};

// The policy table: one row per (envelope, report, ledger, options) situation.
TEST_F(BounceVerifierTest, PolicyTable) {
  VerifierOptions accept_unverified;
  accept_unverified.unverified = Disposition::kRecord;
  VerifierOptions strict_per_message;
  strict_per_message.per_message_requires_ledger = true;

  struct Row {
    const char* name;
    std::vector<std::string> envelope;
    BounceReport report;
    Ledger ledger;
    VerifierOptions options;
    Trust message_verdict;
    Evidence evidence;
    Trust recipient_verdict;
    Disposition disposition;
  } rows[] = {
      {"verp tag", {Verp(kAlice)}, Dsn({Failed(kAlice)}), {}, {},
       Trust::kVerified, Evidence::kVerpTag, Trust::kVerified, Disposition::kRecord},
      {"verp tag, ledger disagrees", {Verp(kAlice)}, Dsn({Failed(kAlice)}), Ledger{{kBob}}, {},
       Trust::kVerified, Evidence::kVerpTag, Trust::kVerified, Disposition::kRecord},
      {"forged tag", {Forged()}, Dsn({Failed(kAlice)}), {}, {},
       Trust::kForged, Evidence::kBadTag, Trust::kForged, Disposition::kLogOnly},
      {"forged tag, ledger agrees", {Forged()}, Dsn({Failed(kAlice)}), Ledger{{kAlice}}, {},
       Trust::kForged, Evidence::kBadTag, Trust::kForged, Disposition::kLogOnly},
      {"forged tag, unverified accepted", {Forged()}, Dsn({Failed(kAlice)}), {},
       accept_unverified, Trust::kForged, Evidence::kBadTag, Trust::kForged,
       Disposition::kLogOnly},
      {"no tag, ledger lists", {"bounces@example.com"}, Dsn({Failed(kAlice)}), Ledger{{kAlice}},
       {}, Trust::kVerified, Evidence::kLedger, Trust::kVerified, Disposition::kRecord},
      {"no tag, ledger lists other", {"bounces@example.com"}, Dsn({Failed(kAlice)}),
       Ledger{{kBob}}, {}, Trust::kUnverified, Evidence::kNone, Trust::kUnverified,
       Disposition::kLogOnly},
      {"no tag, no ledger", {"news@example.com"}, Dsn({Failed(kAlice)}), {}, {},
       Trust::kUnverified, Evidence::kNone, Trust::kUnverified, Disposition::kLogOnly},
      {"no tag, no ledger, accept as today", {"news@example.com"}, Dsn({Failed(kAlice)}), {},
       accept_unverified, Trust::kUnverified, Evidence::kNone, Trust::kUnverified,
       Disposition::kRecord},
      {"per-message tag, no ledger", {PerMessage()}, Dsn({Failed(kAlice)}), {}, {},
       Trust::kVerified, Evidence::kPerMessageTag, Trust::kVerified, Disposition::kRecord},
      {"per-message tag, no ledger, ledger required", {PerMessage()}, Dsn({Failed(kAlice)}), {},
       strict_per_message, Trust::kVerified, Evidence::kPerMessageTag, Trust::kUnverified,
       Disposition::kLogOnly},
      {"per-message tag, ledger lists", {PerMessage()}, Dsn({Failed(kAlice)}),
       Ledger{{"ALICE@example.net", kBob}}, strict_per_message, Trust::kVerified,
       Evidence::kPerMessageTag, Trust::kVerified, Disposition::kRecord},
      {"per-message tag, ledger lists other", {PerMessage()}, Dsn({Failed(kAlice)}),
       Ledger{{kBob}}, {}, Trust::kVerified, Evidence::kPerMessageTag, Trust::kUnverified,
       Disposition::kLogOnly},
  };
  for (const Row& row : rows) {
    SCOPED_TRACE(row.name);
    Verification v = Run(row.envelope, row.report, row.ledger, row.options);
    EXPECT_EQ(TrustName(v.verdict), TrustName(row.message_verdict));
    EXPECT_EQ(EvidenceName(v.evidence), EvidenceName(row.evidence));
    EXPECT_FALSE(v.reject);
    ASSERT_EQ(v.recipients.size(), 1u);
    EXPECT_EQ(v.recipients[0].facts.address, kAlice);
    EXPECT_EQ(TrustName(v.recipients[0].verdict), TrustName(row.recipient_verdict));
    EXPECT_EQ(DispositionName(v.recipients[0].disposition), DispositionName(row.disposition));
    EXPECT_FALSE(v.detail.empty());
  }
}

TEST_F(BounceVerifierTest, ExpiredTagIsUnverifiedUnlessTheLedgerConfirms) {
  std::vector<std::string> envelope = {Verp(kAlice)};
  Verification old = Run(envelope, Dsn({Failed(kAlice)}), {}, {}, DaysLater(30));
  EXPECT_EQ(old.verdict, Trust::kUnverified);
  EXPECT_EQ(old.evidence, Evidence::kExpiredTag);
  EXPECT_EQ(old.recipients[0].disposition, Disposition::kLogOnly);
  EXPECT_NE(old.detail.find("30 days old"), std::string::npos) << old.detail;

  Verification confirmed = Run(envelope, Dsn({Failed(kAlice)}), Ledger{{kAlice}}, {},
                               DaysLater(30));
  EXPECT_EQ(confirmed.verdict, Trust::kVerified);
  EXPECT_EQ(confirmed.evidence, Evidence::kLedger);
  EXPECT_EQ(confirmed.recipients[0].disposition, Disposition::kRecord);
}

TEST_F(BounceVerifierTest, ForgedMayBeRejectedAtEndOfData) {
  VerifierOptions options;
  options.reject_forged = true;
  Verification v = Run({Forged()}, Dsn({Failed(kAlice)}), {}, options);
  EXPECT_EQ(v.verdict, Trust::kForged);
  EXPECT_TRUE(v.reject);
  EXPECT_NE(v.detail.find("tag does not match"), std::string::npos) << v.detail;
  // Not forged, not rejected.
  EXPECT_FALSE(Run({"x@example.com"}, Dsn({Failed(kAlice)}), {}, options).reject);
  EXPECT_FALSE(Run({Verp(kAlice)}, Dsn({Failed(kAlice)}), {}, options).reject);
}

TEST_F(BounceVerifierTest, VerpRecipientIsAuthoritative) {
  // The report names nobody: the tag supplies the recipient.
  Verification none = Run({Verp(kAlice)}, Dsn({}), {});
  ASSERT_EQ(none.recipients.size(), 1u);
  EXPECT_EQ(none.recipients[0].facts.address, kAlice);
  EXPECT_EQ(none.recipients[0].disposition, Disposition::kRecord);

  // The report names a forwarding target: its facts, the tag's address.
  Verification other = Run({Verp(kAlice)}, Dsn({Failed("alice@forward.example", "5.2.2")}), {});
  ASSERT_EQ(other.recipients.size(), 1u);
  EXPECT_EQ(other.recipients[0].facts.address, kAlice);
  EXPECT_EQ(other.recipients[0].facts.original_address, "alice@forward.example");
  EXPECT_EQ(other.recipients[0].facts.status, "5.2.2");

  // The report names the recipient and others: only the tagged one is acted on.
  RecipientResult delayed = Failed("carol@example.org", "4.4.1");
  delayed.action = "delayed";
  Verification many = Run({Verp(kAlice)}, Dsn({delayed, Failed("ALICE@example.net", "5.1.1")}), {});
  ASSERT_EQ(many.recipients.size(), 1u);
  EXPECT_EQ(many.recipients[0].facts.address, kAlice);
  EXPECT_EQ(many.recipients[0].facts.status, "5.1.1");
  EXPECT_TRUE(many.recipients[0].facts.original_address.empty());
}

TEST_F(BounceVerifierTest, LedgerConfirmsOnlyTheRecipientsItLists) {
  RecipientResult forwarded = Failed("alias@example.org");
  forwarded.original_address = kBob;
  Verification v = Run({"bounces@example.com"},
                       Dsn({Failed(kAlice), Failed("mallory@example.org"), forwarded}),
                       Ledger{{kAlice, "BOB@EXAMPLE.NET"}});
  EXPECT_EQ(v.verdict, Trust::kVerified);
  ASSERT_EQ(v.recipients.size(), 3u);
  EXPECT_EQ(v.recipients[0].verdict, Trust::kVerified);
  EXPECT_EQ(v.recipients[1].verdict, Trust::kUnverified);
  EXPECT_EQ(v.recipients[1].disposition, Disposition::kLogOnly);
  EXPECT_EQ(v.recipients[2].verdict, Trust::kVerified);  // by its Original-Recipient
  EXPECT_NE(v.detail.find("ledger lists 2 of 3"), std::string::npos) << v.detail;
}

// With SentLedger queue-id the entry is found through a returned Received
// queue id: a bounce that returns no Message-ID is still described by what
// the ledger lists.
TEST_F(BounceVerifierTest, LedgerDetailWithoutMessageId) {
  BounceReport report = Dsn({Failed(kAlice)});
  report.original.message_id.clear();
  Verification v = Run({"bounces@example.com"}, report, Ledger{{kAlice}});
  EXPECT_EQ(v.verdict, Trust::kVerified);
  EXPECT_NE(v.detail.find("ledger lists 1 of 1 recipient(s)"), std::string::npos) << v.detail;
  EXPECT_EQ(v.detail.find("no Message-ID"), std::string::npos) << v.detail;
}

TEST_F(BounceVerifierTest, EnvelopeCheck) {
  BounceVerifier verifier(codec_, {});
  EnvelopeCheck plain = verifier.CheckEnvelope({"postmaster@example.com"}, TestNow());
  EXPECT_EQ(plain.verdict, Trust::kUnverified);
  EXPECT_EQ(plain.evidence, Evidence::kNone);
  EXPECT_TRUE(plain.signed_addresses.empty());

  // A valid tag beside a forged one wins; duplicates collapse.
  EnvelopeCheck mixed = verifier.CheckEnvelope(
      {Forged(), Verp(kAlice), "<" + Verp(kAlice) + ">", Verp(kBob)}, TestNow());
  EXPECT_EQ(mixed.verdict, Trust::kVerified);
  EXPECT_EQ(mixed.evidence, Evidence::kVerpTag);
  EXPECT_EQ(mixed.verp_recipients, (std::vector<std::string>{kAlice, kBob}));
  EXPECT_EQ(mixed.signed_addresses.size(), 4u);

  EnvelopeCheck forged = verifier.CheckEnvelope({"x@example.com", Forged()}, TestNow());
  EXPECT_EQ(forged.verdict, Trust::kForged);
}

TEST_F(BounceVerifierTest, WithoutKeysOnlyTheLedgerVerifies) {
  BounceVerifier verifier(nullptr, {});
  EXPECT_EQ(verifier.codec(), nullptr);
  EnvelopeCheck env = verifier.CheckEnvelope({Verp(kAlice), Forged()}, TestNow());
  EXPECT_EQ(env.verdict, Trust::kUnverified);
  EXPECT_EQ(env.evidence, Evidence::kNone);
  EXPECT_EQ(verifier.Verify(env, Dsn({Failed(kAlice)}), Ledger{{kAlice}}).verdict,
            Trust::kVerified);
  EXPECT_EQ(verifier.Verify(env, Dsn({Failed(kAlice)}), {}).recipients[0].disposition,
            Disposition::kLogOnly);
}

TEST_F(BounceVerifierTest, ForgedBounceActsOnNobodyWhateverItClaims) {
  Verification v = Run({Forged()}, Dsn({Failed(kAlice), Failed(kBob)}), Ledger{{kAlice, kBob}});
  ASSERT_EQ(v.recipients.size(), 2u);
  for (const VerifiedRecipient& r : v.recipients) {
    EXPECT_EQ(r.verdict, Trust::kForged);
    EXPECT_EQ(r.disposition, Disposition::kLogOnly);
  }
}

TEST_F(BounceVerifierTest, DetailSaysWhyUnverified) {
  EXPECT_NE(Run({"a@example.com"}, Dsn({Failed(kAlice)}, ""), {}).detail.find("no Message-ID"),
            std::string::npos);
  EXPECT_NE(Run({"a@example.com"}, Dsn({Failed(kAlice)}), {}).detail.find("not in the ledger"),
            std::string::npos);
}

}  // namespace
}  // namespace bm
