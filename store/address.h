// Address normalisation: the key under which a recipient is stored and
// looked up. The same function runs on ingest, lookup, import and the CLI,
// so "User@Example.COM" and "user@example.com" are one record by default.
#ifndef BM_STORE_ADDRESS_H_
#define BM_STORE_ADDRESS_H_

#include <string>
#include <string_view>

#include "common/status.h"

namespace bm {

struct AddressNormalization {
  // Compare local parts case-insensitively (ASCII letters folded to lower
  // case). RFC 5321 lets a server treat them as case-sensitive; almost none
  // do, and a CRM list rarely preserves case.
  bool fold_local_part_case = true;
};

inline constexpr std::size_t kMaxLocalPartBytes = 64;    // RFC 5321 4.5.3.1.1
inline constexpr std::size_t kMaxDomainBytes = 255;      // RFC 5321 4.5.3.1.2
inline constexpr std::size_t kMaxAddressBytes = 320;

// Trims surrounding white space and one pair of <>, strips a leading
// "rfc822;" type, splits at the last '@', lower-cases the ASCII letters of
// the domain (non-ASCII IDN labels are kept as given, a trailing dot removed)
// and folds the local part's case when asked. Errors: kInvalidArgument (no
// '@', empty part, a part too long, control characters or white space).
Result<std::string> NormalizeAddress(std::string_view address, const AddressNormalization& options);

// A normalised address in a fixed buffer: what NormalizeAddress returns,
// without allocating (the milter's lookup path).
class NormalizedAddress {
 public:
  std::string_view full() const { return {data_, size_}; }
  std::string_view local_part() const { return {data_, at_}; }
  std::string_view domain() const { return full().substr(at_ + 1); }

 private:
  friend Status NormalizeAddressInto(std::string_view, const AddressNormalization&,
                                     NormalizedAddress*);
  char data_[kMaxLocalPartBytes + 1 + kMaxDomainBytes];
  std::size_t size_ = 0;
  std::size_t at_ = 0;  // position of the '@'
};
// NormalizeAddress into *out. Same errors.
Status NormalizeAddressInto(std::string_view address, const AddressNormalization& options,
                            NormalizedAddress* out);

// Same rules for a bare domain (also accepts "@example.com").
Result<std::string> NormalizeDomain(std::string_view domain);

// The part after the last '@' of a normalised address.
std::string_view DomainOf(std::string_view normalized_address);

}  // namespace bm

#endif  // BM_STORE_ADDRESS_H_
