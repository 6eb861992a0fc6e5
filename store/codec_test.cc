#include "store/codec.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <limits>
#include <vector>

namespace bm {
namespace {

// The dictionaries in memory (the store keeps them in LMDB: store_test.cc).
class MapDictionary : public DictionaryWriter {
 public:
  Result<std::string> Text(std::uint32_t id) override {
    if (id == 0 || id > texts_.size()) return Status::Corruption("no text " + std::to_string(id));
    return texts_[id - 1];
  }
  Result<std::string> DomainName(std::uint32_t id) override {
    if (id == 0 || id > domains_.size()) return Status::Corruption("no domain");
    return domains_[id - 1];
  }
  Result<std::uint32_t> TextId(std::string_view text) override {
    if (!interning_) return std::uint32_t{0};
    return IdOf(texts_, text);
  }
  Result<std::uint32_t> DomainId(std::string_view domain) override { return IdOf(domains_, domain); }
  void set_interning(bool on) { interning_ = on; }
  std::size_t texts() const { return texts_.size(); }

 private:
  static std::uint32_t IdOf(std::vector<std::string>& list, std::string_view s) {
    for (std::size_t i = 0; i < list.size(); ++i) {
      if (list[i] == s) return static_cast<std::uint32_t>(i + 1);
    }
    list.emplace_back(s);
    return static_cast<std::uint32_t>(list.size());
  }
  std::vector<std::string> texts_, domains_;
  bool interning_ = true;
};

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
  r.last_diagnostic = "452 4.2.2 <user@example.com>: Mailbox full";
  r.last_rule_id = "mbox-full";
  r.message_id = "abc@example.org";
  r.counted_hostunknown = true;
  r.last_event_seq = 42;
  r.updated_seq = 41;
  return r;
}

std::string Encode(const AddressRecord& r, MapDictionary& dict) {
  Result<std::string> v = EncodeAddressRecord(r, dict);
  EXPECT_TRUE(v.ok()) << v.status().ToString();
  return v.ok() ? *v : std::string();
}

std::string KeyOf(const AddressRecord& r, MapDictionary& dict) {
  const std::size_t at = r.address.rfind('@');
  return AddressKey(*dict.DomainId(r.address.substr(at + 1)), r.address.substr(0, at));
}

// r encoded and decoded again (a failed decode fails the test).
AddressRecord RoundTrip(const AddressRecord& r, MapDictionary& dict) {
  AddressRecord back;
  Status s = DecodeAddressRecord(KeyOf(r, dict), Encode(r, dict), dict, &back);
  EXPECT_TRUE(s.ok()) << s.ToString();
  return back;
}

TEST(Codec, AddressRecordRoundTripsWithAndWithoutTheDictionary) {
  for (bool interning : {true, false}) {
    MapDictionary dict;
    dict.set_interning(interning);
    AddressRecord r = SampleRecord();
    std::string v = Encode(r, dict);
    AddressRecord back;
    ASSERT_TRUE(DecodeAddressRecord(KeyOf(r, dict), v, dict, &back).ok());
    EXPECT_EQ(back, r);
    EXPECT_EQ(Encode(back, dict), v);
  }
}

TEST(Codec, AddressKeysAreDomainIdThenLocalPart) {
  MapDictionary dict;
  EXPECT_EQ(*dict.DomainId("a.example"), 1u);
  EXPECT_EQ(*dict.DomainId("b.example"), 2u);
  const std::string key = AddressKey(0x01020304, "joe");
  EXPECT_EQ(key, std::string("\x01\x02\x03\x04joe", 7));
  EXPECT_EQ(DecodeIdKey(key), 0x01020304u);
  EXPECT_EQ(*AddressOfKey(AddressKey(2, "joe"), dict), "joe@b.example");
  EXPECT_FALSE(AddressOfKey(AddressKey(3, "joe"), dict).ok());  // unknown domain id
  EXPECT_FALSE(AddressOfKey(IdKey(1), dict).ok());              // no local part
}

// The diagnostics of one server differ only in the address, which is taken
// out: all records share one text, and a record stays small.
TEST(Codec, RepeatedDiagnosticsShareOneTextAndRecordsStaySmall) {
  MapDictionary dict;
  std::size_t largest = 0;
  for (int i = 0; i < 50; ++i) {
    AddressRecord r;
    r.address = "user" + std::to_string(1000000 + i) + "@d" + std::to_string(i) + ".example.com";
    r.state = AddressState::kSuppressed;
    r.reason = "userunknown";
    r.bounce_class = "permanent";
    r.hard = true;
    r.first_bounce = r.last_bounce = r.state_since = 1790000000;
    r.hard_count = 1;
    r.last_status = "5.1.1";
    r.last_diagnostic = "550 5.1.1 <" + r.address + ">: Recipient address rejected: User unknown";
    r.last_rule_id = "userunknown-511";
    r.message_id = "20231114221320.ABC" + std::to_string(i) + "@mail.example.org";
    r.last_event_seq = r.updated_seq = 5000000 + i;
    const std::string v = Encode(r, dict);
    largest = std::max(largest, v.size());
    AddressRecord back;
    ASSERT_TRUE(DecodeAddressRecord(KeyOf(r, dict), v, dict, &back).ok());
    EXPECT_EQ(back, r);
  }
  EXPECT_EQ(dict.texts(), 4u);  // status, diagnostic, rule id, Message-ID host
  EXPECT_LE(largest, 45u);
}

TEST(Codec, LookupHeadMatchesTheFullDecode) {
  MapDictionary dict;
  AddressRecord r = SampleRecord();
  r.reason = "a reason outside the vocabulary";
  const std::string value = Encode(r, dict);
  LookupHead head;
  ASSERT_TRUE(DecodeLookupHead(value, &head).ok());
  EXPECT_EQ(head.state, r.state);
  EXPECT_EQ(head.source, r.source);
  EXPECT_EQ(head.reason, r.reason);
  EXPECT_EQ(head.state_since, r.state_since);
  EXPECT_EQ(head.suppressed_until, r.suppressed_until);
}

TEST(Codec, EveryTruncationIsCorruptionNotACrash) {
  MapDictionary dict;
  const AddressRecord r = SampleRecord();
  std::string v = Encode(r, dict);
  const std::string key = KeyOf(r, dict);
  for (std::size_t n = 0; n < v.size(); ++n) {
    AddressRecord back;
    EXPECT_EQ(DecodeAddressRecord(key, v.substr(0, n), dict, &back).code(),
              Status::Code::kCorruption)
        << n;
  }
  AddressRecord back;
  EXPECT_FALSE(DecodeAddressRecord(key, v + "x", dict, &back).ok());
  v[0] = 1;  // schema 1's version
  EXPECT_FALSE(DecodeAddressRecord(key, v, dict, &back).ok());
}

TEST(Codec, DomainEventAndSentEntryRoundTrip) {
  DomainRecord d;
  d.domain = "example.com";
  d.id = 77;
  d.suppressed = true;
  d.reason = "hostunknown";
  d.sent = 1000;
  d.sender_blamed = 3;
  d.sender_blamed_by_reason = {{"blocked", 2}, {"spamdetected", 1}};
  DomainRecord d2;
  ASSERT_TRUE(DecodeDomainRecord(d.domain, EncodeDomainRecord(d), &d2).ok());
  EXPECT_EQ(EncodeDomainRecord(d2), EncodeDomainRecord(d));
  DomainHead head;
  ASSERT_TRUE(DecodeDomainHead(EncodeDomainRecord(d), &head).ok());
  EXPECT_EQ(head.id, 77u);
  EXPECT_TRUE(head.suppressed);

  MapDictionary dict;
  StoredEvent e;
  e.seq = 7;
  e.type = EventType::kComplaint;
  e.time = 5;
  e.address = "a@b.example";
  e.reason = "feedback";
  e.status = "5.7.1";
  e.actor = "bouncectl";
  e.prev_seq = 3;
  e.new_state = AddressState::kSuppressed;
  Result<std::string> ev = EncodeEvent(e, dict);
  ASSERT_TRUE(ev.ok());
  StoredEvent e2;
  ASSERT_TRUE(DecodeEvent(7, *ev, dict, &e2).ok());
  EXPECT_EQ(e2.seq, 7u);
  EXPECT_EQ(e2.prev_seq, 3u);
  EXPECT_EQ(e2.type, EventType::kComplaint);
  EXPECT_EQ(e2.address, e.address);
  EXPECT_EQ(e2.status, e.status);
  EXPECT_EQ(e2.actor, e.actor);
  EventHead eh;
  ASSERT_TRUE(DecodeEventHead(7, *ev, &eh).ok());
  EXPECT_EQ(eh.address_key, AddressKey(1, "a"));
  // Read under a smaller sequence number the chain would point forward: rejected.
  EXPECT_FALSE(DecodeEvent(3, *ev, dict, &e2).ok());
  e.prev_seq = 9;
  EXPECT_FALSE(EncodeEvent(e, dict).ok());

  StoredEvent domain_event;
  domain_event.seq = 8;
  domain_event.type = EventType::kDomainSuppress;
  domain_event.address = "@b.example";
  domain_event.reason = "hostunknown";
  ev = EncodeEvent(domain_event, dict);
  ASSERT_TRUE(ev.ok());
  ASSERT_TRUE(DecodeEvent(8, *ev, dict, &e2).ok());
  EXPECT_EQ(e2.address, "@b.example");
  ASSERT_TRUE(DecodeEventHead(8, *ev, &eh).ok());
  EXPECT_TRUE(eh.address_key.empty());
  domain_event.address = "x@b.example";  // a domain event names no address
  EXPECT_FALSE(EncodeEvent(domain_event, dict).ok());

  SentEntry s{99, {"x@y.example", "z@y.example"}};
  SentEntry s2;
  ASSERT_TRUE(DecodeSentEntry(EncodeSentEntry(s), &s2).ok());
  EXPECT_EQ(s2.recipients, s.recipients);
  EXPECT_EQ(s2.expires, 99);
}

TEST(Codec, NegativeAndZeroTimesSurvive) {
  MapDictionary dict;
  for (std::int64_t t : {std::int64_t{-5}, std::int64_t{0}}) {
    AddressRecord r = SampleRecord();
    r.first_bounce = t;
    EXPECT_EQ(RoundTrip(r, dict).first_bounce, t);
  }
}

// The marker that stands for the address may occur in a diagnostic itself
// (import takes any text): it comes back as it was, address or not.
TEST(Codec, DiagnosticsHoldingTheMarkerByteSurvive) {
  MapDictionary dict;
  for (const std::string& diagnostic :
       {std::string("550 \x01 <user@example.com> unknown"), std::string("\x01\x01"),
        std::string("\x01<user@example.com>"), std::string("5.1.1 \x01")}) {
    AddressRecord r = SampleRecord();
    r.last_diagnostic = diagnostic;
    EXPECT_EQ(RoundTrip(r, dict).last_diagnostic, diagnostic);
  }
}

// An import may set a temporary suppression that ends when it begins; its
// end must not read back as "none" (the expiry index keys on it).
TEST(Codec, TemporarySuppressionEndingAtItsStartKeepsItsEnd) {
  MapDictionary dict;
  AddressRecord r = SampleRecord();
  r.suppressed_until = r.state_since;
  EXPECT_EQ(RoundTrip(r, dict).suppressed_until, r.state_since);
  LookupHead head;
  ASSERT_TRUE(DecodeLookupHead(Encode(r, dict), &head).ok());
  EXPECT_EQ(head.suppressed_until, r.state_since);
}

// Times at the ends of the range round-trip (the deltas wrap instead of
// overflowing), and a corrupt delta of any size decodes without overflow.
TEST(Codec, ExtremeTimesRoundTripAndHugeDeltasDecode) {
  MapDictionary dict;
  constexpr std::int64_t kMin = std::numeric_limits<std::int64_t>::min();
  constexpr std::int64_t kMax = std::numeric_limits<std::int64_t>::max();
  AddressRecord r = SampleRecord();
  r.first_bounce = kMin;
  r.last_bounce = kMax;
  r.state_since = kMax;
  r.suppressed_until = kMin;
  r.soft_window = {kMax, kMin};
  EXPECT_EQ(RoundTrip(r, dict), r);

  SentEntry sent;
  sent.expires = kMin;
  SentEntry sent_back;
  ASSERT_TRUE(DecodeSentEntry(EncodeSentEntry(sent), &sent_back).ok());
  EXPECT_EQ(sent_back.expires, kMin);
}

}  // namespace
}  // namespace bm
