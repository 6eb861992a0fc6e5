// ASCII character classes and case folding, for the protocol text the
// project handles: domains, header and field names, keywords, config keys.
// ASCII on purpose: std::tolower and friends follow the process's C locale,
// and bytes >= 0x80 (UTF-8 local parts, IDN domains) are never folded.
//
// All functions are pure and thread-safe.
#ifndef BM_COMMON_ASCII_H_
#define BM_COMMON_ASCII_H_

#include <algorithm>
#include <string>
#include <string_view>

namespace bm {

constexpr bool IsAsciiDigit(char c) { return c >= '0' && c <= '9'; }
constexpr bool IsAsciiAlpha(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); }
constexpr bool IsAsciiAlnum(char c) { return IsAsciiDigit(c) || IsAsciiAlpha(c); }
constexpr char LowerAscii(char c) {
  return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c;
}

inline std::string ToLowerAscii(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = LowerAscii(c);
  return out;
}

inline bool EqualsIgnoreCase(std::string_view a, std::string_view b) {
  return std::equal(a.begin(), a.end(), b.begin(), b.end(),
                    [](char x, char y) { return LowerAscii(x) == LowerAscii(y); });
}

}  // namespace bm

#endif  // BM_COMMON_ASCII_H_
