// The filter with bounce verification, driven handler by handler as an MTA
// connection would, over a real LMDB store in a temporary directory.
#include "milter/bounce_verification.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/stat.h>

#include <fstream>
#include <sstream>
#include <map>
#include <optional>
#include <memory>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "auth/return_path.h"
#include "auth/test_util.h"
#include "common/test_log_capture.h"
#include "milter/filter.h"
#include "milter/milter_test_util.h"
#include "milter/policy.h"
#include "milter/recording_session.h"
#include "milter/store_access.h"
#include "parser/parser.h"

namespace bm {
namespace {

using bm::testing::TempDir;

constexpr const char* kGone = "gone@remote.test";
constexpr const char* kOther = "other@remote.test";

// A DSN for recipient returning the given header lines of the original.
std::string DsnReturning(const std::string& recipient, const std::string& returned,
                         const std::string& from = "MAILER-DAEMON@mx.remote.test") {
  return "From: " + from +
         "\r\n"
         "To: news@example.com\r\n"
         "Subject: Undelivered Mail Returned to Sender\r\n"
         "MIME-Version: 1.0\r\n"
         "Content-Type: multipart/report; report-type=delivery-status; boundary=\"B\"\r\n"
         "\r\n"
         "--B\r\n"
         "Content-Type: text/plain\r\n\r\n"
         "Your message could not be delivered.\r\n"
         "--B\r\n"
         "Content-Type: message/delivery-status\r\n\r\n"
         "Reporting-MTA: dns; mx.remote.test\r\n\r\n"
         "Final-Recipient: rfc822; " + recipient +
         "\r\n"
         "Action: failed\r\n"
         "Status: 5.1.1\r\n"
         "Diagnostic-Code: smtp; 550 5.1.1 <" + recipient + ">: user unknown\r\n"
         "--B\r\n"
         "Content-Type: text/rfc822-headers\r\n\r\n"
         + returned +
         "From: news@example.com\r\n"
         "To: " + recipient + "\r\n"
         "--B--\r\n";
}

std::string Dsn(const std::string& recipient, const std::string& message_id,
                const std::string& from = "MAILER-DAEMON@mx.remote.test") {
  return DsnReturning(recipient, "Message-ID: <" + message_id + ">\r\n", from);
}

std::string Plain(const std::string& message_id) {
  return "From: news@example.com\r\nTo: someone\r\nMessage-ID: <" + message_id +
         ">\r\nSubject: hi\r\n\r\nhello\r\n";
}

struct Outcome {
  Verdict rcpt = Verdict::kContinue;  // the first refused RCPT, or continue
  Verdict data = Verdict::kContinue;
  Verdict eoh = Verdict::kContinue;
  Verdict eom = Verdict::kContinue;
  RecordingSession mta;
  // smtpd(8) knows no queue id at MAIL FROM; cleanup(8) does (the "i" macro).
  Outcome() { mta.macros["v"] = "Postfix 3.7.11"; }
};

class BounceVerificationTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() { gmime_ = new GMimeLibrary(); }
  static void TearDownTestSuite() { delete gmime_; }

  void Start(const std::string& extra_config = "") {
    std::ofstream(dir_.File("keys")) << bm::testing::kTwoKeyFile;
    ASSERT_EQ(chmod(dir_.File("keys").c_str(), 0600), 0);
    std::ofstream(dir_.File("milter.conf"))
        << "StorePath " << dir_.File("store") << "\n"
        << "ReturnPathKeys " << dir_.File("keys") << "\n"
        << "SignSenders *@example.com\n"
        << "BounceAddresses bounces+*@example.com\n"
        << "LogLevel warning\n"
        << extra_config;
    Result<std::shared_ptr<const Policy>> policy = LoadPolicy(dir_.File("milter.conf"));
    ASSERT_TRUE(policy.ok()) << policy.status().ToString();
    holder_ = std::make_unique<PolicyHolder>(*policy);
    store_ = std::make_unique<StoreAccess>(dir_.File("store"), 1);
    ASSERT_TRUE(store_->Open().ok());
    filter_ = std::make_unique<Filter>(*holder_, *store_, [this] { return now_; });
  }

  std::unique_ptr<ConnectionContext> Connect(const char* ip) {
    sockaddr_in sin{};
    sin.sin_family = AF_INET;
    inet_pton(AF_INET, ip, &sin.sin_addr);
    return filter_->OnConnect("client.test", reinterpret_cast<const sockaddr*>(&sin));
  }

  // One SMTP transaction through the filter's callbacks.
  Outcome Send(ConnectionContext& c, const std::string& sender,
               const std::vector<std::string>& recipients, const std::string& message,
               bool from_cleanup = false) {
    Outcome out;
    if (from_cleanup) out.mta.macros["i"] = "4F367A84191";
    EXPECT_EQ(filter_->OnEnvFrom(c, out.mta, "<" + sender + ">"), Verdict::kContinue);
    bool any = false;
    for (const std::string& r : recipients) {
      Verdict v = filter_->OnEnvRcpt(c, out.mta, "<" + r + ">");
      if (v == Verdict::kContinue) {
        any = true;
      } else if (out.rcpt == Verdict::kContinue) {
        out.rcpt = v;
      }
    }
    if (!any) return out;
    if (data_step_) {
      for (const auto& [name, value] : data_macros_) out.mta.macros[name] = value;
      out.data = filter_->OnData(c, out.mta);
      if (out.data != Verdict::kContinue) return out;
    }
    std::size_t end = message.find("\r\n\r\n");
    std::string head = message.substr(0, end + 2);
    for (std::size_t pos = 0; pos < head.size();) {
      std::size_t eol = head.find("\r\n", pos);
      std::string line = head.substr(pos, eol - pos);
      std::size_t colon = line.find(':');
      filter_->OnHeader(c, line.substr(0, colon), line.substr(colon + 2));
      pos = eol + 2;
    }
    out.eoh = filter_->OnEndOfHeaders(c, out.mta);
    if (out.eoh != Verdict::kContinue) return out;
    filter_->OnBody(c, out.mta, message.substr(end + 4));
    out.eom = filter_->OnEndOfMessage(c, out.mta);
    return out;
  }

  bool Suppressed(const std::string& address) {
    Result<RecipientStatus> s = store_->Check(address, now_);
    EXPECT_TRUE(s.ok());
    return s.ok() && s->refused;
  }

  std::string Verp(const std::string& recipient) {
    ReturnPathCodec codec(bm::testing::TwoKeyRing(), {});
    return *codec.Sign("news@example.com", {recipient}, bm::testing::TestNow());
  }

  std::optional<std::vector<std::string>> Ledger(const std::string& key) {
    Result<StoreAccess::SentEntries> sent = store_->LookupSent({key}, now_);
    EXPECT_TRUE(sent.ok()) << sent.status().ToString();
    return sent.ok() ? sent->at(0) : std::nullopt;
  }

  static GMimeLibrary* gmime_;
  TempDir dir_;
  // The DATA step as the connection runs it when negotiated (SentLedger
  // queue-id), with the macros Postfix sends by then.
  bool data_step_ = false;
  std::map<std::string, std::string> data_macros_ = {{"i", "4Fq7Xy1Abc"},
                                                     {"j", "Out.Example.COM"}};
  std::int64_t now_ = std::chrono::duration_cast<std::chrono::seconds>(
                          bm::testing::TestNow().time_since_epoch())
                          .count();
  std::unique_ptr<PolicyHolder> holder_;
  std::unique_ptr<StoreAccess> store_;
  std::unique_ptr<Filter> filter_;
};

GMimeLibrary* BounceVerificationTest::gmime_ = nullptr;

TEST_F(BounceVerificationTest, OutboundSingleRecipientGetsVerpReturnPathAndLedgerEntry) {
  Start();
  auto c = Connect("127.0.0.1");
  Outcome out = Send(*c, "news@example.com", {kGone}, Plain("m1@example.com"));
  EXPECT_EQ(out.eoh, Verdict::kContinue);
  EXPECT_EQ(out.eom, Verdict::kAccept);
  EXPECT_EQ(out.mta.new_sender, "<" + Verp(kGone) + ">");
  EXPECT_EQ(Ledger("m1@example.com"), std::vector<std::string>{kGone});
}

TEST_F(BounceVerificationTest, OutboundSeveralRecipientsGetPerMessageReturnPath) {
  Start();
  auto c = Connect("127.0.0.1");
  Outcome out = Send(*c, "news@example.com", {kGone, kOther}, Plain("m2@example.com"));
  EXPECT_EQ(out.mta.new_sender.rfind("<prvs=b", 0), 0u) << out.mta.new_sender;
  EXPECT_NE(out.mta.new_sender.find("=news@example.com>"), std::string::npos);
}

TEST_F(BounceVerificationTest, OtherSendersAreNotSignedAndSkipTheBody) {
  Start();
  auto c = Connect("127.0.0.1");
  Outcome out = Send(*c, "alice@elsewhere.test", {kGone}, Plain("m3@elsewhere.test"));
  EXPECT_EQ(out.eoh, Verdict::kAccept);
  EXPECT_TRUE(out.mta.new_sender.empty());
  // Still in the ledger, recorded at end of headers.
  EXPECT_EQ(Ledger("m3@elsewhere.test"), std::vector<std::string>{kGone});
}

TEST_F(BounceVerificationTest, LedgerCanBeTurnedOff) {
  Start("SentLedger no\n");
  Send(*Connect("127.0.0.1"), "alice@elsewhere.test", {kGone}, Plain("m7@elsewhere.test"));
  EXPECT_EQ(Ledger("m7@elsewhere.test"), std::nullopt);
}

TEST_F(BounceVerificationTest, OnlyQueueIdLedgerNegotiatesTheDataStep) {
  Start();
  EXPECT_FALSE(filter_->WantsDataStep());
  // A reload decides for the connections negotiated after it.
  std::ofstream(dir_.File("milter.conf"), std::ios::app) << "SentLedger queue-id\n";
  Result<std::shared_ptr<const Policy>> policy = LoadPolicy(dir_.File("milter.conf"));
  ASSERT_TRUE(policy.ok()) << policy.status().ToString();
  holder_->Replace(*policy);
  EXPECT_TRUE(filter_->WantsDataStep());
}

TEST_F(BounceVerificationTest, QueueIdLedgerAcceptsOutboundAtData) {
  Start("SentLedger queue-id\n");
  data_step_ = true;
  Outcome out = Send(*Connect("127.0.0.1"), "alice@elsewhere.test", {kGone, kOther},
                     Plain("q1@elsewhere.test"));
  EXPECT_EQ(out.data, Verdict::kAccept);
  EXPECT_EQ(Ledger(" queue-id:4Fq7Xy1Abc@out.example.com"), (std::vector<std::string>{kGone, kOther}));
  EXPECT_EQ(Ledger("q1@elsewhere.test"), std::nullopt);  // the headers were never seen
}

TEST_F(BounceVerificationTest, QueueIdLedgerLetsSignedSendersGoOnToEndOfMessage) {
  Start("SentLedger queue-id\n");
  data_step_ = true;
  Outcome out = Send(*Connect("127.0.0.1"), "news@example.com", {kGone}, Plain("q2@example.com"));
  EXPECT_EQ(out.data, Verdict::kContinue);
  EXPECT_EQ(out.eom, Verdict::kAccept);
  EXPECT_EQ(out.mta.new_sender, "<" + Verp(kGone) + ">");
  EXPECT_EQ(Ledger("q2@example.com"), std::vector<std::string>{kGone});
}

TEST_F(BounceVerificationTest, QueueIdLedgerWithoutTheMacrosFallsBackToTheMessageId) {
  Start("SentLedger queue-id\n");
  data_step_ = true;
  for (const char* missing : {"i", "j"}) {
    data_macros_ = {{"i", "4Fq7Xy1Abc"}, {"j", "out.example.com"}};
    data_macros_.erase(missing);
    const std::string id = std::string("q3") + missing + "@elsewhere.test";
    Outcome out = Send(*Connect("127.0.0.1"), "alice@elsewhere.test", {kGone}, Plain(id));
    EXPECT_EQ(out.data, Verdict::kContinue) << missing;
    EXPECT_EQ(out.eoh, Verdict::kAccept) << missing;
    EXPECT_EQ(Ledger(id), std::vector<std::string>{kGone}) << missing;
  }
  EXPECT_EQ(Ledger(" queue-id:4Fq7Xy1Abc@out.example.com"), std::nullopt);
}

TEST_F(BounceVerificationTest, QueueIdUnavailableIsLoggedOncePerConnection) {
  Start("SentLedger queue-id\n");
  data_step_ = true;
  data_macros_.erase("i");
  LogCapture log;
  auto c = Connect("127.0.0.1");
  for (int i = 0; i < 3; ++i) {
    const std::string id = "q6-" + std::to_string(i) + "@elsewhere.test";
    Send(*c, "alice@elsewhere.test", {kGone}, Plain(id));
    EXPECT_EQ(Ledger(id), std::vector<std::string>{kGone});  // each one still recorded
  }
  EXPECT_EQ(log.Count("ledger-queue-id-unavailable"), 1u) << log.Text();
  EXPECT_EQ(log.Count("missing=i"), 1u) << log.Text();
  // A new connection may have other macros: it says so again.
  Send(*Connect("127.0.0.1"), "alice@elsewhere.test", {kGone}, Plain("q6-3@elsewhere.test"));
  EXPECT_EQ(log.Count("ledger-queue-id-unavailable"), 2u) << log.Text();
}

// A later message that lacks the other macro says so too: the first warning
// named only the macro missing then, and its fix does not fix this one.
TEST_F(BounceVerificationTest, QueueIdUnavailableIsLoggedOncePerMissingMacro) {
  Start("SentLedger queue-id\n");
  data_step_ = true;
  LogCapture log;
  auto c = Connect("127.0.0.1");
  const std::map<std::string, std::string> all = data_macros_;
  int n = 0;
  for (std::vector<const char*> missing :
       {std::vector<const char*>{"i"}, {"j"}, {"i"}, {"i", "j"}, {"j"}}) {
    data_macros_ = all;
    for (const char* macro : missing) data_macros_.erase(macro);
    const std::string id = "q7-" + std::to_string(n++) + "@elsewhere.test";
    Send(*c, "alice@elsewhere.test", {kGone}, Plain(id));
    EXPECT_EQ(Ledger(id), std::vector<std::string>{kGone});
  }
  EXPECT_EQ(log.Count("ledger-queue-id-unavailable"), 2u) << log.Text();
  EXPECT_EQ(log.Count("missing=i"), 1u) << log.Text();
  EXPECT_EQ(log.Count("missing=j"), 1u) << log.Text();
}

TEST_F(BounceVerificationTest, ConnectionNegotiatedWithoutDataRecordsTheMessageId) {
  // Negotiated under SentLedger message-id, then a reload to queue-id: the
  // DATA step never comes, and end of headers records the Message-ID.
  Start("SentLedger queue-id\n");
  Outcome out = Send(*Connect("127.0.0.1"), "alice@elsewhere.test", {kGone},
                     Plain("q4@elsewhere.test"));
  EXPECT_EQ(out.eoh, Verdict::kAccept);
  EXPECT_EQ(Ledger("q4@elsewhere.test"), std::vector<std::string>{kGone});
}

TEST_F(BounceVerificationTest, BounceReturningOurReceivedHeaderVerifiesByQueueId) {
  Start("SentLedger queue-id\n");
  data_step_ = true;
  Send(*Connect("127.0.0.1"), "alice@elsewhere.test", {kGone}, Plain("q5@elsewhere.test"));
  // No Message-ID returned: only the Received headers name the message.
  const std::string received =
      "Received: by mx.remote.test (Postfix) id 4ZremoteQ1; Mon, 23 Nov 2026\r\n"
      "Received: from client (client [192.0.2.7])\r\n"
      "\tby out.example.com (Postfix) with ESMTPSA id 4Fq7Xy1Abc\r\n"
      "\tfor <gone@remote.test>; Mon, 23 Nov 2026 08:00:00 +0000 (UTC)\r\n";
  auto c = Connect("192.0.2.1");
  // A bounce is never accepted at DATA: it goes on to be parsed.
  Outcome other = Send(*c, "", {"alice@elsewhere.test"}, DsnReturning(kOther, received));
  EXPECT_EQ(other.data, Verdict::kContinue);
  EXPECT_EQ(other.eom, Verdict::kAccept);
  EXPECT_FALSE(Suppressed(kOther));  // not a recipient of that message
  // Another host's queue id with ours: not ours.
  Send(*c, "", {"alice@elsewhere.test"},
       DsnReturning(kGone, "Received: by mx.other.test (Postfix) id 4Fq7Xy1Abc; date\r\n"));
  EXPECT_FALSE(Suppressed(kGone));
  Outcome out = Send(*c, "", {"alice@elsewhere.test"}, DsnReturning(kGone, received));
  EXPECT_EQ(out.eom, Verdict::kAccept);
  EXPECT_TRUE(Suppressed(kGone));
}

// Our Received field, and two hops of the sender's own below it.
constexpr char kOurReceived[] =
    "Received: from client (client [192.0.2.7])\r\n"
    "\tby out.example.com (Postfix) with ESMTPSA id 4Fq7Xy1Abc; Mon, 23 Nov 2026\r\n";
constexpr char kTwoHopsBelow[] =
    "Received: from a by crm1.example.com id AAA1; Mon, 23 Nov 2026\r\n"
    "Received: from b by crm2.example.com id AAA2; Mon, 23 Nov 2026\r\n";

TEST_F(BounceVerificationTest, ReceivedQueueIdsAreNotTriedWithMessageIdLedger) {
  Start("SentLedger message-id\n");
  ASSERT_TRUE(store_->RecordSent(" queue-id:4Fq7Xy1Abc@out.example.com", {kGone}, 86400, now_)
                  .ok());
  Send(*Connect("192.0.2.1"), "", {"alice@elsewhere.test"}, DsnReturning(kGone, kOurReceived));
  EXPECT_FALSE(Suppressed(kGone));
}

TEST_F(BounceVerificationTest, OnlyTheBottomMostReceivedQueueIdsAreTried) {
  Start("SentLedger queue-id\n");
  ASSERT_TRUE(store_->RecordSent(" queue-id:4Fq7Xy1Abc@out.example.com", {kGone}, 86400, now_)
                  .ok());
  auto c = Connect("192.0.2.1");
  Send(*c, "", {"alice@elsewhere.test"},
       DsnReturning(kGone, std::string(kOurReceived) + kTwoHopsBelow));
  EXPECT_FALSE(Suppressed(kGone));
  Send(*c, "", {"alice@elsewhere.test"}, DsnReturning(kGone, kOurReceived));
  EXPECT_TRUE(Suppressed(kGone));
}

TEST_F(BounceVerificationTest, LongReceivedChainKeepsOurBottomMostField) {
  Start("SentLedger queue-id\n");
  ASSERT_TRUE(store_->RecordSent(" queue-id:4Fq7Xy1Abc@out.example.com", {kGone}, 86400, now_)
                  .ok());
  // More hops above ours than the parser looks at (parser/received.h).
  std::string chain;
  for (int i = 0; i < 24; ++i) {
    chain += "Received: by relay" + std::to_string(i) + ".remote.test id R" + std::to_string(i) +
             "; Mon, 23 Nov 2026\r\n";
  }
  Send(*Connect("192.0.2.1"), "", {"alice@elsewhere.test"},
       DsnReturning(kGone, chain + kOurReceived));
  EXPECT_TRUE(Suppressed(kGone));
}

TEST_F(BounceVerificationTest, InboundTrustNamesTheLedgerKeyThatFoundTheEntry) {
  Start("SentLedger queue-id\n");
  ASSERT_TRUE(store_->RecordSent(" queue-id:4Fq7Xy1Abc@out.example.com", {kGone}, 86400, now_)
                  .ok());
  ASSERT_TRUE(store_->RecordSent("m8@elsewhere.test", {kOther}, 86400, now_).ok());
  LogCapture log;
  auto c = Connect("192.0.2.1");
  Send(*c, "", {"alice@elsewhere.test"}, Dsn(kOther, "m8@elsewhere.test"));
  EXPECT_EQ(log.Count("trust=verified evidence=ledger ledger=message-id "), 1u) << log.Text();
  Send(*c, "", {"alice@elsewhere.test"}, DsnReturning(kGone, kOurReceived));
  EXPECT_EQ(log.Count("trust=verified evidence=ledger ledger=queue-id "), 1u) << log.Text();
  Send(*c, "", {"alice@elsewhere.test"}, Dsn(kGone, "never-sent@elsewhere.test"));
  EXPECT_EQ(log.Count("trust=unverified evidence=none ledger=none "), 1u) << log.Text();
  // A VERP tag, or a bad one, decides alone: the ledger is not consulted.
  Send(*c, "", {Verp(kGone)}, Dsn(kGone, "m8@elsewhere.test"));
  EXPECT_EQ(log.Count("trust=verified evidence=verp-tag ledger=none "), 1u) << log.Text();
  std::string forged = Verp(kOther);
  forged[12] = forged[12] == 'a' ? 'b' : 'a';
  Send(*c, "", {forged}, Dsn(kOther, "m8@elsewhere.test"));
  EXPECT_EQ(log.Count("trust=forged evidence=bad-tag ledger=none "), 1u) << log.Text();
}

// A Message-ID another message of ours also had, and our Received field:
// the entry that lists the recipient the report names is the one that
// bounced, whichever key found it.
TEST_F(BounceVerificationTest, TheEntryListingTheReportsRecipientWins) {
  Start("SentLedger queue-id\n");
  ASSERT_TRUE(store_->RecordSent(" queue-id:4Fq7Xy1Abc@out.example.com", {kGone}, 86400, now_)
                  .ok());
  ASSERT_TRUE(store_->RecordSent("reused@elsewhere.test", {kOther}, 86400, now_).ok());
  const std::string returned =
      "Message-ID: <reused@elsewhere.test>\r\n" + std::string(kOurReceived);
  LogCapture log;
  auto c = Connect("192.0.2.1");
  Send(*c, "", {"alice@elsewhere.test"}, DsnReturning(kGone, returned));
  EXPECT_TRUE(Suppressed(kGone));
  EXPECT_EQ(log.Count("ledger=queue-id "), 1u) << log.Text();
  Send(*c, "", {"alice@elsewhere.test"}, DsnReturning(kOther, returned));
  EXPECT_TRUE(Suppressed(kOther));
  EXPECT_EQ(log.Count("ledger=message-id "), 1u) << log.Text();
}

TEST_F(BounceVerificationTest, BounceToVerpAddressIsVerifiedAndRecorded) {
  Start();
  auto c = Connect("192.0.2.1");
  // The report names nobody we know; the tag names the recipient.
  Outcome out = Send(*c, "", {Verp(kGone)}, Dsn("someone-else@forward.test", "x@example.com"));
  EXPECT_EQ(out.eom, Verdict::kAccept);
  EXPECT_TRUE(Suppressed(kGone));
  EXPECT_FALSE(Suppressed("someone-else@forward.test"));
}

TEST_F(BounceVerificationTest, ForgedTagNeverChangesTheStore) {
  Start();
  auto c = Connect("192.0.2.1");
  std::string forged = Verp(kGone);
  forged[12] = forged[12] == 'a' ? 'b' : 'a';
  // Even with a Message-ID the ledger knows.
  Send(*Connect("127.0.0.1"), "news@example.com", {kGone}, Plain("m4@example.com"));
  Outcome out = Send(*c, "", {forged}, Dsn(kGone, "m4@example.com"));
  EXPECT_EQ(out.eom, Verdict::kAccept);
  EXPECT_FALSE(Suppressed(kGone));
}

TEST_F(BounceVerificationTest, ForgedBouncesMayBeRejected) {
  Start("ForgedBounces reject\n");
  std::string forged = Verp(kGone);
  forged[12] = forged[12] == 'a' ? 'b' : 'a';
  Outcome out = Send(*Connect("192.0.2.1"), "", {forged}, Dsn(kGone, "m5@example.com"));
  EXPECT_EQ(out.eom, Verdict::kReject);
  ASSERT_FALSE(out.mta.replies.empty());
  EXPECT_EQ(out.mta.replies.back().xcode, "5.7.1");
  EXPECT_FALSE(Suppressed(kGone));
}

TEST_F(BounceVerificationTest, UnsignedBounceVerifiedByTheLedgerOnly) {
  Start();
  Send(*Connect("127.0.0.1"), "alice@elsewhere.test", {kGone}, Plain("m6@elsewhere.test"));
  auto c = Connect("192.0.2.1");
  // Not in the ledger: logged, not recorded.
  Send(*c, "", {"alice@elsewhere.test"}, Dsn(kGone, "never-sent@elsewhere.test"));
  EXPECT_FALSE(Suppressed(kGone));
  // Names a recipient the message did not have: not recorded.
  Send(*c, "", {"alice@elsewhere.test"}, Dsn(kOther, "m6@elsewhere.test"));
  EXPECT_FALSE(Suppressed(kOther));
  // The ledger knows the message and the recipient: recorded.
  Outcome out = Send(*c, "", {"alice@elsewhere.test"}, Dsn(kGone, "m6@elsewhere.test"));
  EXPECT_EQ(out.eom, Verdict::kAccept);
  EXPECT_TRUE(Suppressed(kGone));
}

TEST_F(BounceVerificationTest, UnverifiedBouncesRecordedWhenConfigured) {
  Start("UnverifiedBounces record\n");
  Send(*Connect("192.0.2.1"), "", {"postmaster@example.com"}, Dsn(kGone, "unknown@x.test"));
  EXPECT_TRUE(Suppressed(kGone));
}

TEST_F(BounceVerificationTest, ClientRateLimitAtRcptSparesTaggedBounces) {
  Start("ClientBounceBurst 3\nClientBounceRate 1\n");
  auto c = Connect("203.0.113.9");
  for (int i = 0; i < 3; ++i) {
    EXPECT_EQ(Send(*c, "", {"x@example.com"}, Dsn(kOther, "n@x.test")).rcpt, Verdict::kContinue);
  }
  Outcome limited = Send(*c, "", {"x@example.com"}, Dsn(kOther, "n@x.test"));
  EXPECT_EQ(limited.rcpt, Verdict::kTempfail);
  ASSERT_FALSE(limited.mta.replies.empty());
  EXPECT_EQ(limited.mta.replies.back().rcode, "451");
  // A real bounce from the same client still gets through and is recorded.
  Outcome tagged = Send(*c, "", {Verp(kGone)}, Dsn(kGone, "y@example.com"));
  EXPECT_EQ(tagged.rcpt, Verdict::kContinue);
  EXPECT_EQ(tagged.eom, Verdict::kAccept);
  EXPECT_TRUE(Suppressed(kGone));
  // Another client has its own bucket; a minute later the first has one again.
  EXPECT_EQ(Send(*Connect("203.0.113.10"), "", {"x@example.com"}, Dsn(kOther, "n@x.test")).rcpt,
            Verdict::kContinue);
  now_ += 60;
  EXPECT_EQ(Send(*c, "", {"x@example.com"}, Dsn(kOther, "n@x.test")).rcpt, Verdict::kContinue);
}

TEST_F(BounceVerificationTest, BouncesPostfixGeneratesItselfAreNeverLimited) {
  // cleanup(8) cannot take a refused recipient ("can't reject recipient in
  // non-smtpd(8) submission"): its own DSNs pass, even over both limits.
  Start("ClientBounceBurst 1\nDomainBounceBurst 1\n");
  auto c = Connect("127.0.0.1");
  for (int i = 0; i < 3; ++i) {
    Outcome out = Send(*c, "", {"crm@elsewhere.test"}, Dsn(kOther, "n@x.test"), true);
    EXPECT_EQ(out.rcpt, Verdict::kContinue);
    EXPECT_EQ(out.eom, Verdict::kAccept);
  }
  EXPECT_EQ(Send(*c, "", {"crm@elsewhere.test"}, Dsn(kOther, "n@x.test")).rcpt,
            Verdict::kContinue);  // the client's one token
  EXPECT_EQ(Send(*c, "", {"crm@elsewhere.test"}, Dsn(kOther, "n@x.test")).rcpt,
            Verdict::kTempfail);
}

TEST_F(BounceVerificationTest, DomainRateLimitBeforeParsing) {
  Start("DomainBounceBurst 2\nDomainBounceRate 1\nRateLimitedBounces accept\n"
        "UnverifiedBounces record\n");
  const std::string from = "MAILER-DAEMON@flood.test";
  for (int i = 0; i < 2; ++i) {
    Send(*Connect(("198.51.100." + std::to_string(i)).c_str()), "", {"x@example.com"},
         Dsn("a" + std::to_string(i) + "@remote.test", "n@x.test", from));
  }
  // Third from another client but the same claimed domain: accepted, not processed.
  Outcome out = Send(*Connect("198.51.100.7"), "", {"x@example.com"},
                     Dsn("a7@remote.test", "n@x.test", from));
  EXPECT_EQ(out.eom, Verdict::kAccept);
  EXPECT_TRUE(Suppressed("a1@remote.test"));
  EXPECT_FALSE(Suppressed("a7@remote.test"));
}

TEST_F(BounceVerificationTest, KeyFileReadableByOthersFailsTheConfiguration) {
  Start();
  ASSERT_EQ(chmod(dir_.File("keys").c_str(), 0644), 0);
  Result<std::shared_ptr<const Policy>> policy = LoadPolicy(dir_.File("milter.conf"));
  ASSERT_FALSE(policy.ok());
  EXPECT_NE(policy.status().message().find("ReturnPathKeys: "), std::string::npos);
  EXPECT_NE(policy.status().message().find("chmod 600"), std::string::npos);
}

}  // namespace
}  // namespace bm
