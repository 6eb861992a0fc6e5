#include "parser/address.h"

#include "parser/text_util.h"

namespace bm {
namespace {

bool IsLocalChar(char c) {
  if (IsAsciiAlnum(c)) return true;
  switch (c) {
    case '.': case '!': case '#': case '$': case '%': case '&': case '\'': case '*':
    case '+': case '-': case '=': case '?': case '^': case '_': case '`':
    case '{': case '|': case '}': case '~':
      return true;
    default:
      return false;
  }
}

bool IsDomainChar(char c) {
  return IsAsciiAlnum(c) || c == '.' || c == '-' || c == '_';
}

constexpr std::size_t kMaxQuotedLocal = 64;

}  // namespace

std::vector<AddressHit> FindAddresses(std::string_view text, std::size_t max_hits, bool allow_utf8) {
  const auto utf8 = [allow_utf8](char c) { return allow_utf8 && static_cast<unsigned char>(c) >= 0x80; };
  std::vector<AddressHit> hits;
  std::size_t from = 0;
  while (hits.size() < max_hits) {
    const std::size_t at = text.find('@', from);
    if (at == std::string_view::npos) break;
    from = at + 1;
    std::size_t b = at;
    while (b > 0 && (IsLocalChar(text[b - 1]) || utf8(text[b - 1]))) --b;
    std::size_t e = at + 1;
    while (e < text.size() && (IsDomainChar(text[e]) || utf8(text[e]))) ++e;
    // A quoted local part ("john..doe"@example.com) is taken whole.
    if (b == at && at >= 2 && text[at - 1] == '"') {
      const std::size_t open = text.rfind('"', at - 2);
      if (open != std::string_view::npos && at - open <= kMaxQuotedLocal &&
          text.substr(open + 1, at - open - 2).find_first_of(" \t\r\n<>") == std::string_view::npos) {
        b = open;
      }
    }
    // Sentence punctuation and quoting are not part of the address.
    while (b < at && text[b] != '"' && (text[b] == '.' || text[b] == '\'' || text[b] == '`')) ++b;
    while (e > at + 1 && (text[e - 1] == '.' || text[e - 1] == '-')) --e;
    const std::string_view domain = text.substr(at + 1, e - at - 1);
    if (b == at || domain.find('.') == std::string_view::npos || domain.front() == '.') continue;
    if (!hits.empty() && b < hits.back().end) continue;
    hits.push_back({b, e, std::string(text.substr(b, e - b))});
    from = e;
  }
  return hits;
}

std::string ExtractAddress(std::string_view value) {
  std::string_view v = Trim(value);
  const std::size_t semi = v.find(';');
  if (semi != std::string_view::npos && v.find('@') > semi) v = Trim(v.substr(semi + 1));
  // Prefer the address inside angle brackets when there is one.
  const std::size_t lt = v.find('<');
  if (lt != std::string_view::npos) {
    const std::size_t gt = v.find('>', lt);
    if (gt != std::string_view::npos) {
      std::vector<AddressHit> inside = FindAddresses(v.substr(lt + 1, gt - lt - 1), 1, true);
      if (!inside.empty()) return inside.front().address;
    }
  }
  std::vector<AddressHit> hits = FindAddresses(v, 1, true);
  return hits.empty() ? std::string() : hits.front().address;
}

bool IsDaemonAddress(std::string_view address) {
  static constexpr std::string_view kLocals[] = {
      "mailer-daemon", "postmaster", "mail-daemon", "mailerdaemon", "maildaemon", "double-bounce",
  };
  const std::string_view local = address.substr(0, address.find('@'));
  for (std::string_view l : kLocals) {
    if (EqualsIgnoreCase(local, l)) return true;
  }
  return false;
}

}  // namespace bm
