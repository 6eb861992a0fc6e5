// Plain string helpers used by the parser's text decoders. ASCII-only case
// folding: the markers and field names they look for are ASCII.
//
// Internal to parser/. All functions are pure and thread-safe.
#ifndef BM_PARSER_TEXT_UTIL_H_
#define BM_PARSER_TEXT_UTIL_H_

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include "common/ascii.h"  // IsAsciiDigit, IsAsciiAlnum, EqualsIgnoreCase, ToLowerAscii

namespace bm {

bool StartsWithIgnoreCase(std::string_view s, std::string_view prefix);
// Position of needle in haystack ignoring ASCII case, or npos.
std::size_t FindIgnoreCase(std::string_view haystack, std::string_view needle,
                           std::size_t from = 0);
bool ContainsIgnoreCase(std::string_view haystack, std::string_view needle);
std::string_view Trim(std::string_view s);

// Splits text into lines; accepts LF and CRLF, drops the terminators.
std::vector<std::string_view> SplitLines(std::string_view text);

// Joins whitespace runs (including folded line breaks) into single spaces
// and trims, then cuts to at most max_bytes without splitting a UTF-8
// character.
std::string CollapseWhitespace(std::string_view s, std::size_t max_bytes);

// Cuts s to at most max_bytes on a UTF-8 character boundary.
std::string_view TruncateUtf8(std::string_view s, std::size_t max_bytes);

}  // namespace bm

#endif  // BM_PARSER_TEXT_UTIL_H_
