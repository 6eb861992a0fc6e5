#include "parser/gmime_util.h"

#include <iconv.h>

#include <cerrno>
#include <cstring>

#include "parser/text_util.h"

namespace bm {
namespace {

constexpr std::string_view kReplacement = "\xEF\xBF\xBD";

// Length of the valid UTF-8 sequence starting at s[i], or 0 if invalid.
std::size_t ValidUtf8Length(std::string_view s, std::size_t i) {
  const auto b = [&](std::size_t k) { return static_cast<unsigned char>(s[i + k]); };
  const unsigned char c = b(0);
  if (c < 0x80) return 1;
  std::size_t n;
  unsigned char lo = 0x80, hi = 0xBF;
  if (c >= 0xC2 && c <= 0xDF) {
    n = 2;
  } else if (c >= 0xE0 && c <= 0xEF) {
    n = 3;
    if (c == 0xE0) lo = 0xA0;
    if (c == 0xED) hi = 0x9F;  // no surrogates
  } else if (c >= 0xF0 && c <= 0xF4) {
    n = 4;
    if (c == 0xF0) lo = 0x90;
    if (c == 0xF4) hi = 0x8F;
  } else {
    return 0;
  }
  if (i + n > s.size()) return 0;
  if (b(1) < lo || b(1) > hi) return 0;
  for (std::size_t k = 2; k < n; ++k) {
    if (b(k) < 0x80 || b(k) > 0xBF) return 0;
  }
  return n;
}

bool IsUtf8Name(std::string_view charset) {
  return charset.empty() || EqualsIgnoreCase(charset, "utf-8") ||
         EqualsIgnoreCase(charset, "utf8") || EqualsIgnoreCase(charset, "us-ascii") ||
         EqualsIgnoreCase(charset, "ascii");
}

}  // namespace

std::string SanitizeUtf8(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  std::size_t i = 0;
  while (i < text.size()) {
    // Copy ASCII runs in one go: most of a bounce is ASCII.
    std::size_t ascii = i;
    while (ascii < text.size() && static_cast<unsigned char>(text[ascii]) < 0x80) ++ascii;
    if (ascii > i) {
      out.append(text.substr(i, ascii - i));
      i = ascii;
      continue;
    }
    const std::size_t n = ValidUtf8Length(text, i);
    if (n == 0) {
      out += kReplacement;
      ++i;
    } else {
      out.append(text.substr(i, n));
      i += n;
    }
  }
  return out;
}

std::string ToUtf8(std::string_view bytes, std::string_view charset) {
  if (IsUtf8Name(charset)) return SanitizeUtf8(bytes);
  const std::string name(charset);
  iconv_t cd = g_mime_iconv_open("UTF-8", g_mime_charset_iconv_name(name.c_str()));
  if (cd == reinterpret_cast<iconv_t>(-1)) return SanitizeUtf8(bytes);

  std::string out;
  out.reserve(bytes.size() * 2);
  std::string input(bytes);
  char* in = input.data();
  std::size_t in_left = input.size();
  char buffer[4096];
  while (in_left > 0) {
    char* o = buffer;
    std::size_t o_left = sizeof(buffer);
    const std::size_t r = iconv(cd, &in, &in_left, &o, &o_left);
    out.append(buffer, o - buffer);
    if (r == static_cast<std::size_t>(-1)) {
      if (errno == E2BIG) continue;
      // EILSEQ or EINVAL (truncated sequence at the end): skip one byte.
      out += kReplacement;
      ++in;
      --in_left;
      iconv(cd, nullptr, nullptr, nullptr, nullptr);
    }
  }
  // Flush any shift state (stateful charsets such as ISO-2022-JP).
  char* o = buffer;
  std::size_t o_left = sizeof(buffer);
  iconv(cd, nullptr, nullptr, &o, &o_left);
  out.append(buffer, o - buffer);
  g_mime_iconv_close(cd);
  return SanitizeUtf8(out);
}

}  // namespace bm
