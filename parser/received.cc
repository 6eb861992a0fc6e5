#include "parser/received.h"

#include <algorithm>
#include <optional>
#include <string_view>

#include "parser/text_util.h"

namespace bm {
namespace {

constexpr std::size_t kMaxHostBytes = 253;
constexpr std::size_t kMaxIdBytes = 64;
constexpr int kMaxCommentDepth = 8;

bool IsHost(std::string_view s) {
  return !s.empty() && s.size() <= kMaxHostBytes && s.front() != '.' && s.front() != '-' &&
         std::all_of(s.begin(), s.end(),
                     [](char ch) { return IsAsciiAlnum(ch) || ch == '.' || ch == '-'; });
}

bool IsId(std::string_view s) {
  return !s.empty() && s.size() <= kMaxIdBytes &&
         std::all_of(s.begin(), s.end(),
                     [](char ch) { return IsAsciiAlnum(ch) || ch == '.' || ch == '-' || ch == '_'; });
}

// The value up to its date (after ';'), with (comments) replaced by blanks;
// nullopt when the comments are unbalanced or nested too deep.
std::optional<std::string> WithoutComments(std::string_view value) {
  std::string out;
  out.reserve(value.size());
  int depth = 0;
  for (std::size_t i = 0; i < value.size(); ++i) {
    const char ch = value[i];
    if (ch == '\\' && depth > 0) {
      ++i;  // quoted-pair inside a comment
    } else if (ch == '(') {
      if (++depth > kMaxCommentDepth) return std::nullopt;
      out += ' ';
    } else if (ch == ')') {
      if (--depth < 0) return std::nullopt;
    } else if (depth == 0) {
      if (ch == ';') break;
      out += ch;
    }
  }
  if (depth != 0) return std::nullopt;
  return out;
}

// The word after the clause keyword `name` ("by", "id"), or "".
std::string_view ClauseValue(const std::vector<std::string_view>& words, std::string_view name) {
  for (std::size_t i = 0; i + 1 < words.size(); ++i) {
    if (EqualsIgnoreCase(words[i], name)) return words[i + 1];
  }
  return {};
}

std::vector<std::string_view> Words(std::string_view text) {
  std::vector<std::string_view> words;
  std::size_t i = 0;
  while (i < text.size()) {
    i = text.find_first_not_of(" \t\r\n", i);
    if (i == std::string_view::npos) break;
    std::size_t end = text.find_first_of(" \t\r\n", i);
    if (end == std::string_view::npos) end = text.size();
    words.push_back(text.substr(i, end - i));
    i = end;
  }
  return words;
}

}  // namespace

std::size_t ReceivedFieldsAbove(const FieldGroup& fields, std::size_t keep) {
  const auto received = static_cast<std::size_t>(std::count_if(
      fields.begin(), fields.end(),
      [](const HeaderField& f) { return EqualsIgnoreCase(f.name, "Received"); }));
  return received > keep ? received - keep : 0;
}

std::vector<std::string> ReceivedQueueIds(const FieldGroup& fields) {
  std::size_t skip = ReceivedFieldsAbove(fields, kMaxReceivedFields);
  std::vector<std::string> ids;
  for (const HeaderField& f : fields) {
    if (!EqualsIgnoreCase(f.name, "Received")) continue;
    if (skip > 0) {
      --skip;
      continue;
    }
    std::optional<std::string> text = WithoutComments(f.value);
    if (!text) continue;
    const std::vector<std::string_view> words = Words(*text);
    const std::string_view host = ClauseValue(words, "by");
    const std::string_view id = ClauseValue(words, "id");
    if (!IsHost(host) || !IsId(id)) continue;
    std::string key = std::string(id) + "@" + ToLowerAscii(host);
    if (std::find(ids.begin(), ids.end(), key) == ids.end()) ids.push_back(std::move(key));
  }
  return ids;
}

}  // namespace bm
