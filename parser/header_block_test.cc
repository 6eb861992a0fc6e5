#include "parser/header_block.h"

#include <gtest/gtest.h>

namespace bm {
namespace {

TEST(HeaderBlockTest, GroupsAndFolding) {
  std::vector<FieldGroup> groups = ParseFieldGroups(
      "Reporting-MTA: dns; mx.example.jp\r\n\r\nFinal-Recipient: rfc822; a@example.jp\r\n"
      "Diagnostic-Code: smtp; 550 5.1.1\r\n    user unknown\r\nnot a field\r\n");
  ASSERT_EQ(groups.size(), 2u);
  EXPECT_EQ(groups[0][0].name, "Reporting-MTA");
  ASSERT_EQ(groups[1].size(), 2u);
  EXPECT_EQ(groups[1][1].value, "smtp; 550 5.1.1 user unknown");
}

TEST(HeaderBlockTest, HeaderBlockStopsAtBody) {
  FieldGroup h = ParseHeaderBlock("From: a@example.jp\nSubject: hi\n\nTo: body@example.jp\n");
  ASSERT_EQ(h.size(), 2u);
  ASSERT_NE(FindField(h, "subject"), nullptr);
  EXPECT_EQ(*FindField(h, "SUBJECT"), "hi");
  EXPECT_EQ(FindField(h, "To"), nullptr);
}

TEST(HeaderBlockTest, FieldCountIsBounded) {
  std::string text;
  for (int i = 0; i < 100; ++i) text += "X-N: v\n";
  EXPECT_EQ(ParseHeaderBlock(text, 10).size(), 10u);
}

}  // namespace
}  // namespace bm
