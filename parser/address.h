// Finding and normalising e-mail addresses in header values and free text.
//
// Internal to parser/. All functions are pure and thread-safe.
#ifndef BM_PARSER_ADDRESS_H_
#define BM_PARSER_ADDRESS_H_

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

namespace bm {

struct AddressHit {
  std::size_t begin = 0;  // offset of the first character of the address
  std::size_t end = 0;    // one past the last character
  std::string address;    // local@domain as written
};

// Every addr-spec-looking token (local@domain.tld) in text, in order; at most
// max_hits of them. With allow_utf8, non-ASCII UTF-8 characters may be part
// of the address (RFC 6531 internationalised addresses); use it only where
// the text is known to hold an address, since free text in scripts without
// spaces would otherwise run into it.
std::vector<AddressHit> FindAddresses(std::string_view text, std::size_t max_hits = 64,
                                      bool allow_utf8 = false);

// The address in a header or DSN field value (UTF-8 allowed): strips an address type
// ("rfc822;"), display names, comments and angle brackets. Empty when the
// value holds no address.
std::string ExtractAddress(std::string_view value);

// True for addresses that write bounces rather than receive them
// (mailer-daemon@, postmaster@, ...): never a failed recipient by themselves.
bool IsDaemonAddress(std::string_view address);

}  // namespace bm

#endif  // BM_PARSER_ADDRESS_H_
