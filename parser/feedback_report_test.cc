#include "parser/feedback_report.h"

#include <gtest/gtest.h>

#include "parser/auto_reply.h"

namespace bm {
namespace {

TEST(FeedbackReportTest, OriginalRcptToFields) {
  FeedbackReport f = ParseFeedbackReport(
      "Feedback-Type: Abuse\nUser-Agent: x/1.0\nVersion: 1\n"
      "Original-Rcpt-To: a@example.com\nOriginal-Rcpt-To: <b@example.com>\n"
      "Arrival-Date: Thu, 29 Apr 2016 23:34:45 +0000\nReporting-MTA: dns; fbl.example.net\n",
      {}, 10);
  EXPECT_EQ(f.reporting_mta, "fbl.example.net");
  ASSERT_EQ(f.recipients.size(), 2u);
  EXPECT_EQ(f.recipients[1].address, "b@example.com");
  EXPECT_EQ(f.recipients[0].feedback_type, "abuse");
  EXPECT_EQ(f.recipients[0].last_attempt, "Thu, 29 Apr 2016 23:34:45 +0000");
}

TEST(FeedbackReportTest, FallsBackToReturnedToThenEmpty) {
  FeedbackReport f = ParseFeedbackReport("Feedback-Type: fraud\n", {{"To", "<c@example.com>"}}, 10);
  ASSERT_EQ(f.recipients.size(), 1u);
  EXPECT_EQ(f.recipients[0].address, "c@example.com");
  EXPECT_EQ(f.recipients[0].feedback_type, "fraud");
  f = ParseFeedbackReport("", {{"To", "<Undisclosed Recipients>"}}, 10);
  ASSERT_EQ(f.recipients.size(), 1u);
  EXPECT_EQ(f.recipients[0].address, "");
  EXPECT_EQ(f.recipients[0].feedback_type, "abuse");
}

TEST(AutoReplyTest, HeadersAndSubjects) {
  EXPECT_TRUE(IsAutoReply({{"Auto-Submitted", "auto-replied (vacation)"}}));
  EXPECT_TRUE(IsAutoReply({{"X-Autoreply", "yes"}}));
  EXPECT_TRUE(IsAutoReply({{"Subject", "Automatic reply: Nyaan"}}));
  EXPECT_TRUE(IsAutoReply({{"Subject", "Out of Office: back on Monday"}}));
  EXPECT_FALSE(IsAutoReply({{"Auto-Submitted", "auto-generated"}, {"Subject", "Invoice"}}));
  EXPECT_FALSE(IsAutoReply({{"Subject", "Re: lunch"}}));
}

}  // namespace
}  // namespace bm
