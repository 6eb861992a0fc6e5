#include "parser/text_util.h"

#include <algorithm>
#include <cstring>

namespace bm {
namespace {

bool IsSpace(char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '\f' || c == '\v'; }

}  // namespace

bool StartsWithIgnoreCase(std::string_view s, std::string_view prefix) {
  return s.size() >= prefix.size() && EqualsIgnoreCase(s.substr(0, prefix.size()), prefix);
}

std::size_t FindIgnoreCase(std::string_view haystack, std::string_view needle, std::size_t from) {
  if (needle.empty()) return from <= haystack.size() ? from : std::string_view::npos;
  if (needle.size() > haystack.size()) return std::string_view::npos;
  const char lower = LowerAscii(needle[0]);
  const char upper = (lower >= 'a' && lower <= 'z') ? static_cast<char>(lower - 32) : lower;
  const std::string_view rest = needle.substr(1);
  const std::size_t last = haystack.size() - needle.size();
  if (from > last) return std::string_view::npos;
  // Candidates for the first character, in either case, found with memchr;
  // each of the two positions is searched again only once it is used.
  const char* base = haystack.data();
  const auto next = [&](char c, std::size_t at) -> std::size_t {
    if (at > last) return std::string_view::npos;
    const void* p = std::memchr(base + at, c, last - at + 1);
    return p ? static_cast<const char*>(p) - base : std::string_view::npos;
  };
  std::size_t next_lower = next(lower, from);
  std::size_t next_upper = upper == lower ? std::string_view::npos : next(upper, from);
  while (true) {
    const std::size_t i = std::min(next_lower, next_upper);
    if (i == std::string_view::npos) return std::string_view::npos;
    if (EqualsIgnoreCase(haystack.substr(i + 1, rest.size()), rest)) return i;
    if (i == next_lower) next_lower = next(lower, i + 1);
    if (i == next_upper) next_upper = next(upper, i + 1);
  }
}

bool ContainsIgnoreCase(std::string_view haystack, std::string_view needle) {
  return FindIgnoreCase(haystack, needle) != std::string_view::npos;
}

std::string_view Trim(std::string_view s) {
  while (!s.empty() && IsSpace(s.front())) s.remove_prefix(1);
  while (!s.empty() && IsSpace(s.back())) s.remove_suffix(1);
  return s;
}

std::vector<std::string_view> SplitLines(std::string_view text) {
  std::vector<std::string_view> lines;
  std::size_t start = 0;
  while (start < text.size()) {
    std::size_t end = text.find('\n', start);
    if (end == std::string_view::npos) end = text.size();
    std::string_view line = text.substr(start, end - start);
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    lines.push_back(line);
    start = end + 1;
  }
  return lines;
}

std::string_view TruncateUtf8(std::string_view s, std::size_t max_bytes) {
  if (s.size() <= max_bytes) return s;
  std::size_t n = max_bytes;
  // Step back over continuation bytes so no character is split.
  while (n > 0 && (static_cast<unsigned char>(s[n]) & 0xC0) == 0x80) --n;
  return s.substr(0, n);
}

std::string CollapseWhitespace(std::string_view s, std::size_t max_bytes) {
  std::string out;
  out.reserve(std::min(s.size(), max_bytes));
  bool pending_space = false;
  for (char c : s) {
    if (IsSpace(c)) {
      pending_space = !out.empty();
      continue;
    }
    if (pending_space) out += ' ';
    pending_space = false;
    out += c;
    if (out.size() > max_bytes + 4) break;
  }
  return std::string(TruncateUtf8(out, max_bytes));
}

}  // namespace bm
