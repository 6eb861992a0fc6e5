#include "milter/reply.h"

#include <gtest/gtest.h>

namespace bm {
namespace {

TEST(ReplyTest, PermanentSuppression) {
  Config config = DefaultConfig();
  SmtpReply r = SuppressedRecipientReply(
      config, {"user@example.com", "userunknown", "suppressed", 1763769600, 0, false});
  EXPECT_EQ(r.rcode, "550");
  EXPECT_EQ(r.xcode, "5.1.1");
  EXPECT_EQ(r.text, "<user@example.com>: recipient suppressed (userunknown since 2025-11-22)");
}

TEST(ReplyTest, TemporarySuppressionClass) {
  Config config = DefaultConfig();
  SuppressionFacts facts{"a@b.c", "mailboxfull", "suppressed-temporary", 1763769600,
                         1764374400, true};
  SmtpReply r = SuppressedRecipientReply(config, facts);
  EXPECT_EQ(r.rcode, "450");
  EXPECT_EQ(r.xcode, "4.2.1");
  config.temporary_suppression_class = 5;
  r = SuppressedRecipientReply(config, facts);
  EXPECT_EQ(r.rcode, "550");
  EXPECT_EQ(r.xcode, "5.2.1");
}

TEST(ReplyTest, TemplateAndHostileAddress) {
  Config config = DefaultConfig();
  config.suppressed_reply = "{address} {state} until {until}, 100% sure";
  SmtpReply r = SuppressedRecipientReply(
      config, {"x\r\ny%s@b", "", "suppressed-temporary", 0, 1764374400, true});
  EXPECT_EQ(r.text, "x??y%%s@b suppressed-temporary until 2025-11-29, 100%% sure");
  config.suppressed_reply = "{address}";
  std::string huge(5000, 'a');
  r = SuppressedRecipientReply(config, {huge, "", "", 0, 0, false});
  EXPECT_LE(r.text.size(), 480u);
}

TEST(ReplyTest, StoreUnavailableWithAHostileAddress) {
  SmtpReply t = StoreUnavailableReply(true, "a@b.test");
  EXPECT_EQ(t.rcode, "451");
  EXPECT_EQ(t.xcode, "4.3.0");
  EXPECT_EQ(t.text, "<a@b.test>: suppression list unavailable, try again later");
  SmtpReply r = StoreUnavailableReply(false, "100%\r\n250 ok@x" + std::string(1000, 'y'));
  EXPECT_EQ(r.rcode, "550");
  EXPECT_EQ(r.xcode, "5.3.0");
  EXPECT_TRUE(r.text.starts_with("<100%%??250 ok@x")) << r.text;
  EXPECT_LT(r.text.size(), 300u);
}

TEST(ReplyTest, ValidateTemplate) {
  EXPECT_TRUE(ValidateReplyTemplate("<{address}>: {reason} {since} {until} {state}").ok());
  EXPECT_FALSE(ValidateReplyTemplate("{nope}").ok());
  EXPECT_FALSE(ValidateReplyTemplate("{address").ok());
  EXPECT_FALSE(ValidateReplyTemplate(std::string(401, 'x')).ok());
  EXPECT_FALSE(ValidateReplyTemplate("caf\xc3\xa9").ok());
}

TEST(ReplyTest, OneMappingForErrorActions) {
  EXPECT_EQ(VerdictForError(ErrorAction::kAccept), Verdict::kAccept);
  EXPECT_EQ(VerdictForError(ErrorAction::kTempfail), Verdict::kTempfail);
  EXPECT_EQ(VerdictForError(ErrorAction::kReject), Verdict::kReject);
}

TEST(ReplyTest, FormatDate) {
  EXPECT_EQ(FormatDate(0), "unknown");
  EXPECT_EQ(FormatDate(86400), "1970-01-02");
}

}  // namespace
}  // namespace bm
