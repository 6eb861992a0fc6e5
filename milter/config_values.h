// Value parsers of the config file, shared by the key table's setters. Each
// returns kInvalidArgument with a message that names the bad value (the
// loader adds file:line and the key). In their own namespace: parser/ has
// text helpers of the same names.
#ifndef BM_MILTER_CONFIG_VALUES_H_
#define BM_MILTER_CONFIG_VALUES_H_

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "common/ascii.h"  // EqualsIgnoreCase, for the setters
#include "common/status.h"
#include "milter/config.h"

namespace bm::config_text {

std::string_view Trim(std::string_view s);
// Drops a comment: '#' at the start of the line or after a blank.
std::string_view StripComment(std::string_view line);
// Lines split on LF; a trailing CR is dropped.
std::vector<std::string_view> SplitLines(std::string_view text);
// "a, b c" -> {"a", "b", "c"}.
std::vector<std::string> SplitList(std::string_view value);

// "1048576", "64K", "10M", "1G" within [min, max].
Result<std::size_t> ParseSize(std::string_view v, std::size_t min, std::size_t max);
Result<long long> ParseInteger(std::string_view v, long long min, long long max);
// yes/no, true/false, on/off, 1/0.
Result<bool> ParseBool(std::string_view v);
Result<ErrorAction> ParseErrorAction(std::string_view v);
Result<InboundAction> ParseInboundAction(std::string_view v);
// "0660" -> 0660; at most 0777.
Result<std::uint32_t> ParseOctalMode(std::string_view v);
// A Socket value, in libmilter's syntax: inet:PORT[@HOST], inet6:PORT[@HOST]
// (HOST may be written [ADDRESS]), unix:/PATH, local:/PATH.
struct SocketSpec {
  enum class Kind { kUnix, kInet, kInet6 };
  Kind kind = Kind::kInet;
  std::string path;  // kUnix
  std::string host;  // kInet, kInet6: an address or a name; "" = every address
  int port = 0;
};
Result<SocketSpec> ParseSocketSpec(std::string_view spec);

}  // namespace bm::config_text

#endif  // BM_MILTER_CONFIG_VALUES_H_
