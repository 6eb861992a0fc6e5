#include "store/address.h"

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
    char c = s[i];
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
    if (c != prefix[i]) return false;
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

void LowerAscii(std::string& s) {
  for (char& c : s) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
}

}  // namespace

Result<std::string> NormalizeDomain(std::string_view domain) {
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
  std::string out(d);
  LowerAscii(out);
  return out;
}

Result<std::string> NormalizeAddress(std::string_view address,
                                     const AddressNormalization& options) {
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
  Result<std::string> domain = NormalizeDomain(a.substr(at + 1));
  if (!domain.ok()) return domain.status();
  std::string out(local);
  if (options.fold_local_part_case) LowerAscii(out);
  out += '@';
  out += *domain;
  return out;
}

std::string_view DomainOf(std::string_view normalized_address) {
  std::size_t at = normalized_address.rfind('@');
  return at == std::string_view::npos ? std::string_view() : normalized_address.substr(at + 1);
}

}  // namespace bm
