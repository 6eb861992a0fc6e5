#include "parser/received.h"

#include <gtest/gtest.h>

#include "parser/parser.h"

namespace bm {
namespace {

using Ids = std::vector<std::string>;

Ids IdsOf(std::string_view headers) { return ReceivedQueueIds(ParseHeaderBlock(headers)); }

TEST(ReceivedQueueIdsTest, ThePostfixSendmailAndEximForms) {
  EXPECT_EQ(IdsOf("Received: from client.example.net (client.example.net [192.0.2.7])\n"
                  "\t(Authenticated sender: alice)\n"
                  "\tby MX.Example.com (Postfix) with ESMTPSA id 4Fabc123\n"
                  "\tfor <bob@example.org>; Mon, 23 Nov 2026 08:00:00 +0000 (UTC)\n"),
            Ids{"4Fabc123@mx.example.com"});
  EXPECT_EQ(IdsOf("Received: from relay (relay [192.0.2.8]) by host.example.com "
                  "(8.17.1/8.17.1) with ESMTP id 2AN7abcd012345; Mon, 23 Nov 2026\n"),
            Ids{"2AN7abcd012345@host.example.com"});
  EXPECT_EQ(IdsOf("Received: from [192.0.2.9] (helo=client)\n"
                  " by exim.example.com with esmtp (Exim 4.96)\n"
                  " (envelope-from <a@example.com>)\n"
                  " id 1abcde-000123-AB\n"
                  " for b@example.org; Mon, 23 Nov 2026 08:00:00 +0000\n"),
            Ids{"1abcde-000123-AB@exim.example.com"});
}

TEST(ReceivedQueueIdsTest, InHeaderOrderWithoutDuplicatesOrOtherFields) {
  EXPECT_EQ(IdsOf("Received: by mx.example.org (Postfix) id AAA; date\n"
                  "X-Other: by x id y\n"
                  "Received: by mx.example.com (Postfix) id BBB; date\n"
                  "Received: by mx.example.com (Postfix) id BBB; date\n"),
            (Ids{"AAA@mx.example.org", "BBB@mx.example.com"}));
}

TEST(ReceivedQueueIdsTest, MissingPartsAndJunkGiveNothing) {
  EXPECT_EQ(IdsOf("Received: from a by mx.example.com; date\n"), Ids{});        // no id
  EXPECT_EQ(IdsOf("Received: from a with ESMTP id ABC; date\n"), Ids{});       // no by
  EXPECT_EQ(IdsOf("Received: by mx.example.com id\n"), Ids{});                 // empty id
  EXPECT_EQ(IdsOf("Received: by [192.0.2.1] id ABC\n"), Ids{});                // not a name
  EXPECT_EQ(IdsOf("Received: by mx.example.com id <abc@def>\n"), Ids{});       // not an id
  EXPECT_EQ(IdsOf("Received: by mx.example.com id AB\"C\n"), Ids{});
  EXPECT_EQ(IdsOf("Received: by mx.example.com (unclosed id ABC\n"), Ids{});  // bad comment
  EXPECT_EQ(IdsOf("Received: by mx.example.com) id ABC\n"), Ids{});
  // Clauses after the date, or inside comments, are not clauses.
  EXPECT_EQ(IdsOf("Received: by mx.example.com; id ABC\n"), Ids{});
  EXPECT_EQ(IdsOf("Received: by mx.example.com (id ABC) with smtp\n"), Ids{});
  EXPECT_EQ(IdsOf("Received: by mx.example.com (a (b (c (d (e (f (g (h (i)))))))))) id X\n"),
            Ids{});
}

TEST(ReceivedQueueIdsTest, LengthsAreBounded) {
  const std::string long_id(65, 'A');
  EXPECT_EQ(IdsOf("Received: by mx.example.com id " + long_id + "\n"), Ids{});
  EXPECT_EQ(IdsOf("Received: by mx.example.com id " + long_id.substr(1) + "\n"),
            Ids{long_id.substr(1) + "@mx.example.com"});
  const std::string long_host(254, 'h');
  EXPECT_EQ(IdsOf("Received: by " + long_host + " id ABC\n"), Ids{});
}

// Received fields from Q0 (top) to Q<n-1> (bottom), other fields between.
std::string ReceivedChain(std::size_t n) {
  std::string headers;
  for (std::size_t i = 0; i < n; ++i) {
    headers += "Received: by mx.example.com id Q" + std::to_string(i) + "\n";
    headers += "X-Hop: " + std::to_string(i) + "\n";
  }
  return headers;
}

TEST(ReceivedQueueIdsTest, TheBottomMostSixteenFieldsAreLookedAt) {
  // A long chain: the bottom-most fields (the first hops, where ours is) stay.
  Ids ids = IdsOf(ReceivedChain(kMaxReceivedFields + 4));
  ASSERT_EQ(ids.size(), kMaxReceivedFields);
  EXPECT_EQ(ids.front(), "Q4@mx.example.com");
  EXPECT_EQ(ids.back(), "Q" + std::to_string(kMaxReceivedFields + 3) + "@mx.example.com");
  EXPECT_EQ(IdsOf(ReceivedChain(3)),
            (Ids{"Q0@mx.example.com", "Q1@mx.example.com", "Q2@mx.example.com"}));
}

TEST(ReceivedQueueIdsTest, ReceivedFieldsAbove) {
  const FieldGroup fields = ParseHeaderBlock(ReceivedChain(5));
  EXPECT_EQ(ReceivedFieldsAbove(fields, 2), 3u);
  EXPECT_EQ(ReceivedFieldsAbove(fields, 5), 0u);
  EXPECT_EQ(ReceivedFieldsAbove(fields, 16), 0u);
  EXPECT_EQ(ReceivedFieldsAbove({}, 2), 0u);
}

// A Postfix DSN for cat@example.org returning `returned` (header fields, an
// empty line, maybe a body) as a part of `type`.
std::string DsnReturning(std::string_view type, std::string_view returned) {
  return std::string(
             "From: MAILER-DAEMON@mx.example.org (Mail Delivery System)\n"
             "To: sender@example.com\n"
             "Subject: Undelivered Mail Returned to Sender\n"
             "MIME-Version: 1.0\n"
             "Content-Type: multipart/report; report-type=delivery-status; boundary=\"B1\"\n\n"
             "--B1\nContent-Type: text/plain\n\nfailed\n\n"
             "--B1\nContent-Type: message/delivery-status\n\n"
             "Reporting-MTA: dns; mx.example.org\n\n"
             "Final-Recipient: rfc822; cat@example.org\nAction: failed\nStatus: 5.1.1\n\n"
             "--B1\nContent-Type: ") +
         std::string(type) + "\n\n" + std::string(returned) + "--B1--\n";
}

TEST(ReceivedQueueIdsTest, ParseBounceFillsTheOriginalMessage) {
  Result<BounceReport> r = ParseBounce(DsnReturning(
      "text/rfc822-headers",
      "Received: by mx.example.org (Postfix) id 4Zremote1; Mon, 23 Nov 2026\n"
      "Received: from c (c [192.0.2.7])\n\tby out.example.com (Postfix) with ESMTPSA id 4Flocal2\n"
      "\tfor <cat@example.org>; Mon, 23 Nov 2026\n"
      "From: sender@example.com\nTo: cat@example.org\nSubject: Hello\n\n"));
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_TRUE(r->original.message_id.empty());
  EXPECT_EQ(r->original.received_ids,
            (Ids{"4Zremote1@mx.example.org", "4Flocal2@out.example.com"}));
}

// A returned message with more Received fields than are kept, ours at the
// bottom, returned whole (message/rfc822) or as headers only: the parser's
// own bound on returned Received fields keeps ours too.
TEST(ReceivedQueueIdsTest, ParseBounceKeepsTheBottomMostOfALongChain) {
  std::string chain;
  for (std::size_t i = 0; i < kMaxReceivedFields + 8; ++i) {
    chain += "Received: by relay" + std::to_string(i) + ".example.org (Postfix) id R" +
             std::to_string(i) + "; Mon, 23 Nov 2026\n";
  }
  chain +=
      "Received: from c (c [192.0.2.7])\n\tby out.example.com (Postfix) with ESMTPSA id "
      "4Flocal2\n\tfor <cat@example.org>; Mon, 23 Nov 2026\n";
  for (const char* type : {"text/rfc822-headers", "message/rfc822"}) {
    const std::string dsn = DsnReturning(
        type, chain + "From: sender@example.com\nTo: cat@example.org\nSubject: Hello\n\nbody\n\n");
    Result<BounceReport> r = ParseBounce(dsn);
    ASSERT_TRUE(r.ok()) << r.status().ToString();
    const Ids& ids = r->original.received_ids;
    ASSERT_EQ(ids.size(), kMaxReceivedFields) << type;
    EXPECT_EQ(ids.back(), "4Flocal2@out.example.com") << type;
    EXPECT_EQ(ids[ids.size() - 2],
              "R" + std::to_string(kMaxReceivedFields + 7) + "@relay" +
                  std::to_string(kMaxReceivedFields + 7) + ".example.org")
        << type;
  }
}

}  // namespace
}  // namespace bm
