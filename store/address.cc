#include "store/address.h"

#include "common/ascii.h"

namespace bm {
namespace {

constexpr std::string_view kSpace = " \t\r\n";

std::string_view Trim(std::string_view s) {
  std::size_t b = s.find_first_not_of(kSpace);
  if (b == std::string_view::npos) return {};
  std::size_t e = s.find_last_not_of(kSpace);
  return s.substr(b, e - b + 1);
}

bool StartsWithNoCase(std::string_view s, std::string_view prefix) {
  if (s.size() < prefix.size()) return false;
  for (std::size_t i = 0; i < prefix.size(); ++i) {
    if (LowerAscii(s[i]) != prefix[i]) return false;
  }
  return true;
}

// Control characters and white space never belong in a stored address.
bool HasForbiddenByte(std::string_view s) {
  for (unsigned char c : s) {
    if (c <= 0x20 || c == 0x7f) return true;
  }
  return false;
}

// Checks a domain; *trimmed is the part to keep, not yet lower-cased.
Status CheckDomain(std::string_view domain, std::string_view* trimmed) {
  std::string_view d = Trim(domain);
  if (!d.empty() && d.front() == '@') d.remove_prefix(1);
  if (!d.empty() && d.back() == '.') d.remove_suffix(1);
  if (d.empty()) return Status::InvalidArgument("empty domain");
  if (d.size() > kMaxDomainBytes) return Status::InvalidArgument("domain longer than 255 bytes");
  if (HasForbiddenByte(d) || d.find('@') != std::string_view::npos) {
    return Status::InvalidArgument("domain contains white space, control characters or '@'");
  }
  if (d.front() == '.' || d.find("..") != std::string_view::npos) {
    return Status::InvalidArgument("domain has an empty label");
  }
  *trimmed = d;
  return Status::Ok();
}

}  // namespace

Result<std::string> NormalizeDomain(std::string_view domain) {
  std::string_view d;
  Status s = CheckDomain(domain, &d);
  if (!s.ok()) return s;
  std::string out(d);
  for (char& c : out) c = LowerAscii(c);
  return out;
}

Status NormalizeAddressInto(std::string_view address, const AddressNormalization& options,
                            NormalizedAddress* out) {
  if (address.size() > kMaxAddressBytes * 2) return Status::InvalidArgument("address too long");
  std::string_view a = Trim(address);
  if (StartsWithNoCase(a, "rfc822;")) a = Trim(a.substr(7));
  if (a.size() >= 2 && a.front() == '<' && a.back() == '>') a = Trim(a.substr(1, a.size() - 2));
  std::size_t at = a.rfind('@');
  if (at == std::string_view::npos) return Status::InvalidArgument("no '@' in address");
  std::string_view local = a.substr(0, at);
  if (local.empty()) return Status::InvalidArgument("empty local part");
  if (local.size() > kMaxLocalPartBytes) {
    return Status::InvalidArgument("local part longer than 64 bytes");
  }
  if (HasForbiddenByte(local)) {
    return Status::InvalidArgument("local part contains white space or control characters");
  }
  std::string_view domain;
  Status s = CheckDomain(a.substr(at + 1), &domain);
  if (!s.ok()) return s;
  char* p = out->data_;
  for (char c : local) *p++ = options.fold_local_part_case ? LowerAscii(c) : c;
  *p++ = '@';
  for (char c : domain) *p++ = LowerAscii(c);
  out->at_ = local.size();
  out->size_ = static_cast<std::size_t>(p - out->data_);
  return Status::Ok();
}

Result<std::string> NormalizeAddress(std::string_view address,
                                     const AddressNormalization& options) {
  NormalizedAddress norm;
  Status s = NormalizeAddressInto(address, options, &norm);
  if (!s.ok()) return s;
  return std::string(norm.full());
}

std::string_view DomainOf(std::string_view normalized_address) {
  std::size_t at = normalized_address.rfind('@');
  return at == std::string_view::npos ? std::string_view() : normalized_address.substr(at + 1);
}

}  // namespace bm
