#include "auth/return_path.h"

#include <algorithm>
#include <cctype>
#include <string>

#include <gtest/gtest.h>

#include "auth/test_util.h"

namespace bm {
namespace {

using testing::DaysLater;
using testing::TestNow;

std::string Upper(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return std::toupper(c); });
  return s;
}
std::string Lower(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return std::tolower(c); });
  return s;
}
std::string LocalPart(const std::string& address) { return address.substr(0, address.rfind('@')); }

class ReturnPathTest : public ::testing::Test {
 protected:
  std::string SignOne(const std::string& sender, const std::string& recipient) {
    Result<std::string> signed_address = codec_.Sign(sender, {recipient}, TestNow());
    EXPECT_TRUE(signed_address.ok()) << signed_address.status().ToString();
    return signed_address.ok() ? *signed_address : "";
  }

  ReturnPathCodec codec_{testing::TwoKeyRing(), ReturnPathOptions{}};
};

TEST_F(ReturnPathTest, VerpRoundTrip) {
  std::string address = SignOne("news@example.com", "alice.smith@example.net");
  EXPECT_EQ(address.rfind("bounces+b", 0), 0u) << address;  // current key id 'b'
  EXPECT_NE(address.find("+alice.smith=example.net@example.com"), std::string::npos) << address;
  EXPECT_EQ(LocalPart(address).size(), 7 + 1 + kTagLength + 1 + 23);

  DecodedReturnPath d = codec_.Decode(address, TestNow());
  EXPECT_EQ(d.state, TagState::kVerified) << d.detail;
  EXPECT_EQ(d.form, ReturnPathForm::kVerp);
  EXPECT_EQ(d.recipient, "alice.smith@example.net");
  EXPECT_EQ(d.key_id, 'b');
  EXPECT_EQ(d.day_stamp, DayStamp(TestNow()));
  EXPECT_EQ(d.age_days, 0);
}

TEST_F(ReturnPathTest, VerpDomainOption) {
  ReturnPathOptions options;
  options.prefix = "rp";
  options.verp_domain = "bounce.example.org";
  ReturnPathCodec codec(testing::TwoKeyRing(), options);
  Result<std::string> a = codec.Sign("<news@example.com>", {"<bob@example.net>"}, TestNow());
  ASSERT_TRUE(a.ok());
  EXPECT_EQ(a->rfind("rp+", 0), 0u);
  EXPECT_EQ(a->substr(a->size() - 19), "@bounce.example.org");
  EXPECT_EQ(codec.Decode("<" + *a + ">", TestNow()).state, TagState::kVerified);
  // The default prefix means nothing to this codec.
  EXPECT_EQ(codec.Decode(SignOne("news@example.com", "bob@example.net"), TestNow()).state,
            TagState::kNotSigned);
}

TEST_F(ReturnPathTest, RecipientsWithPlusAndEqualsRoundTrip) {
  for (std::string r : {"a+tag@example.net", "a=b@example.net", "x+y=z@sub.example.net",
                        "o'brien@example.ie", "a@b"}) {
    DecodedReturnPath d = codec_.Decode(SignOne("n@example.com", r), TestNow());
    EXPECT_EQ(d.state, TagState::kVerified) << r;
    EXPECT_EQ(d.recipient, r);
  }
}

TEST_F(ReturnPathTest, SeveralRecipientsUsePerMessageForm) {
  Result<std::string> a =
      codec_.Sign("News.Letter@Example.com", {"a@example.net", "b@example.org"}, TestNow());
  ASSERT_TRUE(a.ok());
  EXPECT_EQ(a->rfind("prvs=b", 0), 0u) << *a;
  EXPECT_EQ(a->substr(5 + kTagLength), "=News.Letter@Example.com");
  DecodedReturnPath d = codec_.Decode(*a, TestNow());
  EXPECT_EQ(d.state, TagState::kVerified) << d.detail;
  EXPECT_EQ(d.form, ReturnPathForm::kPerMessage);
  EXPECT_EQ(d.original_sender, "News.Letter@Example.com");
  EXPECT_TRUE(d.recipient.empty());
}

TEST_F(ReturnPathTest, TamperedTagIsForged) {
  std::string address = SignOne("news@example.com", "alice@example.net");
  const std::size_t mac_start = 8 + 3;  // after "bounces+", key id and day stamp
  for (std::size_t i = mac_start; i < 8 + kTagLength; ++i) {
    std::string t = address;
    t[i] = t[i] == 'a' ? 'b' : 'a';
    DecodedReturnPath d = codec_.Decode(t, TestNow());
    EXPECT_EQ(d.state, TagState::kForged) << t;
    EXPECT_EQ(d.detail, "tag does not match");
  }
}

TEST_F(ReturnPathTest, TagDoesNotTransferToAnotherRecipientOrForm) {
  std::string address = SignOne("news@example.com", "alice@example.net");
  std::string other = address;
  other.replace(other.find("alice"), 5, "carol");
  EXPECT_EQ(codec_.Decode(other, TestNow()).state, TagState::kForged);

  // The same tag moved into the per-message form does not verify either.
  std::string tag = address.substr(8, kTagLength);
  EXPECT_EQ(codec_.Decode("prvs=" + tag + "=alice@example.net", TestNow()).state,
            TagState::kForged);
}

TEST_F(ReturnPathTest, ChangedDayStampIsForgedNotFresh) {
  std::string address = SignOne("news@example.com", "alice@example.net");
  std::string t = address;
  t[10] = t[10] == 'a' ? 'b' : 'a';  // second day-stamp digit
  EXPECT_EQ(codec_.Decode(t, TestNow()).state, TagState::kForged);
}

TEST_F(ReturnPathTest, DayStampFreshnessWindow) {
  std::string address = SignOne("news@example.com", "alice@example.net");
  EXPECT_EQ(codec_.Decode(address, DaysLater(10)).state, TagState::kVerified);
  DecodedReturnPath old = codec_.Decode(address, DaysLater(11));
  EXPECT_EQ(old.state, TagState::kExpired);
  EXPECT_EQ(old.age_days, 11);
  EXPECT_EQ(old.recipient, "alice@example.net");
  // A verifier whose clock is a day behind the signer's still accepts it.
  DecodedReturnPath early = codec_.Decode(address, DaysLater(-1));
  EXPECT_EQ(early.state, TagState::kVerified);
  EXPECT_EQ(early.age_days, -1);
  EXPECT_EQ(codec_.Decode(address, DaysLater(-2)).state, TagState::kExpired);
  // After a whole day-stamp period the stamp repeats; the gap in between is expired.
  EXPECT_EQ(codec_.Decode(address, DaysLater(500)).state, TagState::kExpired);
}

TEST_F(ReturnPathTest, MaxAgeIsConfigurable) {
  ReturnPathOptions options;
  options.max_age_days = 3;
  ReturnPathCodec strict(testing::TwoKeyRing(), options);
  std::string address = SignOne("news@example.com", "alice@example.net");
  EXPECT_EQ(strict.Decode(address, DaysLater(3)).state, TagState::kVerified);
  EXPECT_EQ(strict.Decode(address, DaysLater(4)).state, TagState::kExpired);
}

TEST_F(ReturnPathTest, RotatedPreviousKeyIsAcceptedUntilRotatedOut) {
  std::string address = SignOne("news@example.com", "alice@example.net");
  auto once = std::make_shared<const Keyring>(*testing::TwoKeyRing()->Rotated(0));
  ReturnPathCodec after_one(once, {});
  DecodedReturnPath d = after_one.Decode(address, TestNow());
  EXPECT_EQ(d.state, TagState::kVerified);
  EXPECT_EQ(d.key_id, 'b');
  // New mail is signed with the new current key 'c'.
  EXPECT_EQ(after_one.Sign("n@example.com", {"x@example.net"}, TestNow())->rfind("bounces+c", 0),
            0u);

  auto twice = std::make_shared<const Keyring>(*once->Rotated(0));
  DecodedReturnPath gone = ReturnPathCodec(twice, {}).Decode(address, TestNow());
  EXPECT_EQ(gone.state, TagState::kForged);
  EXPECT_EQ(gone.detail, "unknown key id 'b'");
}

TEST_F(ReturnPathTest, UnknownKeyIdIsForged) {
  std::string address = SignOne("news@example.com", "alice@example.net");
  address[8] = 'z';
  DecodedReturnPath d = codec_.Decode(address, TestNow());
  EXPECT_EQ(d.state, TagState::kForged);
  EXPECT_EQ(d.detail, "unknown key id 'z'");
  EXPECT_EQ(d.key_id, 'z');
}

TEST_F(ReturnPathTest, SameAddressWithAnotherSecretIsForged) {
  std::string address = SignOne("news@example.com", "alice@example.net");
  Result<Keyring> other = Keyring::Generate(0);  // also has key id 'a'
  auto ring = std::make_shared<const Keyring>(*other->Rotated(0));  // ids 'b' and 'a'
  EXPECT_EQ(ReturnPathCodec(ring, {}).Decode(address, TestNow()).state, TagState::kForged);
}

TEST_F(ReturnPathTest, CaseFoldingByRemoteMtasStillVerifies) {
  std::string address = SignOne("News@Example.COM", "Alice.Smith@Example.NET");
  for (const std::string& folded : {Lower(address), Upper(address), address}) {
    DecodedReturnPath d = codec_.Decode(folded, TestNow());
    EXPECT_EQ(d.state, TagState::kVerified) << folded;
    EXPECT_EQ(Lower(d.recipient), "alice.smith@example.net");
  }
  Result<std::string> batv = codec_.Sign("News@Example.COM", {"a@x.org", "b@y.org"}, TestNow());
  EXPECT_EQ(codec_.Decode(Upper(*batv), TestNow()).state, TagState::kVerified);
  EXPECT_EQ(codec_.Decode(Lower(*batv), TestNow()).original_sender, "news@example.com");
}

TEST_F(ReturnPathTest, VerpLocalPartStaysWithin64OctetsElsePerMessage) {
  // "bounces+" + tag + "+" + local + "=" + domain
  const std::size_t overhead = 8 + kTagLength + 1 + 1;
  const std::string domain = "example.net";
  const std::size_t fits = kMaxLocalPartOctets - overhead - domain.size();
  std::string at_limit = SignOne("news@example.com", std::string(fits, 'r') + "@" + domain);
  EXPECT_EQ(LocalPart(at_limit).size(), kMaxLocalPartOctets);
  EXPECT_EQ(codec_.Decode(at_limit, TestNow()).form, ReturnPathForm::kVerp);

  std::string over = SignOne("news@example.com", std::string(fits + 1, 'r') + "@" + domain);
  EXPECT_EQ(over.rfind("prvs=", 0), 0u) << over;
  EXPECT_EQ(codec_.Decode(over, TestNow()).state, TagState::kVerified);
}

TEST_F(ReturnPathTest, EverySignedLocalPartFitsRfc5321) {
  for (std::size_t n = 1; n <= 64; n += 3) {
    for (std::size_t s = 1; s <= 45; s += 11) {
      std::string r = std::string(n, 'x') + "@example.net";
      Result<std::string> a = codec_.Sign(std::string(s, 's') + "@example.com", {r}, TestNow());
      ASSERT_TRUE(a.ok()) << n << " " << s;
      EXPECT_LE(LocalPart(*a).size(), kMaxLocalPartOctets) << *a;
      EXPECT_EQ(codec_.Decode(*a, TestNow()).state, TagState::kVerified) << *a;
    }
  }
}

TEST_F(ReturnPathTest, SenderTooLongForAnyForm) {
  const std::size_t fits = kMaxLocalPartOctets - 5 - kTagLength - 1;  // "prvs=" tag "="
  std::vector<std::string> two = {"a@example.net", "b@example.net"};
  EXPECT_TRUE(codec_.Sign(std::string(fits, 's') + "@example.com", two, TestNow()).ok());
  Result<std::string> too_long = codec_.Sign(std::string(fits + 1, 's') + "@example.com", two,
                                             TestNow());
  EXPECT_EQ(too_long.status().code(), Status::Code::kLimitExceeded);
}

TEST_F(ReturnPathTest, RecipientsVerpCannotCarryUsePerMessageForm) {
  for (std::string r : {"\"john doe\"@example.net", "jos\xc3\xa9@example.net",
                        "a@[192.0.2.1]", "a..b@example.net", "a@ex\xc3\xa4mple.de"}) {
    Result<std::string> a = codec_.Sign("news@example.com", {r}, TestNow());
    ASSERT_TRUE(a.ok()) << r;
    EXPECT_EQ(a->rfind("prvs=", 0), 0u) << r;
  }
}

TEST_F(ReturnPathTest, SignRefusesWhatCannotBeSigned) {
  EXPECT_EQ(codec_.Sign("", {"a@b.c"}, TestNow()).status().code(),
            Status::Code::kInvalidArgument);
  EXPECT_EQ(codec_.Sign("<>", {"a@b.c"}, TestNow()).status().code(),
            Status::Code::kInvalidArgument);
  EXPECT_EQ(codec_.Sign("no-at-sign", {"a@b.c"}, TestNow()).status().code(),
            Status::Code::kInvalidArgument);
  EXPECT_EQ(codec_.Sign("\"a b\"@example.com", {"a@b.c"}, TestNow()).status().code(),
            Status::Code::kInvalidArgument);
  EXPECT_EQ(codec_.Sign("a@example.com", {}, TestNow()).status().code(),
            Status::Code::kInvalidArgument);
}

TEST_F(ReturnPathTest, AlreadySignedSenderIsLeftAlone) {
  std::string once = SignOne("news@example.com", "alice@example.net");
  EXPECT_EQ(SignOne(once, "bob@example.net"), once);
  Result<std::string> batv = codec_.Sign("n@example.com", {"a@x.org", "b@y.org"}, TestNow());
  EXPECT_EQ(SignOne(*batv, "bob@example.net"), *batv);
}

TEST_F(ReturnPathTest, UnsignedAddresses) {
  for (std::string a : {"bounces@example.com", "alice@example.com", "", "<>", "bounces",
                        "bouncesx+abc@example.com", "prvs@example.com", "@example.com"}) {
    DecodedReturnPath d = codec_.Decode(a, TestNow());
    EXPECT_EQ(d.state, TagState::kNotSigned) << a;
    EXPECT_EQ(d.form, ReturnPathForm::kNone) << a;
  }
}

TEST_F(ReturnPathTest, MalformedSignedAddressesAreForged) {
  std::string good = SignOne("news@example.com", "alice@example.net");
  std::string tag = good.substr(8, kTagLength);
  const std::vector<std::string> malformed = {
      "bounces+abc@example.com", "bounces+@example.com",
      "bounces+" + tag + "+alice@example.com",     // no '='
      "bounces+" + tag + "+=example.net@example.com",
      "bounces+" + tag + "+alice=@example.com",
      "bounces+" + tag + "-alice=example.net@example.com",
      "bounces+" + tag.substr(0, 12) + "!+a=b.c@example.com",
      "prvs=abc=news@example.com", "prvs=" + tag + "=@example.com",
      "bounces+" + tag + "+" + std::string(2000, 'a') + "=b.c@example.com"};
  for (const std::string& a : malformed) {
    DecodedReturnPath d = codec_.Decode(a, TestNow());
    EXPECT_EQ(d.state, TagState::kForged) << a;
    EXPECT_FALSE(d.detail.empty());
  }
}

TEST(DayStampTest, CountsDaysSinceEpochModuloPeriod) {
  using std::chrono::days;
  using std::chrono::system_clock;
  EXPECT_EQ(DayStamp(system_clock::time_point()), 0);
  EXPECT_EQ(DayStamp(system_clock::time_point(days(1023)) + std::chrono::hours(23)), 1023);
  EXPECT_EQ(DayStamp(system_clock::time_point(days(1024))), 0);
  EXPECT_EQ(DayStamp(TestNow()), 20779 % 1024);
}

}  // namespace
}  // namespace bm
