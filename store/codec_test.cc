#include "store/codec.h"

#include <gtest/gtest.h>

namespace bm {
namespace {

AddressRecord SampleRecord() {
  AddressRecord r;
  r.address = "user@example.com";
  r.state = AddressState::kSuppressedTemporary;
  r.reason = "mailboxfull";
  r.bounce_class = "transient";
  r.source = RecordSource::kBounce;
  r.first_bounce = 1700000000;
  r.last_bounce = 1700086400;
  r.state_since = 1700086400;
  r.suppressed_until = 1701296000;
  r.soft_count = 3;
  r.soft_window = {1700000000, 1700040000};
  r.last_status = "4.2.2";
  r.last_diagnostic = "452 4.2.2 Mailbox full";
  r.last_rule_id = "mbox-full";
  r.message_id = "abc@example.org";
  r.counted_hostunknown = true;
  r.last_event_seq = 42;
  r.updated_seq = 41;
  return r;
}

TEST(Codec, AddressRecordRoundTrips) {
  AddressRecord r = SampleRecord();
  std::string v = EncodeAddressRecord(r);
  AddressRecord back;
  ASSERT_TRUE(DecodeAddressRecord(r.address, v, &back).ok());
  EXPECT_EQ(EncodeAddressRecord(back), v);
  EXPECT_EQ(back.address, r.address);
  EXPECT_EQ(back.state, r.state);
  EXPECT_EQ(back.bounce_class, "transient");
  EXPECT_EQ(back.soft_window, r.soft_window);
  EXPECT_TRUE(back.counted_hostunknown);
  EXPECT_EQ(back.updated_seq, 41u);
}

TEST(Codec, EveryTruncationIsCorruptionNotACrash) {
  std::string v = EncodeAddressRecord(SampleRecord());
  for (std::size_t n = 0; n < v.size(); ++n) {
    AddressRecord back;
    EXPECT_EQ(DecodeAddressRecord("k", v.substr(0, n), &back).code(), Status::Code::kCorruption)
        << n;
  }
  AddressRecord back;
  EXPECT_FALSE(DecodeAddressRecord("k", v + "x", &back).ok());
  v[0] = 9;  // unknown version
  EXPECT_FALSE(DecodeAddressRecord("k", v, &back).ok());
}

TEST(Codec, DomainEventAndSentEntryRoundTrip) {
  DomainRecord d;
  d.domain = "example.com";
  d.suppressed = true;
  d.reason = "hostunknown";
  d.sent = 1000;
  d.sender_blamed = 3;
  d.sender_blamed_by_reason = {{"blocked", 2}, {"spamdetected", 1}};
  DomainRecord d2;
  ASSERT_TRUE(DecodeDomainRecord(d.domain, EncodeDomainRecord(d), &d2).ok());
  EXPECT_EQ(EncodeDomainRecord(d2), EncodeDomainRecord(d));

  StoredEvent e;
  e.type = EventType::kComplaint;
  e.time = 5;
  e.address = "a@b.example";
  e.reason = "feedback";
  e.prev_seq = 3;
  e.new_state = AddressState::kSuppressed;
  StoredEvent e2;
  ASSERT_TRUE(DecodeEvent(7, EncodeEvent(e), &e2).ok());
  EXPECT_EQ(e2.seq, 7u);
  EXPECT_EQ(e2.prev_seq, 3u);
  EXPECT_EQ(e2.type, EventType::kComplaint);
  // A chain pointing forward would loop: rejected.
  EXPECT_FALSE(DecodeEvent(2, EncodeEvent(e), &e2).ok());

  SentEntry s{99, {"x@y.example", "z@y.example"}};
  SentEntry s2;
  ASSERT_TRUE(DecodeSentEntry(EncodeSentEntry(s), &s2).ok());
  EXPECT_EQ(s2.recipients, s.recipients);
  EXPECT_EQ(s2.expires, 99);
}

TEST(Codec, NegativeTimesSurvive) {
  AddressRecord r = SampleRecord();
  r.first_bounce = -5;
  AddressRecord back;
  ASSERT_TRUE(DecodeAddressRecord(r.address, EncodeAddressRecord(r), &back).ok());
  EXPECT_EQ(back.first_bounce, -5);
}

}  // namespace
}  // namespace bm
