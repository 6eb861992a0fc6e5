#include "parser/delivery_status.h"

#include <gtest/gtest.h>

namespace bm {
namespace {

TEST(DeliveryStatusTest, TwoRecipients) {
  DeliveryStatus ds = ParseDeliveryStatus(
      "Reporting-MTA: dns; mx.example.jp\n"
      "Arrival-Date: Thu, 29 Apr 2010 23:34:45 +0900\n\n"
      "Final-Recipient: rfc822; a@example.jp\n"
      "Original-Recipient: rfc822; alias@example.jp\n"
      "Action: failed\nStatus: 5.0.0\nRemote-MTA: dns; mx.example.org\n"
      "Diagnostic-Code: smtp; 550 5.1.1 <a@example.jp>... User\n  unknown\n\n"
      "Final-Recipient: rfc822; b@example.jp\nAction: delayed\nStatus: 4.2.2 (over quota)\n",
      10, 2048);
  EXPECT_EQ(ds.reporting_mta, "mx.example.jp");
  ASSERT_EQ(ds.recipients.size(), 2u);
  const RecipientResult& a = ds.recipients[0];
  EXPECT_EQ(a.address, "a@example.jp");
  EXPECT_EQ(a.original_address, "alias@example.jp");
  EXPECT_EQ(a.action, "failed");
  EXPECT_EQ(a.status, "5.1.1");  // specific code from the diagnostic
  EXPECT_EQ(a.reply_code, "550");
  EXPECT_EQ(a.remote_mta, "mx.example.org");
  EXPECT_EQ(a.diagnostic, "550 5.1.1 <a@example.jp>... User unknown");
  EXPECT_EQ(a.last_attempt, "Thu, 29 Apr 2010 23:34:45 +0900");
  EXPECT_EQ(ds.recipients[1].status, "4.2.2");
  EXPECT_EQ(ds.recipients[1].action, "delayed");
}

TEST(DeliveryStatusTest, MissingBlankLineBetweenRecipients) {
  DeliveryStatus ds = ParseDeliveryStatus(
      "Final-Recipient: rfc822; a@example.jp\nStatus: 5.1.1\n"
      "Final-Recipient: rfc822; b@example.jp\nStatus: 5.2.2\n",
      10, 2048);
  ASSERT_EQ(ds.recipients.size(), 2u);
  EXPECT_EQ(ds.recipients[1].address, "b@example.jp");
  EXPECT_EQ(ds.recipients[1].status, "5.2.2");
}

TEST(DeliveryStatusTest, OriginalRecipientOnly) {
  DeliveryStatus ds =
      ParseDeliveryStatus("Original-Recipient: <a@example.jp>\nAction: failed\n", 10, 2048);
  ASSERT_EQ(ds.recipients.size(), 1u);
  EXPECT_EQ(ds.recipients[0].address, "a@example.jp");
}

TEST(DeliveryStatusTest, RecipientAndDiagnosticBounds) {
  std::string text;
  for (int i = 0; i < 20; ++i) {
    text += "Final-Recipient: rfc822; u" + std::to_string(i) + "@example.jp\n";
    text += "Diagnostic-Code: smtp; " + std::string(500, 'x') + "\n\n";
  }
  DeliveryStatus ds = ParseDeliveryStatus(text, 5, 100);
  EXPECT_EQ(ds.recipients.size(), 5u);
  EXPECT_TRUE(ds.truncated);
  EXPECT_EQ(ds.recipients[0].diagnostic.size(), 100u);
}

TEST(DeliveryStatusTest, StatusCommentStandsInForMissingDiagnostic) {
  DeliveryStatus ds = ParseDeliveryStatus(
      "Final-Recipient: rfc822;a@example.net\nAction: delayed\n"
      "Status: 4.0.0 (example.net: host name lookup failure)\n",
      10, 2048);
  ASSERT_EQ(ds.recipients.size(), 1u);
  EXPECT_EQ(ds.recipients[0].status, "4.0.0");
  EXPECT_EQ(ds.recipients[0].diagnostic, "example.net: host name lookup failure");
}

TEST(DeliveryStatusTest, MailerExitStatusIsNoReplyCode) {
  DeliveryStatus ds = ParseDeliveryStatus(
      "Final-Recipient: rfc822; a@example.jp\nStatus: 5.0.0\nDiagnostic-Code: X-Unix; 255\n\n"
      "Final-Recipient: rfc822; b@example.jp\nStatus: 5.0.0\n"
      "Diagnostic-Code: X-Postfix; host mx said: 554 5.6.0 spam (in reply to end of DATA command)\n",
      10, 2048);
  ASSERT_EQ(ds.recipients.size(), 2u);
  EXPECT_EQ(ds.recipients[0].reply_code, "");
  EXPECT_EQ(ds.recipients[0].diagnostic, "255");
  EXPECT_EQ(ds.recipients[1].reply_code, "554");
  EXPECT_EQ(ds.recipients[1].status, "5.6.0");
  EXPECT_EQ(ds.recipients[1].smtp_command, "DATA");
}

TEST(DeliveryStatusTest, InlineFieldsInText) {
  const std::string text = "Sorry.\n\nReporting-MTA: dns; mx\n\nFinal-Recipient: rfc822; a@example.jp\n";
  EXPECT_EQ(FindInlineDeliveryStatus(text).substr(0, 14), "Reporting-MTA:");
  EXPECT_TRUE(FindInlineDeliveryStatus("Reporting-MTA: dns; mx\n").empty());
}

TEST(DeliveryStatusTest, StripTypePrefix) {
  EXPECT_EQ(StripTypePrefix("dns; mx.example.jp"), "mx.example.jp");
  EXPECT_EQ(StripTypePrefix("550 a; b"), "550 a; b");
}

}  // namespace
}  // namespace bm
