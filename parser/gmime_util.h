// Small helpers for using GMime from C++: ownership of GObjects and the
// conversion of decoded part content to UTF-8.
//
// Internal to parser/. Thread safety: all functions are reentrant.
#ifndef BM_PARSER_GMIME_UTIL_H_
#define BM_PARSER_GMIME_UTIL_H_

#include <gmime/gmime.h>

#include <memory>
#include <string>
#include <string_view>

namespace bm {

struct GObjectUnref {
  void operator()(gpointer object) const {
    if (object != nullptr) g_object_unref(object);
  }
};
// Owns one reference to a GObject.
template <typename T>
using GPtr = std::unique_ptr<T, GObjectUnref>;

// Converts bytes in the given charset (MIME name, may be empty) to UTF-8.
// Bytes that are invalid in that charset become U+FFFD; an unknown or empty
// charset is treated as UTF-8 with the same replacement, so the result is
// always valid UTF-8.
std::string ToUtf8(std::string_view bytes, std::string_view charset);

// Replaces every invalid UTF-8 sequence in text by U+FFFD.
std::string SanitizeUtf8(std::string_view text);

// The transfer-decoded content of a leaf part (base64/quoted-printable
// undone), at most max_bytes of it.
std::string DecodedPartContent(GMimePart* part, std::size_t max_bytes);

}  // namespace bm

#endif  // BM_PARSER_GMIME_UTIL_H_
