#include "parser/parser.h"

#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <random>
#include <sstream>

#include "parser/gmime_util.h"

namespace bm {
namespace {

// GMime is initialised once for the whole test binary.
class GMimeEnvironment : public ::testing::Environment {
 public:
  void SetUp() override { library_ = std::make_unique<GMimeLibrary>(); }
  void TearDown() override { library_.reset(); }

 private:
  std::unique_ptr<GMimeLibrary> library_;
};
const auto* const kGMimeEnvironment = ::testing::AddGlobalTestEnvironment(new GMimeEnvironment);

std::string ToCrlf(std::string_view lf) {
  std::string out;
  for (char c : lf) {
    if (c == '\n') out += '\r';
    out += c;
  }
  return out;
}

bool IsValidUtf8(const std::string& s) { return SanitizeUtf8(s) == s; }

constexpr std::string_view kPostfixDsn =
    "From: MAILER-DAEMON@mx.example.jp (Mail Delivery System)\n"
    "To: sender@example.jp\n"
    "Subject: Undelivered Mail Returned to Sender\n"
    "MIME-Version: 1.0\n"
    "Content-Type: multipart/report; report-type=delivery-status; boundary=\"B1\"\n\n"
    "--B1\nContent-Type: text/plain; charset=us-ascii\n\n"
    "This is the mail system at host mx.example.jp.\n\n"
    "<cat@example.org>: host mx.example.org[192.0.2.1] said: 550 5.1.1\n"
    "    <cat@example.org>: Recipient address rejected: User unknown (in reply to\n"
    "    RCPT TO command)\n\n"
    "--B1\nContent-Type: message/delivery-status\n\n"
    "Reporting-MTA: dns; mx.example.jp\n\n"
    "Final-Recipient: rfc822; cat@example.org\nAction: failed\nStatus: 5.1.1\n"
    "Remote-MTA: dns; mx.example.org\n"
    "Diagnostic-Code: smtp; 550 5.1.1 <cat@example.org>: Recipient address\n"
    "    rejected: User unknown\n\n"
    "--B1\nContent-Type: message/rfc822\n\n"
    "From: sender@example.jp\nTo: cat@example.org\nSubject: Hello\n"
    "Message-ID: <abc@example.jp>\nX-Campaign-Id: 42\n\nbody\n"
    "--B1--\n";

TEST(ParseBounceTest, Rfc3464WithReturnedMessage) {
  Result<BounceReport> r = ParseBounce(kPostfixDsn);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->kind, ReportKind::kDsn);
  EXPECT_EQ(r->format, "rfc3464");
  EXPECT_EQ(r->reporting_mta, "mx.example.jp");
  ASSERT_EQ(r->recipients.size(), 1u);
  const RecipientResult& rc = r->recipients[0];
  EXPECT_EQ(rc.address, "cat@example.org");
  EXPECT_EQ(rc.action, "failed");
  EXPECT_EQ(rc.status, "5.1.1");
  EXPECT_EQ(rc.reply_code, "550");
  EXPECT_EQ(rc.remote_mta, "mx.example.org");
  EXPECT_EQ(rc.smtp_command, "RCPT");  // from the human-readable part
  EXPECT_EQ(rc.diagnostic, "550 5.1.1 <cat@example.org>: Recipient address rejected: User unknown");
  EXPECT_EQ(r->original.message_id, "abc@example.jp");
  EXPECT_EQ(r->original.subject, "Hello");
  ASSERT_EQ(r->original.x_headers.size(), 1u);
  EXPECT_EQ(r->original.x_headers[0].first, "X-Campaign-Id");
  EXPECT_EQ(r->original.x_headers[0].second, "42");
}

TEST(ParseBounceTest, ExitStatusTakesTheTranscriptReply) {
  const std::string dsn =
      "From: MAILER-DAEMON@mx.example.jp\n"
      "Subject: Returned mail: see transcript for details\n"
      "MIME-Version: 1.0\n"
      "Content-Type: multipart/report; report-type=delivery-status; boundary=\"B1\"\n\n"
      "--B1\nContent-Type: text/plain\n\n"
      "   ----- The following addresses had permanent fatal errors -----\n"
      "\"|/usr/local/bin/handler\"\n    (reason: 255)\n\n"
      "   ----- Transcript of session follows -----\n"
      "handler: cannot connect to database\n"
      "554 5.3.0 unknown mailer error 255\n\n"
      "--B1\nContent-Type: message/delivery-status\n\n"
      "Reporting-MTA: dns; mx.example.jp\n\n"
      "Final-Recipient: RFC822; cat@example.jp\n"
      "X-Actual-Recipient: X-Unix; |/usr/local/bin/handler\n"
      "Action: failed\nStatus: 5.0.0\nDiagnostic-Code: X-Unix; 255\n\n"
      "--B1--\n";
  auto report = ParseBounce(dsn, ParseLimits{});
  ASSERT_TRUE(report.ok()) << report.status().message();
  ASSERT_EQ(report->recipients.size(), 1u);
  const RecipientResult& r = report->recipients[0];
  EXPECT_EQ(r.address, "cat@example.jp");
  EXPECT_EQ(r.diagnostic, "255");
  EXPECT_EQ(r.reply_code, "554");
  EXPECT_EQ(r.status, "5.3.0");
}

TEST(ParseBounceTest, CrlfAndLfGiveTheSameReport) {
  Result<BounceReport> lf = ParseBounce(kPostfixDsn);
  Result<BounceReport> crlf = ParseBounce(ToCrlf(kPostfixDsn));
  ASSERT_TRUE(lf.ok());
  ASSERT_TRUE(crlf.ok());
  ASSERT_EQ(crlf->recipients.size(), 1u);
  EXPECT_EQ(crlf->recipients[0].diagnostic, lf->recipients[0].diagnostic);
  EXPECT_EQ(crlf->recipients[0].status, lf->recipients[0].status);
  EXPECT_EQ(crlf->original.subject, lf->original.subject);
}

TEST(ParseBounceTest, GlobalDeliveryStatusIsUtf8) {
  const std::string m =
      "From: MAILER-DAEMON@example.jp\nSubject: Undelivered\nMIME-Version: 1.0\n"
      "Content-Type: multipart/report; report-type=global-delivery-status; boundary=G\n\n"
      "--G\nContent-Type: text/plain\n\nfailed\n"
      "--G\nContent-Type: message/global-delivery-status\n\n"
      "Reporting-MTA: dns; mx.example.jp\n\n"
      "Final-Recipient: utf-8; \xE7\x8C\xAB@example.jp\nAction: failed\nStatus: 5.1.1\n"
      "Diagnostic-Code: smtp; 550 5.1.1 \xE3\x81\xAD\xE3\x81\x93 unknown\n"
      "--G--\n";
  Result<BounceReport> r = ParseBounce(m);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->format, "rfc6533");
  ASSERT_EQ(r->recipients.size(), 1u);
  EXPECT_EQ(r->recipients[0].address, "\xE7\x8C\xAB@example.jp");
  EXPECT_EQ(r->recipients[0].diagnostic, "550 5.1.1 \xE3\x81\xAD\xE3\x81\x93 unknown");
}

TEST(ParseBounceTest, FreeTextWithCharsetAndReturnedHeaders) {
  const std::string m =
      "From: Mail Delivery System <Mailer-Daemon@mx.example.jp>\nTo: s@example.jp\n"
      "Subject: Mail delivery failed: returning message to sender\n"
      "Content-Type: text/plain; charset=iso-8859-1\nContent-Transfer-Encoding: quoted-printable\n\n"
      "This message was created automatically by mail delivery software.\n\n"
      "  cat@example.org\n    host mx.example.org [192.0.2.1]: 552 5.2.2 Bo=EEte pleine\n\n"
      "------ This is a copy of the message, including all the headers. ------\n\n"
      "From: s@example.jp\nTo: cat@example.org\nSubject: Hi\nX-Mailer-Id: 7\n\nbody\n";
  Result<BounceReport> r = ParseBounce(m);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->kind, ReportKind::kDsn);
  EXPECT_EQ(r->format, "exim");
  ASSERT_EQ(r->recipients.size(), 1u);
  EXPECT_EQ(r->recipients[0].status, "5.2.2");
  EXPECT_NE(r->recipients[0].diagnostic.find("Bo\xC3\xAEte pleine"), std::string::npos);
  EXPECT_EQ(r->original.subject, "Hi");
  ASSERT_EQ(r->original.x_headers.size(), 1u);
}

TEST(ParseBounceTest, XFailedRecipientsHeader) {
  const std::string m =
      "From: MAILER-DAEMON@mx.example.jp\nSubject: failure\nX-Failed-Recipients: a@example.org, "
      "b@example.org\n\nSomething went wrong.\n";
  Result<BounceReport> r = ParseBounce(m);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->kind, ReportKind::kDsn);
  ASSERT_EQ(r->recipients.size(), 2u);
  EXPECT_EQ(r->recipients[1].address, "b@example.org");
}

TEST(ParseBounceTest, ArfFeedbackReport) {
  const std::string m =
      "From: fbl@example.net\nSubject: complaint\nMIME-Version: 1.0\n"
      "Content-Type: multipart/report; report-type=feedback-report; boundary=F\n\n"
      "--F\nContent-Type: text/plain\n\nA complaint.\n"
      "--F\nContent-Type: message/feedback-report\n\nFeedback-Type: abuse\nUser-Agent: x\n"
      "Version: 1\nOriginal-Rcpt-To: victim@example.org\n"
      "--F\nContent-Type: message/rfc822\n\nFrom: s@example.jp\nTo: victim@example.org\n"
      "Subject: Buy\n\nspam\n--F--\n";
  Result<BounceReport> r = ParseBounce(m);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->kind, ReportKind::kFeedback);
  ASSERT_EQ(r->recipients.size(), 1u);
  EXPECT_EQ(r->recipients[0].address, "victim@example.org");
  EXPECT_EQ(r->recipients[0].feedback_type, "abuse");
  EXPECT_EQ(r->original.subject, "Buy");
}

TEST(ParseBounceTest, ForwardedReportIsDecoded) {
  // A report whose own text names nobody, returning another report.
  std::string inner(kPostfixDsn);
  const std::string m =
      "From: MAILER-DAEMON@relay.example.jp\nSubject: Returned mail\nMIME-Version: 1.0\n"
      "Content-Type: multipart/mixed; boundary=OUTER\n\n"
      "--OUTER\nContent-Type: text/plain\n\nThe following addresses had permanent errors\n\n"
      "--OUTER\nContent-Type: message/rfc822\n\n" + inner + "\n--OUTER--\n";
  Result<BounceReport> r = ParseBounce(m);
  ASSERT_TRUE(r.ok());
  ASSERT_EQ(r->recipients.size(), 1u);
  EXPECT_EQ(r->recipients[0].address, "cat@example.org");
  EXPECT_EQ(r->recipients[0].status, "5.1.1");
}

TEST(ParseBounceTest, InlineDeliveryStatusFields) {
  Result<BounceReport> r = ParseBounce(
      "From: MAILER-DAEMON@example.jp\nSubject: Returned mail: Service unavailable\n"
      "Content-Type: multipart/report; report-type=delivery-status; boundary=\"NEVER\"\n\n"
      "Failure.\n\nReporting-MTA: dns; mx.example.jp\n\n"
      "Final-Recipient: RFC822; cat@example.org\nAction: failed\nStatus: 5.5.0\n");
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->format, "rfc3464");
  ASSERT_EQ(r->recipients.size(), 1u);
  EXPECT_EQ(r->recipients[0].address, "cat@example.org");
  EXPECT_EQ(r->recipients[0].status, "5.5.0");
}

TEST(ParseBounceTest, UnsubscribeRequestIsFeedback) {
  Result<BounceReport> r = ParseBounce(
      "From: someone@icloud.example\nTo: opt-out@example.org\nSubject: unsubscribe\n"
      "Auto-Submitted: auto-replied\nX-Apple-Unsubscribe: true\n\nUnsubscribe me.\n");
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->kind, ReportKind::kFeedback);
  ASSERT_EQ(r->recipients.size(), 1u);
  EXPECT_EQ(r->recipients[0].address, "someone@icloud.example");
  EXPECT_EQ(r->recipients[0].feedback_type, "unsubscribe");
}

TEST(ParseBounceTest, AmazonSesNotification) {
  Result<BounceReport> r = ParseBounce(
      "From: no-reply@sns.amazonaws.com\nSubject: AWS Notification Message\n\n"
      "{\"Type\" : \"Notification\", \"Message\" : \"{\\\"notificationType\\\":\\\"Bounce\\\","
      "\\\"bounce\\\":{\\\"bouncedRecipients\\\":[{\\\"emailAddress\\\":\\\"a@example.org\\\","
      "\\\"status\\\":\\\"5.1.1\\\",\\\"diagnosticCode\\\":\\\"smtp; 550 5.1.1 user\n unknown\\\"}]}}\"}\n");
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->format, "amazonses");
  ASSERT_EQ(r->recipients.size(), 1u);
  EXPECT_EQ(r->recipients[0].address, "a@example.org");
  EXPECT_EQ(r->recipients[0].reply_code, "550");
}

TEST(ParseBounceTest, AutoReplyNamesItsSender) {
  Result<BounceReport> r = ParseBounce(
      "From: Neko <neko@example.org>\nTo: s@example.jp\nSubject: Out of Office: Re: Hi\n"
      "Auto-Submitted: auto-replied\n\nI am away until Monday.\n");
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->kind, ReportKind::kAutoReply);
  ASSERT_EQ(r->recipients.size(), 1u);
  EXPECT_EQ(r->recipients[0].address, "neko@example.org");
}

TEST(ParseBounceTest, OrdinaryMailIsNotABounce) {
  Result<BounceReport> r = ParseBounce(
      "From: a@example.jp\nTo: b@example.org\nSubject: lunch\n\nSee you at noon, c@example.net.\n");
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->kind, ReportKind::kNotBounce);
  EXPECT_TRUE(r->recipients.empty());
}

TEST(ParseBounceTest, EmptyInputIsInvalid) {
  EXPECT_EQ(ParseBounce("").status().code(), Status::Code::kInvalidArgument);
  EXPECT_EQ(ParseBounce("\r\n\r\n").status().code(), Status::Code::kInvalidArgument);
}

TEST(ParseBounceTest, SizeLimit) {
  ParseLimits limits;
  limits.max_message_bytes = 100;
  Result<BounceReport> r = ParseBounce(kPostfixDsn, limits);
  EXPECT_EQ(r.status().code(), Status::Code::kLimitExceeded);
  EXPECT_NE(r.status().message().find("larger than"), std::string::npos);
}

TEST(ParseBounceTest, FiftyMegabyteMessage) {
  std::string m(kPostfixDsn.substr(0, kPostfixDsn.rfind("--B1--")));
  m.reserve(50u << 20);
  const std::string line(76, 'A');
  while (m.size() < (50u << 20)) m.append(line).append("\n");
  m += "--B1--\n";
  EXPECT_EQ(ParseBounce(m).status().code(), Status::Code::kLimitExceeded);  // default 32 MB
  ParseLimits big;
  big.max_message_bytes = 64u << 20;
  Result<BounceReport> r = ParseBounce(m, big);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  ASSERT_EQ(r->recipients.size(), 1u);
  EXPECT_EQ(r->recipients[0].address, "cat@example.org");
}

TEST(ParseBounceTest, TenThousandParts) {
  std::string m = "From: a@example.jp\nContent-Type: multipart/mixed; boundary=P\n\n";
  for (int i = 0; i < 10000; ++i) m += "--P\nContent-Type: text/plain\n\nx\n";
  m += "--P--\n";
  Result<BounceReport> r = ParseBounce(m);
  EXPECT_EQ(r.status().code(), Status::Code::kLimitExceeded);
  EXPECT_NE(r.status().message().find("MIME parts"), std::string::npos);
}

std::string NestedMultiparts(int levels) {
  std::string open = "From: a@example.jp\nSubject: deep\n";
  std::string close;
  for (int i = 0; i < levels; ++i) {
    const std::string b = "n" + std::to_string(i);
    open += "Content-Type: multipart/mixed; boundary=" + b + "\n\n--" + b + "\n";
    close = "--" + b + "--\n" + close;
  }
  return open + "Content-Type: text/plain\n\nhello\n" + close;
}

TEST(ParseBounceTest, DeepNestingIsRejectedBeforeGMimeRecurses) {
  Result<BounceReport> r = ParseBounce(NestedMultiparts(10000));
  EXPECT_EQ(r.status().code(), Status::Code::kLimitExceeded);
  EXPECT_NE(r.status().message().find("nesting"), std::string::npos);
}

TEST(ParseBounceTest, NestingWithinTheLimitParses) {
  Result<BounceReport> r = ParseBounce(NestedMultiparts(20));
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->kind, ReportKind::kNotBounce);
}

TEST(ParseBounceTest, RecipientLimit) {
  std::string m =
      "From: MAILER-DAEMON@example.jp\nSubject: Undelivered\nMIME-Version: 1.0\n"
      "Content-Type: multipart/report; report-type=delivery-status; boundary=R\n\n"
      "--R\nContent-Type: message/delivery-status\n\nReporting-MTA: dns; mx\n\n";
  for (int i = 0; i < 30; ++i) {
    m += "Final-Recipient: rfc822; u" + std::to_string(i) + "@example.org\nStatus: 5.1.1\n\n";
  }
  m += "--R--\n";
  ParseLimits limits;
  limits.max_recipients = 30;
  Result<BounceReport> ok = ParseBounce(m, limits);
  ASSERT_TRUE(ok.ok());
  EXPECT_EQ(ok->recipients.size(), 30u);
  limits.max_recipients = 29;
  EXPECT_EQ(ParseBounce(m, limits).status().code(), Status::Code::kLimitExceeded);
}

// Hostile shapes that once cost quadratic time in the free-text decoder.
TEST(ParseBounceTest, ManyAddressLines) {
  const std::string head = "From: MAILER-DAEMON@example.jp\nSubject: Undelivered Mail\n\n";
  std::string same = head;
  for (int i = 0; i < 300000; ++i) same += "a@example.org\n";
  Result<BounceReport> r = ParseBounce(same);
  ASSERT_TRUE(r.ok());
  ASSERT_EQ(r->recipients.size(), 1u);

  std::string distinct = head;
  for (int i = 0; i < 5000; ++i) distinct += "u" + std::to_string(i) + "@example.org\n";
  EXPECT_EQ(ParseBounce(distinct).status().code(), Status::Code::kLimitExceeded);

  std::string transcript = head;
  for (int i = 0; i < 900; ++i) transcript += "<u" + std::to_string(i) + "@example.org>\n";
  for (int i = 0; i < 100000; ++i) transcript += "<<< 550 no\n";
  r = ParseBounce(transcript);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->recipients.size(), 900u);
}

TEST(ParseBounceTest, DiagnosticIsBounded) {
  std::string m(kPostfixDsn);
  const std::string long_text = std::string(5000, 'z');
  m.replace(m.find("    rejected: User unknown\n\n"), 0, "    " + long_text + "\n");
  ParseLimits limits;
  limits.max_diagnostic_bytes = 256;
  Result<BounceReport> r = ParseBounce(m, limits);
  ASSERT_TRUE(r.ok());
  ASSERT_EQ(r->recipients.size(), 1u);
  EXPECT_LE(r->recipients[0].diagnostic.size(), 256u);
}

TEST(ParseBounceTest, TruncatedMime) {
  // Every prefix of a real report decodes to a result or a clear error.
  for (std::size_t n = 0; n < kPostfixDsn.size(); n += 37) {
    Result<BounceReport> r = ParseBounce(kPostfixDsn.substr(0, n));
    if (!r.ok()) {
      EXPECT_EQ(r.status().code(), Status::Code::kInvalidArgument);
    }
  }
  Result<BounceReport> cut = ParseBounce(kPostfixDsn.substr(0, kPostfixDsn.find("Action:")));
  ASSERT_TRUE(cut.ok());
  ASSERT_EQ(cut->recipients.size(), 1u);
  EXPECT_EQ(cut->recipients[0].address, "cat@example.org");
}

TEST(ParseBounceTest, BinaryGarbage) {
  std::mt19937 rng(12345);
  for (int round = 0; round < 50; ++round) {
    std::string bytes(4096, '\0');
    for (char& c : bytes) c = static_cast<char>(rng());
    Result<BounceReport> r = ParseBounce(bytes);
    if (r.ok()) {
      for (const RecipientResult& rc : r->recipients) EXPECT_TRUE(IsValidUtf8(rc.diagnostic));
    } else {
      EXPECT_EQ(r.status().code(), Status::Code::kInvalidArgument);
    }
  }
}

TEST(ParseBounceTest, InvalidUtf8AndUnknownCharsetNeverLeakRawBytes) {
  const std::string m =
      "From: MAILER-DAEMON@example.jp\nSubject: Undelivered \xFF\xFE\n"
      "Content-Type: text/plain; charset=x-unknown-charset\n\n"
      "Delivery to the following recipient failed permanently:\n\n"
      "  cat@example.org\n    550 5.1.1 caf\xE9 \xC3\x28 user unknown\n";
  Result<BounceReport> r = ParseBounce(m);
  ASSERT_TRUE(r.ok());
  ASSERT_EQ(r->recipients.size(), 1u);
  EXPECT_TRUE(IsValidUtf8(r->recipients[0].diagnostic));
  EXPECT_TRUE(IsValidUtf8(r->subject));
  EXPECT_NE(r->recipients[0].diagnostic.find("user unknown"), std::string::npos);
}

// Every message of the shared corpus decodes without error.
TEST(ParseBounceTest, CorpusDecodes) {
  const char* source = std::getenv("BM_SOURCE_DIR");
  const std::filesystem::path dir =
      std::filesystem::path(source ? source : ".") / ".." / "shared" / "corpus" / "emails";
  if (!std::filesystem::is_directory(dir)) GTEST_SKIP() << "no corpus at " << dir;
  int files = 0;
  for (const auto& entry : std::filesystem::directory_iterator(dir)) {
    std::ifstream in(entry.path(), std::ios::binary);
    std::stringstream content;
    content << in.rdbuf();
    Result<BounceReport> r = ParseBounce(content.str());
    ASSERT_TRUE(r.ok()) << entry.path() << ": " << r.status().ToString();
    for (const RecipientResult& rc : r->recipients) {
      EXPECT_TRUE(IsValidUtf8(rc.diagnostic)) << entry.path();
    }
    ++files;
  }
  EXPECT_GT(files, 100);
}

}  // namespace
}  // namespace bm
