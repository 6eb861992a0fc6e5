// Small matchers the config is made of: client networks (CIDR) and bounce
// address patterns (globs). Plain values; thread-compatible.
#ifndef BM_MILTER_MATCHERS_H_
#define BM_MILTER_MATCHERS_H_

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "common/status.h"

struct sockaddr;

namespace bm {

// An IPv4 or IPv6 address. IPv4 is kept as an IPv4-mapped IPv6 address
// (::ffff:a.b.c.d) so that one comparison covers both families.
struct IpAddress {
  std::array<std::uint8_t, 16> bytes{};
};

// A network: address + prefix length over the 128-bit mapped form.
struct NetRange {
  IpAddress base;
  int prefix_bits = 128;
  std::string text;  // as configured, for logs
};

// "192.0.2.0/24", "10.1.2.3" (/32), "2001:db8::/32", "::1".
// Errors: kInvalidArgument.
Result<NetRange> ParseNetRange(std::string_view text);
// Text form of an address ("127.0.0.1", "::1"); empty on failure.
std::optional<IpAddress> ParseIpAddress(std::string_view text);
// From the client address of the MTA's connect command; nullopt when the
// family is neither AF_INET nor AF_INET6 (unix socket, unknown).
std::optional<IpAddress> IpFromSockaddr(const sockaddr* addr);
bool NetContains(const NetRange& net, const IpAddress& ip);

// Removes one pair of enclosing angle brackets and surrounding blanks:
// "<a@b>" -> "a@b", "a@b" -> "a@b", "<>" -> "".
std::string_view StripAngleBrackets(std::string_view address);

}  // namespace bm

#endif  // BM_MILTER_MATCHERS_H_
