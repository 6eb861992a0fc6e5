#include "parser/list_notice.h"

#include <gtest/gtest.h>

namespace bm {
namespace {

FieldGroup FmlHeaders() {
  return {{"From", "ml-admin@example.org"},
          {"X-MLServer", "fml [fml 4.0.3 release (20011202/4.0.3)]"}};
}

TEST(FmlNoticeTest, NotAMemberNamesTheListAsRecipient) {
  BounceReport report;
  ASSERT_TRUE(DecodeFmlNotice(FmlHeaders(),
                              "You are not a member of this mailing list <ml@example.org>.\n\n"
                              "If you know the general guide of this list, please send mail\n",
                              256, &report));
  EXPECT_EQ(report.kind, ReportKind::kDsn);
  EXPECT_EQ(report.format, "fml");
  ASSERT_EQ(report.recipients.size(), 1u);
  EXPECT_EQ(report.recipients[0].address, "ml@example.org");
  EXPECT_EQ(report.recipients[0].action, "failed");
  EXPECT_EQ(report.recipients[0].diagnostic,
            "You are not a member of this mailing list <ml@example.org>.");
}

TEST(FmlNoticeTest, OrdinaryPostingIsNotANotice) {
  BounceReport report;
  // Same header, a posting that talks about membership further down.
  EXPECT_FALSE(DecodeFmlNotice(FmlHeaders(),
                               "Hello all,\n\nthe meeting is on Monday.\nSee you there.\n"
                               "Bring snacks.\nAnd coffee.\n"
                               "PS: you are not a member of <other@example.org> yet\n",
                               256, &report));
  EXPECT_TRUE(report.recipients.empty());
}

TEST(FmlNoticeTest, OtherListManagersAndAddresslessNoticesAreIgnored) {
  BounceReport report;
  EXPECT_FALSE(DecodeFmlNotice({{"X-MLServer", "ezmlm"}},
                               "You are not a member of this mailing list <ml@example.org>.\n",
                               256, &report));
  EXPECT_FALSE(DecodeFmlNotice(FmlHeaders(), "You are not a member of this mailing list.\n", 256,
                               &report));
  EXPECT_TRUE(report.recipients.empty());
}

}  // namespace
}  // namespace bm
