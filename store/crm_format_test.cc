#include "store/crm_format.h"

#include <gtest/gtest.h>

#include <sstream>

namespace bm {
namespace {

TEST(CrmFormat, CsvQuotesEveryFieldAndGuardsFormulas) {
  AddressRecord r;
  r.address = "a@example.com";
  r.state = AddressState::kSuppressed;
  r.reason = "userunknown";
  r.last_diagnostic = "=HYPERLINK(\"http://evil\"), \"quoted\"\nnext line";
  r.last_rule_id = "@rule";
  r.message_id = "-1+1";
  std::string row = RecordToCsv(r);
  EXPECT_EQ(row.rfind("\"a@example.com\",\"suppressed\",\"userunknown\",", 0), 0u) << row;
  EXPECT_NE(row.find("\"'=HYPERLINK(\"\"http://evil\"\"), \"\"quoted\"\"\nnext line\""),
            std::string::npos)
      << row;
  EXPECT_NE(row.find("\"'@rule\""), std::string::npos);
  EXPECT_NE(row.find("\"'-1+1\""), std::string::npos);
  EXPECT_EQ(row.substr(row.size() - 2), "\r\n");
}

TEST(CrmFormat, CsvRoundTripsThroughTheReader) {
  AddressRecord r;
  r.address = "b@example.com";
  r.state = AddressState::kSuppressedTemporary;
  r.reason = "mailboxfull";
  r.suppressed_until = 1700000000;
  r.state_since = 1690000000;
  r.soft_count = 3;
  r.last_diagnostic = "=1+1, \"x\"\r\nline";
  std::istringstream in(std::string(kUtf8Bom) + CsvHeader() + RecordToCsv(r));
  CsvReader reader(in);
  std::vector<std::string> fields;
  std::size_t line = 0;
  ASSERT_TRUE(*reader.Next(&fields, &line));
  Result<CsvImportLayout> layout = CsvImportLayout::FromHeader(fields);
  ASSERT_TRUE(layout.ok()) << layout.status().ToString();
  ASSERT_TRUE(*reader.Next(&fields, &line));
  EXPECT_EQ(line, 2u);
  Result<ImportRow> row = layout->Row(fields);
  ASSERT_TRUE(row.ok()) << row.status().ToString();
  EXPECT_EQ(row->address, "b@example.com");
  EXPECT_EQ(row->state, AddressState::kSuppressedTemporary);
  EXPECT_EQ(row->until, 1700000000);
  EXPECT_EQ(row->since, 1690000000);
  EXPECT_EQ(row->soft_count, 3u);
  EXPECT_EQ(row->diagnostic, "=1+1, \"x\"\r\nline");
  EXPECT_FALSE(*reader.Next(&fields, &line));
}

TEST(CrmFormat, ReaderReportsLineNumbersOfBadRecords) {
  std::istringstream in("address,state\na@example.com,suppressed\n\"multi\nline\",active\n"
                        "b@example.com,bogus\n\"unterminated,x\n");
  CsvReader reader(in);
  std::vector<std::string> fields;
  std::size_t line = 0;
  ASSERT_TRUE(*reader.Next(&fields, &line));
  CsvImportLayout layout = *CsvImportLayout::FromHeader(fields);
  ASSERT_TRUE(*reader.Next(&fields, &line));
  EXPECT_EQ(line, 2u);
  EXPECT_TRUE(layout.Row(fields).ok());
  ASSERT_TRUE(*reader.Next(&fields, &line));
  EXPECT_EQ(line, 3u);
  EXPECT_EQ(fields[0], "multi\nline");
  ASSERT_TRUE(*reader.Next(&fields, &line));
  EXPECT_EQ(line, 5u);
  Result<ImportRow> bad = layout.Row(fields);
  EXPECT_FALSE(bad.ok());
  EXPECT_NE(bad.status().message().find("bogus"), std::string::npos);
  Result<bool> r = reader.Next(&fields, &line);
  EXPECT_FALSE(r.ok());
  EXPECT_EQ(line, 6u);
}

TEST(CrmFormat, HeaderWithoutAddressIsRejected) {
  EXPECT_FALSE(CsvImportLayout::FromHeader({"mail", "state"}).ok());
  EXPECT_TRUE(CsvImportLayout::FromHeader({"Email", "state"}).ok());
}

TEST(CrmFormat, JsonlRoundTrips) {
  AddressRecord r;
  r.address = "c@example.com";
  r.state = AddressState::kSuppressed;
  r.reason = "userunknown";
  r.hard_count = 2;
  r.state_since = 1700000000;
  std::string line = RecordToJsonl(r);
  EXPECT_EQ(line.back(), '\n');
  Result<ImportRow> row = ImportRowFromJson(line);
  ASSERT_TRUE(row.ok()) << row.status().ToString();
  EXPECT_EQ(row->address, "c@example.com");
  EXPECT_EQ(row->hard_count, 2u);
  EXPECT_EQ(row->since, 1700000000);
  EXPECT_FALSE(ImportRowFromJson("{\"state\":\"suppressed\"}").ok());
  EXPECT_FALSE(ImportRowFromJson("[1,2]").ok());
  EXPECT_FALSE(ImportRowFromJson("{\"address\":\"a@b.c\",\"state_since\":\"yesterday\"}").ok());
}

TEST(CrmFormat, TimesAndUtf8) {
  EXPECT_EQ(FormatTime(0), "");
  EXPECT_EQ(FormatTime(1700000000), "2023-11-14T22:13:20Z");
  EXPECT_EQ(*ParseTime("2023-11-14T22:13:20Z"), 1700000000);
  EXPECT_EQ(*ParseTime("1700000000"), 1700000000);
  EXPECT_EQ(*ParseTime("2023-11-14"), 1699920000);
  EXPECT_FALSE(ParseTime("2023-13-01").ok());
  EXPECT_EQ(ReplaceInvalidUtf8("ok \xC3\xA9"), "ok \xC3\xA9");
  EXPECT_EQ(ReplaceInvalidUtf8("bad \xE9!"), "bad \xEF\xBF\xBD!");
  EXPECT_EQ(ReplaceInvalidUtf8("\xC0\x80"), "\xEF\xBF\xBD\xEF\xBF\xBD");
}

}  // namespace
}  // namespace bm
