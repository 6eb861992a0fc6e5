// The filter's decisions, driven through the MtaSession seam with a real
// store (LMDB in a temp dir), the real parser and the embedded rules.
#include "milter/filter.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <map>

#include <gtest/gtest.h>

#include "milter/milter_test_util.h"
#include "milter/recording_session.h"
#include "parser/parser.h"

namespace bm {
namespace {

constexpr std::int64_t kNow = milter_test::kFixtureNow;

sockaddr_in Ipv4(const char* text) {
  sockaddr_in a{};
  a.sin_family = AF_INET;
  inet_pton(AF_INET, text, &a.sin_addr);
  return a;
}

using milter_test::Dsn;

class FilterTest : public milter_test::FilterFixture {
 protected:
  std::unique_ptr<ConnectionContext> Connect(const char* ip) {
    sockaddr_in a = Ipv4(ip);
    return filter_->OnConnect("client.test", reinterpret_cast<sockaddr*>(&a));
  }

  // Feeds a whole raw message (headers, then body) and returns the EOM verdict.
  Verdict SendMessage(ConnectionContext& c, const std::string& raw) {
    std::size_t end = raw.find("\r\n\r\n");
    std::string_view headers(raw.data(), end + 2);
    while (!headers.empty()) {
      std::size_t nl = headers.find("\r\n");
      std::string_view line = headers.substr(0, nl);
      std::size_t colon = line.find(':');
      EXPECT_EQ(filter_->OnHeader(c, line.substr(0, colon), line.substr(colon + 2)),
                Verdict::kContinue);
      headers.remove_prefix(nl + 2);
    }
    Verdict v = filter_->OnEndOfHeaders(c, mta_);
    if (v != Verdict::kContinue) return v;
    v = filter_->OnBody(c, mta_, std::string_view(raw).substr(end + 4));
    if (v != Verdict::kContinue) return v;
    return filter_->OnEndOfMessage(c, mta_);
  }

  RecipientStatus Status(const std::string& address) {
    Result<RecipientStatus> s = store_->Check(address, kNow);
    EXPECT_TRUE(s.ok()) << s.status().ToString();
    return s.ok() ? *s : RecipientStatus();
  }

  // Records a hard bounce for address through the inbound path.
  void Suppress(const std::string& address) {
    auto c = Connect("203.0.113.5");
    ASSERT_EQ(filter_->OnEnvFrom(*c, mta_, "<>"), Verdict::kContinue);
    ASSERT_EQ(filter_->OnEnvRcpt(*c, mta_, "<news@mta.test>"), Verdict::kContinue);
    ASSERT_EQ(SendMessage(*c, Dsn(address, "5.1.1", "550 5.1.1 user unknown")),
              Verdict::kAccept);
    ASSERT_TRUE(Status(address).refused);
    mta_ = RecordingSession();
  }

  RecordingSession mta_;
};

TEST_F(FilterTest, BounceIsRecordedAndTagged) {
  auto c = Connect("127.0.0.1");
  EXPECT_EQ(filter_->OnEnvFrom(*c, mta_, ""), Verdict::kContinue);  // Postfix's own DSN
  EXPECT_EQ(filter_->OnEnvRcpt(*c, mta_, "news@mta.test"), Verdict::kContinue);
  EXPECT_EQ(SendMessage(*c, Dsn("gone@remote.test", "5.1.1", "550 5.1.1 User unknown")),
            Verdict::kAccept);
  ASSERT_EQ(mta_.headers.size(), 1u);
  EXPECT_EQ(mta_.headers[0].first, "X-Bounce-Classification");
  EXPECT_NE(mta_.headers[0].second.find("recipient=gone@remote.test; reason=userunknown; "
                                        "class=permanent; hard=yes"),
            std::string::npos)
      << mta_.headers[0].second;
  RecipientStatus s = Status("gone@remote.test");
  EXPECT_TRUE(s.refused);
  EXPECT_FALSE(s.temporary);
  EXPECT_EQ(s.reason, "userunknown");
}

TEST_F(FilterTest, OutboundSuppressedRecipientIsRefusedOthersPass) {
  Suppress("gone@remote.test");
  auto c = Connect("127.0.0.1");
  ASSERT_EQ(filter_->OnEnvFrom(*c, mta_, "<news@mta.test>"), Verdict::kContinue);
  EXPECT_EQ(filter_->OnEnvRcpt(*c, mta_, "<GONE@Remote.test>"), Verdict::kReject);
  ASSERT_EQ(mta_.replies.size(), 1u);
  EXPECT_EQ(mta_.replies[0].rcode, "550");
  EXPECT_EQ(mta_.replies[0].xcode, "5.1.1");
  EXPECT_EQ(mta_.replies[0].text,
            "<GONE@Remote.test>: recipient suppressed (userunknown since 2025-11-22)");
  EXPECT_EQ(filter_->OnEnvRcpt(*c, mta_, "<fine@remote.test>"), Verdict::kContinue);
  EXPECT_EQ(mta_.replies.size(), 1u);
}

// Postfix's cleanup runs the milters of sendmail(1)/pickup mail; it knows the
// queue id at MAIL FROM and cannot take a refused recipient.
TEST_F(FilterTest, NonSmtpMailHasSuppressedRecipientsRemoved) {
  Suppress("gone@remote.test");
  auto c = Connect("127.0.0.1");
  mta_.macros = {{"v", "Postfix 3.7.11"}, {"i", "4Q1A2B3C"}};
  ASSERT_EQ(filter_->OnEnvFrom(*c, mta_, "news@mta.test"), Verdict::kContinue);
  EXPECT_EQ(filter_->OnEnvRcpt(*c, mta_, "gone@remote.test"), Verdict::kContinue);
  EXPECT_EQ(filter_->OnEnvRcpt(*c, mta_, "fine@remote.test"), Verdict::kContinue);
  EXPECT_TRUE(mta_.replies.empty());
  EXPECT_EQ(SendMessage(*c, "Subject: news\r\n\r\nbody\r\n"), Verdict::kAccept);
  EXPECT_EQ(mta_.deleted, std::vector<std::string>{"gone@remote.test"});
  // All recipients suppressed: the message is refused at end of message.
  ASSERT_EQ(filter_->OnEnvFrom(*c, mta_, "news@mta.test"), Verdict::kContinue);
  EXPECT_EQ(filter_->OnEnvRcpt(*c, mta_, "gone@remote.test"), Verdict::kContinue);
  EXPECT_EQ(SendMessage(*c, "Subject: news\r\n\r\nbody\r\n"), Verdict::kReject);
  ASSERT_EQ(mta_.replies.size(), 1u);
  EXPECT_EQ(mta_.replies[0].rcode, "550");
  // The same over SMTP (no queue id yet at MAIL FROM) is refused at RCPT.
  mta_.macros.erase("i");
  ASSERT_EQ(filter_->OnEnvFrom(*c, mta_, "news@mta.test"), Verdict::kContinue);
  EXPECT_EQ(filter_->OnEnvRcpt(*c, mta_, "gone@remote.test"), Verdict::kReject);
}

// With SentLedger queue-id, outbound mail is accepted at DATA, except when
// recipients must still be removed at end of message.
TEST_F(FilterTest, QueueIdLedgerAcceptsAtDataUnlessRecipientsAreToBeRemoved) {
  Suppress("gone@remote.test");
  Configure("SentLedger queue-id\n");
  auto c = Connect("127.0.0.1");
  mta_.macros = {{"v", "Postfix 3.7.11"}, {"i", "4Q1A2B3C"}, {"j", "mta.test"}};
  ASSERT_EQ(filter_->OnEnvFrom(*c, mta_, "news@mta.test"), Verdict::kContinue);
  EXPECT_EQ(filter_->OnEnvRcpt(*c, mta_, "gone@remote.test"), Verdict::kContinue);
  EXPECT_EQ(filter_->OnEnvRcpt(*c, mta_, "fine@remote.test"), Verdict::kContinue);
  EXPECT_EQ(filter_->OnData(*c, mta_), Verdict::kContinue);
  EXPECT_EQ(SendMessage(*c, "Subject: news\r\n\r\nbody\r\n"), Verdict::kAccept);
  EXPECT_EQ(mta_.deleted, std::vector<std::string>{"gone@remote.test"});
  ASSERT_EQ(filter_->OnEnvFrom(*c, mta_, "news@mta.test"), Verdict::kContinue);
  EXPECT_EQ(filter_->OnEnvRcpt(*c, mta_, "fine@remote.test"), Verdict::kContinue);
  EXPECT_EQ(filter_->OnData(*c, mta_), Verdict::kAccept);
  Result<StoreAccess::SentEntries> sent =
      store_->LookupSent({" queue-id:4Q1A2B3C@mta.test"}, kNow);
  ASSERT_TRUE(sent.ok()) << sent.status().ToString();
  EXPECT_EQ(*sent, StoreAccess::SentEntries{std::vector<std::string>{"fine@remote.test"}});
}

TEST_F(FilterTest, MonitorModeRefusesNothing) {
  Suppress("gone@remote.test");
  Configure("Mode monitor\n");
  auto c = Connect("127.0.0.1");
  ASSERT_EQ(filter_->OnEnvFrom(*c, mta_, "<news@mta.test>"), Verdict::kContinue);
  EXPECT_EQ(filter_->OnEnvRcpt(*c, mta_, "<gone@remote.test>"), Verdict::kContinue);
  EXPECT_TRUE(mta_.replies.empty());
}

TEST_F(FilterTest, WhoIsOutbound) {
  Suppress("gone@remote.test");
  Configure("OutboundDaemons submission\n");
  // Outside client, not authenticated: inbound mail, accepted at MAIL FROM.
  auto c = Connect("198.51.100.7");
  EXPECT_EQ(filter_->OnEnvFrom(*c, mta_, "<someone@example.net>"), Verdict::kAccept);
  // Authenticated.
  mta_.macros["{auth_authen}"] = "alice";
  EXPECT_EQ(filter_->OnEnvFrom(*c, mta_, "<alice@mta.test>"), Verdict::kContinue);
  EXPECT_EQ(filter_->OnEnvRcpt(*c, mta_, "<gone@remote.test>"), Verdict::kReject);
  // Through a configured daemon.
  mta_.macros.clear();
  mta_.macros["{daemon_name}"] = "submission";
  EXPECT_EQ(filter_->OnEnvFrom(*c, mta_, "<bob@mta.test>"), Verdict::kContinue);
  EXPECT_EQ(filter_->OnEnvRcpt(*c, mta_, "<gone@remote.test>"), Verdict::kReject);
  mta_.macros["{daemon_name}"] = "smtpd";
  EXPECT_EQ(filter_->OnEnvFrom(*c, mta_, "<bob@mta.test>"), Verdict::kAccept);
  // Authenticated senders can be excluded.
  Configure("OutboundAuthenticated no\n");
  auto c2 = Connect("198.51.100.7");
  mta_.macros = {{"{auth_authen}", "alice"}};
  EXPECT_EQ(filter_->OnEnvFrom(*c2, mta_, "<alice@mta.test>"), Verdict::kAccept);
}

TEST_F(FilterTest, RecipientsOfABounceAreNeverRefused) {
  Suppress("gone@remote.test");
  auto c = Connect("127.0.0.1");
  ASSERT_EQ(filter_->OnEnvFrom(*c, mta_, "<>"), Verdict::kContinue);
  EXPECT_EQ(filter_->OnEnvRcpt(*c, mta_, "<gone@remote.test>"), Verdict::kContinue);
  EXPECT_TRUE(mta_.replies.empty());
}

TEST_F(FilterTest, BounceAddressMarksABounceAndDiscardApplies) {
  Configure("BounceAddresses bounces+*@mta.test\nInboundAction-Dsn discard\n");
  auto c = Connect("198.51.100.7");
  ASSERT_EQ(filter_->OnEnvFrom(*c, mta_, "<postmaster@other.test>"), Verdict::kContinue);
  ASSERT_EQ(filter_->OnEnvRcpt(*c, mta_, "<bounces+x=y@mta.test>"), Verdict::kContinue);
  EXPECT_EQ(SendMessage(*c, Dsn("old@other.test", "5.1.1", "550 no such user")),
            Verdict::kDiscard);
  EXPECT_TRUE(Status("old@other.test").refused);
}

TEST_F(FilterTest, NotABounceGetsItsOwnAction) {
  auto c = Connect("127.0.0.1");
  ASSERT_EQ(filter_->OnEnvFrom(*c, mta_, "<>"), Verdict::kContinue);
  EXPECT_EQ(SendMessage(*c, "Subject: hi\r\nFrom: a@b.test\r\n\r\nJust a note.\r\n"),
            Verdict::kAccept);
  EXPECT_TRUE(mta_.headers.empty());
}

TEST_F(FilterTest, OversizedBounceIsAcceptedUnrecorded) {
  Configure("MaxMessageSize 64K\n");
  auto c = Connect("127.0.0.1");
  ASSERT_EQ(filter_->OnEnvFrom(*c, mta_, "<>"), Verdict::kContinue);
  std::string raw = Dsn("big@other.test", "5.1.1", "550 user unknown");
  raw.insert(raw.find("Not delivered."), std::string(70 * 1024, 'x'));
  EXPECT_EQ(SendMessage(*c, raw), Verdict::kAccept);
  EXPECT_FALSE(Status("big@other.test").refused);
  EXPECT_TRUE(c->message.raw.empty());
}

TEST_F(FilterTest, AbortClearsTheMessage) {
  auto c = Connect("127.0.0.1");
  ASSERT_EQ(filter_->OnEnvFrom(*c, mta_, "<>"), Verdict::kContinue);
  filter_->OnHeader(*c, "Subject", "partial");
  filter_->OnAbort(*c);
  EXPECT_TRUE(c->message.raw.empty());
  EXPECT_FALSE(c->message.IsBounceCandidate());
}

TEST_F(FilterTest, StoreUnavailable) {
  std::ofstream(dir_ / "file") << "not a directory";
  store_.reset();
  Configure("On-StoreError reject\n", (dir_ / "file" / "store").string());
  auto c = Connect("127.0.0.1");
  ASSERT_EQ(filter_->OnEnvFrom(*c, mta_, "<>"), Verdict::kContinue);
  EXPECT_EQ(SendMessage(*c, Dsn("x@other.test", "5.1.1", "550 user unknown")),
            Verdict::kTempfail);
  ASSERT_EQ(mta_.replies.size(), 1u);
  EXPECT_EQ(mta_.replies[0].rcode, "451");
  ASSERT_EQ(filter_->OnEnvFrom(*c, mta_, "<news@mta.test>"), Verdict::kContinue);
  EXPECT_EQ(filter_->OnEnvRcpt(*c, mta_, "<x@other.test>"), Verdict::kReject);
  EXPECT_EQ(mta_.replies.back().xcode, "5.3.0");
  Configure("On-StoreError accept\n");
  auto c2 = Connect("127.0.0.1");
  ASSERT_EQ(filter_->OnEnvFrom(*c2, mta_, "<news@mta.test>"), Verdict::kContinue);
  EXPECT_EQ(filter_->OnEnvRcpt(*c2, mta_, "<x@other.test>"), Verdict::kContinue);
}

TEST_F(FilterTest, SnapshotSurvivesReload) {
  auto c = Connect("127.0.0.1");
  auto before = c->policy;
  auto next = std::make_shared<Policy>(*holder_->Current());
  next->config = *LoadConfigString("Mode monitor\n", "new.conf");
  holder_->Replace(next);
  EXPECT_EQ(c->policy, before);
  EXPECT_EQ(c->policy->config->mode, Mode::kEnforce);
  EXPECT_EQ(Connect("127.0.0.1")->policy->config->mode, Mode::kMonitor);
}

TEST_F(FilterTest, InternalErrorVerdictFollowsConfig) {
  Configure("On-InternalError tempfail\n");
  EXPECT_EQ(filter_->InternalErrorVerdict(nullptr), Verdict::kTempfail);
}

}  // namespace
}  // namespace bm
