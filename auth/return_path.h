// Signed return paths: envelope senders that prove a bounce answers our mail.
//
// The milter rewrites the envelope sender of outgoing mail (at end of message) to
// one of two forms; a bounce comes back to that address, and Decode() tells
// whether its tag is ours, fresh, and for whom.
//
// VERP form, one recipient (the recipient is encoded and authoritative):
//
//   <prefix>+<tag>+<local>=<domain>@<bounce domain>
//   bounces+bdkq3m7xw2ya4+alice.smith=example.net@mail.example.com
//
// Per-message form, several recipients, or when the VERP local part would be
// longer than the 64 octets RFC 5321 allows (BATV-like; the original sender
// is kept, so it is restored by Decode()):
//
//   prvs=<tag>=<sender local>@<sender domain>
//   prvs=bdkq3m7xw2ya4=newsletter@example.com
//
// <tag> is 13 lower-case base32 characters: 1 key id, 2 day stamp (days since
// 1970-01-01 modulo 1024), 10 HMAC (the first 50 bits of
// HMAC-SHA256(key, "bm-rp1" NUL form NUL id day NUL lower-cased address),
// where the address is the recipient (VERP) or the original sender
// (per-message)). The HMAC covers a lower-cased address and the tag is
// base32 lower case, so an address lower- or upper-cased by a remote MTA
// still verifies; the decoded recipient is returned as the address carries it.
//
// Thread safety: a ReturnPathCodec is immutable; its methods may be called
// from any number of threads at once.
#ifndef BM_AUTH_RETURN_PATH_H_
#define BM_AUTH_RETURN_PATH_H_

#include <chrono>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "auth/keyring.h"
#include "common/status.h"

namespace bm {

inline constexpr std::size_t kTagLength = 13;
inline constexpr std::size_t kMaxLocalPartOctets = 64;  // RFC 5321 4.5.3.1.1
inline constexpr std::size_t kMaxAddressOctets = 254;   // RFC 5321 path minus <>
inline constexpr int kDayStampPeriod = 1024;            // two base32 digits

struct ReturnPathOptions {
  // Local part before the first '+' of the VERP form. The MTA must accept
  // <prefix>+anything@domain (Postfix: recipient_delimiter = +).
  std::string prefix = "bounces";
  // Domain of the VERP form; empty keeps the original sender's domain (which
  // keeps SPF and DMARC alignment). The per-message form always keeps it.
  std::string verp_domain;
  // A tag is fresh for this many days after the day it was made (and one
  // day before, for clocks that disagree around midnight). Bounces are
  // usually sent within 5 days (Postfix's maximal_queue_lifetime).
  // REQUIRES: 1 <= max_age_days < kDayStampPeriod / 2.
  int max_age_days = 10;
};

enum class TagState {
  kVerified,   // our key, correct HMAC, fresh day stamp
  kExpired,    // our key and correct HMAC, but older than max_age_days
  kForged,     // has the form of a signed address, but the tag is malformed,
               // the key id is unknown, or the HMAC is wrong
  kNotSigned,  // not a signed address at all
};
enum class ReturnPathForm { kNone, kVerp, kPerMessage };

// "verified", "expired", "forged", "not-signed" / "verp", "per-message", "none".
std::string_view TagStateName(TagState state);
std::string_view ReturnPathFormName(ReturnPathForm form);

struct DecodedReturnPath {
  TagState state = TagState::kNotSigned;
  ReturnPathForm form = ReturnPathForm::kNone;
  char key_id = 0;           // when the tag was well-formed
  int day_stamp = -1;        // 0..1023, when the tag was well-formed
  int age_days = 0;          // days between the day stamp and now (-1 = tomorrow)
  std::string recipient;     // VERP: the recipient the tag was made for
  std::string original_sender;  // per-message: the sender before rewriting
  std::string detail;        // why forged, for logs ("unknown key id 'q'")
};

class ReturnPathCodec {
 public:
  using Clock = std::chrono::system_clock;

  // REQUIRES: keyring != nullptr; options as documented above.
  ReturnPathCodec(std::shared_ptr<const Keyring> keyring, ReturnPathOptions options);

  // The signed envelope sender for mail from `sender` to `recipients`, made
  // with the current key: the VERP form when there is exactly one recipient
  // that fits, the per-message form otherwise. A sender that already is a
  // signed address is returned unchanged (mail passing the milter twice).
  // Errors: kInvalidArgument (null or malformed sender, no recipients),
  // kLimitExceeded (even the per-message form would not fit RFC 5321).
  Result<std::string> Sign(std::string_view sender, const std::vector<std::string>& recipients,
                           Clock::time_point now) const;

  // Decodes and checks an envelope recipient of an inbound bounce. Surrounding
  // angle brackets are ignored. Never fails: bad input is kForged or kNotSigned.
  DecodedReturnPath Decode(std::string_view address, Clock::time_point now) const;

  const ReturnPathOptions& options() const { return options_; }

 private:
  std::string MakeTag(const SigningKey& key, ReturnPathForm form, int day,
                      std::string_view address) const;
  void CheckTag(std::string_view tag, ReturnPathForm form, std::string_view address,
                Clock::time_point now, DecodedReturnPath& out) const;

  std::shared_ptr<const Keyring> keyring_;
  ReturnPathOptions options_;
};

// Days since 1970-01-01 modulo kDayStampPeriod.
int DayStamp(std::chrono::system_clock::time_point now);

}  // namespace bm

#endif  // BM_AUTH_RETURN_PATH_H_
