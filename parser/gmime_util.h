// Conversion of decoded text to valid UTF-8 (GMime's charset tables and
// iconv cache).
//
// Internal to parser/. Thread safety: all functions are reentrant.
#ifndef BM_PARSER_GMIME_UTIL_H_
#define BM_PARSER_GMIME_UTIL_H_

#include <gmime/gmime.h>

#include <string>
#include <string_view>

namespace bm {

// Converts bytes in the given charset (MIME name, may be empty) to UTF-8.
// Bytes that are invalid in that charset become U+FFFD; an unknown or empty
// charset is treated as UTF-8 with the same replacement, so the result is
// always valid UTF-8.
std::string ToUtf8(std::string_view bytes, std::string_view charset);

// Replaces every invalid UTF-8 sequence in text by U+FFFD.
std::string SanitizeUtf8(std::string_view text);

}  // namespace bm

#endif  // BM_PARSER_GMIME_UTIL_H_
