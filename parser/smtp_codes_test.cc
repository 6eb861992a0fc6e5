#include "parser/smtp_codes.h"

#include <gtest/gtest.h>

namespace bm {
namespace {

TEST(SmtpCodesTest, EnhancedStatusStandsAlone) {
  EXPECT_EQ(FindEnhancedStatus("550 5.1.1 <a@b.c>... User unknown"), "5.1.1");
  EXPECT_EQ(FindEnhancedStatus("(#5.5.0)"), "5.5.0");
  EXPECT_EQ(FindEnhancedStatus("host 192.0.2.5.4 said"), "");  // part of an address
  EXPECT_EQ(FindEnhancedStatus("version 4.2.1b"), "");
  EXPECT_EQ(FindEnhancedStatus("no code here"), "");
}

TEST(SmtpCodesTest, ReplyCodeWrittenAsReply) {
  EXPECT_EQ(FindReplyCode("host mx said: 550-5.1.1 The email account"), "550");
  EXPECT_EQ(FindReplyCode("501: 5.1.8 Sender address rejected"), "501");
  EXPECT_EQ(FindReplyCode("ResponseCode 421, , Host not reachable"), "421");
  EXPECT_EQ(FindReplyCode("port 2525 and 5.1.1"), "");
  EXPECT_EQ(FindReplyCode("ofr_416 rejected"), "");
  EXPECT_EQ(FindReplyCode("error message: [554 5.4.6 Hop count exceeded]"), "554");
}

TEST(SmtpCodesTest, RefinePrefersSpecificDiagnosticStatus) {
  RecipientResult r;
  r.status = "5.0.0";
  r.diagnostic = "550 5.1.1 <a@example.jp>... User unknown";
  RefineCodesFromDiagnostic(r);
  EXPECT_EQ(r.status, "5.1.1");
  EXPECT_EQ(r.reply_code, "550");
}

TEST(SmtpCodesTest, RefineKeepsStatusOfOtherClass) {
  RecipientResult r;
  r.status = "5.0.0";
  r.diagnostic = "421 4.4.2 Connection timed out";
  RefineCodesFromDiagnostic(r);
  EXPECT_EQ(r.status, "5.0.0");
  EXPECT_EQ(r.reply_code, "421");
}

TEST(SmtpCodesTest, RefineSkipsPositiveTranscriptReplies) {
  RecipientResult r;
  r.diagnostic = "250 2.1.0 Ok 451 4.3.0 Error: queue file write error";
  RefineCodesFromDiagnostic(r);
  EXPECT_EQ(r.reply_code, "451");
  EXPECT_EQ(r.status, "4.3.0");
}

TEST(SmtpCodesTest, ReplyCodeGoesWithTheExplainingStatus) {
  RecipientResult r;
  r.diagnostic =
      "554 4.4.7 Message expired: unable to deliver in 840 minutes."
      "<421 4.4.2 Connection timed out>";
  RefineCodesFromDiagnostic(r);
  EXPECT_EQ(r.status, "4.4.2");
  EXPECT_EQ(r.reply_code, "421");

  RecipientResult given;  // a code the report states is kept
  given.reply_code = "554";
  given.diagnostic = r.diagnostic;
  RefineCodesFromDiagnostic(given);
  EXPECT_EQ(given.reply_code, "554");

  RecipientResult later_address;  // the status's digits again inside an IP address after it
  later_address.diagnostic = r.diagnostic + " at 10.4.4.2";
  RefineCodesFromDiagnostic(later_address);
  EXPECT_EQ(later_address.status, "4.4.2");
  EXPECT_EQ(later_address.reply_code, "421");

  RecipientResult other_class;  // "554 4.4.7": no code of the status's own class before it
  other_class.diagnostic = "554 4.4.7 Message expired";
  RefineCodesFromDiagnostic(other_class);
  EXPECT_EQ(other_class.reply_code, "554");
}

TEST(SmtpCodesTest, SmtpCommand) {
  EXPECT_EQ(SmtpCommandIn("said: 550 5.1.1 unknown (in reply to RCPT TO command)"), "RCPT");
  EXPECT_EQ(SmtpCommandIn("SMTP error from remote mail server after end of data: 550"), "DATA");
  EXPECT_EQ(SmtpCommandIn("... while talking to mx:\n>>> MAIL From:<a@b.c>\n<<< 553 no\n"), "MAIL");
  EXPECT_EQ(SmtpCommandIn(">>> RCPT To:<a@b.c>\n<<< 250 ok\n>>> DATA\n<<< 554 spam\n"), "DATA");
  EXPECT_EQ(SmtpCommandIn("550 user unknown"), "");
}

TEST(SmtpCodesTest, SmtpCommandInEximPipelined) {
  const std::string_view exim = "SMTP error from remote mail server after pipelined ";
  EXPECT_EQ(SmtpCommandIn(std::string(exim) + "RCPT TO:<a@b.c>: 550 no"), "RCPT");
  EXPECT_EQ(SmtpCommandIn(std::string(exim) + "MAIL FROM:<a@b.c>: 550 no"), "MAIL");
  EXPECT_EQ(SmtpCommandIn(std::string(exim) + "DATA: 554 no"), "DATA");
}

TEST(SmtpCodesTest, SmtpCommandInQmailAndDmaWording) {
  EXPECT_EQ(SmtpCommandIn("192.0.2.1 does not like recipient. Remote host said: 550 no"), "RCPT");
  EXPECT_EQ(SmtpCommandIn("192.0.2.1 failed after I sent the message. Remote host said: 554"),
            "DATA");
  EXPECT_EQ(SmtpCommandIn("Connected to 192.0.2.1 but greeting failed. Remote host said: 421"),
            "CONN");
  EXPECT_EQ(SmtpCommandIn("mx.example.org [192.0.2.1] did not like our RCPT TO: 550 no"), "RCPT");
  EXPECT_EQ(SmtpCommandIn("mx.example.org [192.0.2.1] did not like our final DATA: 554 no"),
            "DATA");
  EXPECT_EQ(SmtpCommandIn("I would like to inform you: 550 user unknown"), "");
}

}  // namespace
}  // namespace bm
