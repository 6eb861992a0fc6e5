#include "parser/text_bounce.h"

#include <gtest/gtest.h>

namespace bm {
namespace {

TextBounce Decode(std::string_view text) { return DecodeTextBounce(text, TextBounceOptions()); }

TEST(TextBounceTest, EximIndentedAddressAndReason) {
  TextBounce t = Decode(
      "This message was created automatically by mail delivery software.\n\n"
      "A message that you sent could not be delivered to one or more of its\n"
      "recipients. This is a permanent error. The following address(es) failed:\n\n"
      "  cat@example.org\n"
      "    SMTP error from remote mail server after RCPT TO:<cat@example.org>:\n"
      "    host mx.example.org [192.0.2.1]: 550 5.1.1 <cat@example.org>: Recipient unknown\n\n"
      "------ This is a copy of the message, including all the headers. ------\n\n"
      "From: sender@example.jp\nTo: cat@example.org\nSubject: hello\nMessage-ID: <id@x.example.jp>\n\n"
      "body mentioning other@example.net\n");
  EXPECT_EQ(t.format, "exim");
  ASSERT_EQ(t.recipients.size(), 1u);
  const RecipientResult& r = t.recipients[0];
  EXPECT_EQ(r.address, "cat@example.org");
  EXPECT_EQ(r.status, "5.1.1");
  EXPECT_EQ(r.reply_code, "550");
  EXPECT_EQ(r.smtp_command, "RCPT");
  EXPECT_EQ(r.remote_mta, "mx.example.org");
  EXPECT_NE(r.diagnostic.find("Recipient unknown"), std::string::npos);
  EXPECT_EQ(*FindField(t.returned_headers, "Subject"), "hello");
}

TEST(TextBounceTest, QmailParagraphs) {
  TextBounce t = Decode(
      "Hi. This is the qmail-send program at mx.example.jp.\n"
      "I'm afraid I wasn't able to deliver your message to the following addresses.\n"
      "This is a permanent error; I've given up. Sorry it didn't work out.\n\n"
      "<a@example.org>:\n192.0.2.1 does not like recipient.\n"
      "Remote host said: 550 5.1.1 Mailbox unavailable\nGiving up on 192.0.2.1.\n\n"
      "<b@example.org>:\nThis address no longer accepts mail.\n\n"
      "--- Below this line is a copy of the message.\n\nFrom: s@example.jp\n");
  EXPECT_EQ(t.format, "qmail");
  EXPECT_EQ(t.reporting_mta, "mx.example.jp");
  ASSERT_EQ(t.recipients.size(), 2u);
  EXPECT_EQ(t.recipients[0].reply_code, "550");
  EXPECT_EQ(t.recipients[1].address, "b@example.org");
  EXPECT_EQ(t.recipients[1].diagnostic, "This address no longer accepts mail.");
}

TEST(TextBounceTest, SendmailTranscriptMergesAndFindsCommand) {
  TextBounce t = Decode(
      "   ----- The following addresses had permanent fatal errors -----\n"
      "<a@example.org>\n    (reason: 550 5.1.1 User unknown)\n\n"
      "   ----- Transcript of session follows -----\n"
      "... while talking to mx.example.org.:\n>>> DATA\n<<< 550 5.1.1 <a@example.org>... User unknown\n"
      "550 5.1.1 <a@example.org>... User unknown\n\n"
      "   ----- Unsent message follows -----\nFrom: s@example.jp\n");
  ASSERT_EQ(t.recipients.size(), 1u);
  EXPECT_EQ(t.recipients[0].status, "5.1.1");
  EXPECT_EQ(t.recipients[0].smtp_command, "DATA");
}

TEST(TextBounceTest, TranscriptReplyGivesTheCommand) {
  TextBounce t = Decode(
      "   ----- The following addresses had permanent fatal errors -----\n"
      "<a@example.org>\n    (reason: 550 Unknown user a@example.org)\n\n"
      "   ----- Transcript of session follows -----\n"
      "... while talking to mx.example.org.:\n>>> DATA\n<<< 550 Unknown user a@example.org\n"
      "554 5.0.0 Service unavailable\n");
  ASSERT_EQ(t.recipients.size(), 1u);
  EXPECT_EQ(t.recipients[0].smtp_command, "DATA");
  EXPECT_EQ(t.recipients[0].reply_code, "550");
}

TEST(TextBounceTest, SectionRulesAreNotDiagnostics) {
  TextBounce t = Decode(
      "   ----- The following addresses had permanent fatal errors -----\n"
      "<a@example.org>\n   ----- Transcript of session follows -----\n"
      "<a@example.org>... Deferred: Name server: example.org.: host name lookup failure\n");
  ASSERT_EQ(t.recipients.size(), 1u);
  EXPECT_EQ(t.recipients[0].diagnostic, "Deferred: Name server: example.org.: host name lookup failure");
}

TEST(TextBounceTest, ReasonInNextParagraph) {
  TextBounce t = Decode(
      "Delivery to the following recipient failed permanently:\n\n     a@example.org\n\n"
      "Technical details of permanent failure:\nThe server rejected it.\n\n"
      "The error that the other server returned was:\n550 5.2.2 Mailbox full\n\n"
      "----- Original message -----\n");
  ASSERT_EQ(t.recipients.size(), 1u);
  EXPECT_EQ(t.recipients[0].status, "5.2.2");
  EXPECT_NE(t.recipients[0].diagnostic.find("Mailbox full"), std::string::npos);
}

TEST(TextBounceTest, SenderLineIsNotARecipient) {
  TextBounce t = Decode(
      "A message sent by\n\n  <sender@example.jp>\n\ncould not be delivered. The following\n"
      "address(es) failed:\n\n  cat@example.org\n    retry timeout exceeded\n");
  ASSERT_EQ(t.recipients.size(), 1u);
  EXPECT_EQ(t.recipients[0].address, "cat@example.org");
}

TEST(TextBounceTest, MentionedAddressFallbackSkipsExcluded) {
  TextBounceOptions options;
  options.excluded_addresses = {"me@example.jp"};
  TextBounce t = DecodeTextBounce(
      "Your message to me@example.jp and to cat@example.org could not be delivered:\n"
      "550 5.1.1 unknown user. Contact postmaster@example.org.\n",
      options);
  ASSERT_EQ(t.recipients.size(), 1u);
  EXPECT_EQ(t.recipients[0].address, "cat@example.org");
  EXPECT_EQ(t.recipients[0].reply_code, "550");
}

TEST(TextBounceTest, BoundsRecipientsAndDiagnostic) {
  TextBounceOptions options;
  options.max_recipients = 3;
  options.max_diagnostic_bytes = 40;
  std::string text = "Delivery failed:\n";
  for (int i = 0; i < 10; ++i) {
    text += "u" + std::to_string(i) + "@example.org: " + std::string(200, 'x') + "\n";
  }
  TextBounce t = DecodeTextBounce(text, options);
  ASSERT_EQ(t.recipients.size(), 3u);
  EXPECT_LE(t.recipients[0].diagnostic.size(), 40u);
}

TEST(TextBounceTest, NoRecipientInPlainMail) {
  TextBounce t = Decode("Hello,\nsee you tomorrow.\n");
  EXPECT_TRUE(t.recipients.empty());
  EXPECT_FALSE(t.bounce_markers);
}

}  // namespace
}  // namespace bm
