#include "auth/return_path.h"

#include <cstring>
#include <utility>

#include "auth/tag_crypto.h"
#include "common/ascii.h"

namespace bm {
namespace {

constexpr std::string_view kPerMessagePrefix = "prvs=";
constexpr std::size_t kMacChars = 10;  // 50 bits
constexpr std::size_t kMaxDecodedAddressOctets = 1024;


bool StartsWithIgnoreCase(std::string_view s, std::string_view prefix) {
  return s.size() >= prefix.size() && ToLowerAscii(s.substr(0, prefix.size())) == ToLowerAscii(prefix);
}

std::string_view StripBrackets(std::string_view a) {
  if (a.size() >= 2 && a.front() == '<' && a.back() == '>') a = a.substr(1, a.size() - 2);
  return a;
}

// RFC 5322 atext plus '.', as a dot-atom: no leading, trailing or double dot.
bool IsDotAtom(std::string_view s) {
  if (s.empty() || s.front() == '.' || s.back() == '.') return false;
  char previous = 0;
  for (char c : s) {
    if (!IsAsciiAlnum(c) && std::strchr("!#$%&'*+-/=?^_`{|}~.", c) == nullptr) return false;
    if (c == '.' && previous == '.') return false;
    previous = c;
  }
  return true;
}

// An ASCII host name: letters, digits, '-' and '.'.
bool IsHostName(std::string_view s) {
  if (s.empty() || s.front() == '.' || s.back() == '.') return false;
  for (char c : s) {
    if (!IsAsciiAlnum(c) && c != '-' && c != '.') return false;
  }
  return true;
}

struct AddressParts {
  std::string_view local;
  std::string_view domain;
};

bool SplitAddress(std::string_view address, AddressParts& out) {
  std::size_t at = address.rfind('@');
  if (at == std::string_view::npos || at == 0 || at + 1 == address.size()) return false;
  out.local = address.substr(0, at);
  out.domain = address.substr(at + 1);
  return true;
}

std::string Join(std::string_view local, std::string_view domain) {
  std::string out(local);
  out += '@';
  out += domain;
  return out;
}

}  // namespace

std::string_view TagStateName(TagState state) {
  switch (state) {
    case TagState::kVerified: return "verified";
    case TagState::kExpired: return "expired";
    case TagState::kForged: return "forged";
    case TagState::kNotSigned: return "not-signed";
  }
  return "?";
}

std::string_view ReturnPathFormName(ReturnPathForm form) {
  switch (form) {
    case ReturnPathForm::kVerp: return "verp";
    case ReturnPathForm::kPerMessage: return "per-message";
    case ReturnPathForm::kNone: return "none";
  }
  return "?";
}

int DayStamp(std::chrono::system_clock::time_point now) {
  auto days = std::chrono::floor<std::chrono::days>(now).time_since_epoch().count();
  return static_cast<int>(((days % kDayStampPeriod) + kDayStampPeriod) % kDayStampPeriod);
}

ReturnPathCodec::ReturnPathCodec(std::shared_ptr<const Keyring> keyring, ReturnPathOptions options)
    : keyring_(std::move(keyring)), options_(std::move(options)) {}

std::string ReturnPathCodec::MakeTag(const SigningKey& key, ReturnPathForm form, int day,
                                     std::string_view address) const {
  std::string head;
  head += key.id;
  head += kBase32Alphabet[day / 32];
  head += kBase32Alphabet[day % 32];
  std::string message("bm-rp1", 6);
  message += '\0';
  message += form == ReturnPathForm::kVerp ? 'v' : 'm';
  message += '\0';
  message += head;
  message += '\0';
  message += ToLowerAscii(address);
  std::array<std::uint8_t, 32> mac = HmacSha256(key.secret, message);
  return head + Base32EncodeBits(mac, kMacChars * 5);
}

Result<std::string> ReturnPathCodec::Sign(std::string_view sender,
                                          const std::vector<std::string>& recipients,
                                          Clock::time_point now) const {
  sender = StripBrackets(sender);
  AddressParts from;
  if (sender.empty()) return Status::InvalidArgument("the null sender is never signed");
  if (!SplitAddress(sender, from) || !IsDotAtom(from.local)) {
    return Status::InvalidArgument("sender is not a plain local@domain address");
  }
  if (Decode(sender, now).form != ReturnPathForm::kNone) return std::string(sender);
  if (recipients.empty()) return Status::InvalidArgument("no recipients to sign for");

  const SigningKey& key = keyring_->current();
  const int day = DayStamp(now);
  AddressParts to;
  if (recipients.size() == 1 && SplitAddress(StripBrackets(recipients[0]), to) &&
      IsDotAtom(to.local) && IsHostName(to.domain)) {
    std::string recipient = Join(to.local, to.domain);
    std::string local = options_.prefix + "+" +
                        MakeTag(key, ReturnPathForm::kVerp, day, recipient) + "+" +
                        std::string(to.local) + "=" + std::string(to.domain);
    std::string address =
        Join(local, options_.verp_domain.empty() ? from.domain : options_.verp_domain);
    if (local.size() <= kMaxLocalPartOctets && address.size() <= kMaxAddressOctets) {
      return address;
    }
  }
  std::string local = std::string(kPerMessagePrefix) +
                      MakeTag(key, ReturnPathForm::kPerMessage, day, sender) + "=" +
                      std::string(from.local);
  std::string address = Join(local, from.domain);
  if (local.size() > kMaxLocalPartOctets || address.size() > kMaxAddressOctets) {
    return Status::LimitExceeded("sender " + std::string(sender) +
                                 " is too long to carry a return-path tag");
  }
  return address;
}

void ReturnPathCodec::CheckTag(std::string_view tag, ReturnPathForm form,
                               std::string_view address, Clock::time_point now,
                               DecodedReturnPath& out) const {
  out.form = form;
  out.state = TagState::kForged;
  std::string lower = ToLowerAscii(tag);
  for (char c : lower) {
    if (Base32Value(c) < 0) {
      out.detail = "malformed tag";
      return;
    }
  }
  out.key_id = lower[0];
  out.day_stamp = Base32Value(lower[1]) * 32 + Base32Value(lower[2]);
  const SigningKey* key = keyring_->Find(out.key_id);
  if (key == nullptr) {
    out.detail = std::string("unknown key id '") + out.key_id + "'";
    return;
  }
  if (!ConstantTimeEqual(MakeTag(*key, form, out.day_stamp, address), lower)) {
    out.detail = "tag does not match";
    return;
  }
  int age = (DayStamp(now) - out.day_stamp + kDayStampPeriod) % kDayStampPeriod;
  if (age == kDayStampPeriod - 1) age = -1;  // made "tomorrow" by a clock slightly ahead
  out.age_days = age;
  out.state = age <= options_.max_age_days ? TagState::kVerified : TagState::kExpired;
  if (out.state == TagState::kExpired) out.detail = "tag is " + std::to_string(age) + " days old";
}

DecodedReturnPath ReturnPathCodec::Decode(std::string_view address, Clock::time_point now) const {
  DecodedReturnPath out;
  address = StripBrackets(address);
  AddressParts parts;
  if (!SplitAddress(address, parts)) return out;
  const bool per_message = StartsWithIgnoreCase(parts.local, kPerMessagePrefix);
  const std::string verp_start = options_.prefix + "+";
  const bool verp = !per_message && StartsWithIgnoreCase(parts.local, verp_start);
  if (!per_message && !verp) return out;

  out.form = verp ? ReturnPathForm::kVerp : ReturnPathForm::kPerMessage;
  out.state = TagState::kForged;
  std::string_view rest = parts.local.substr(verp ? verp_start.size() : kPerMessagePrefix.size());
  const char separator = verp ? '+' : '=';
  if (address.size() > kMaxDecodedAddressOctets || rest.size() <= kTagLength + 1 ||
      rest[kTagLength] != separator) {
    out.detail = "malformed signed address";
    return out;
  }
  std::string_view tag = rest.substr(0, kTagLength);
  std::string_view payload = rest.substr(kTagLength + 1);
  if (verp) {
    std::size_t eq = payload.rfind('=');
    if (eq == std::string_view::npos || eq == 0 || eq + 1 == payload.size()) {
      out.detail = "malformed signed address";
      return out;
    }
    out.recipient = Join(payload.substr(0, eq), payload.substr(eq + 1));
    CheckTag(tag, out.form, out.recipient, now, out);
  } else {
    out.original_sender = Join(payload, parts.domain);
    CheckTag(tag, out.form, out.original_sender, now, out);
  }
  return out;
}

}  // namespace bm
