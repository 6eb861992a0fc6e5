#include "parser/html_text.h"

#include "parser/text_util.h"

namespace bm {
namespace {

bool IsBlockTag(std::string_view name) {
  static constexpr std::string_view kBlocks[] = {"br", "p", "div", "tr", "li", "table",
                                                 "h1", "h2", "h3", "h4", "pre", "blockquote"};
  for (std::string_view b : kBlocks) {
    if (EqualsIgnoreCase(name, b)) return true;
  }
  return false;
}

// Decodes the entity at html[i] ('&'); returns its length, or 0 if unknown.
std::size_t DecodeEntity(std::string_view html, std::size_t i, std::string* out) {
  static constexpr struct {
    std::string_view name;
    std::string_view text;
  } kEntities[] = {{"&nbsp;", " "}, {"&lt;", "<"},   {"&gt;", ">"},
                   {"&amp;", "&"},  {"&quot;", "\""}, {"&#39;", "'"}};
  for (const auto& e : kEntities) {
    if (StartsWithIgnoreCase(html.substr(i), e.name)) {
      out->append(e.text);
      return e.name.size();
    }
  }
  return 0;
}

}  // namespace

std::string HtmlToText(std::string_view html) {
  std::string out;
  out.reserve(html.size());
  std::size_t i = 0;
  while (i < html.size()) {
    const char c = html[i];
    if (c == '<') {
      const std::size_t close = html.find('>', i);
      if (close == std::string_view::npos) break;
      std::string_view tag = html.substr(i + 1, close - i - 1);
      if (!tag.empty() && tag[0] == '/') tag.remove_prefix(1);
      std::size_t n = 0;
      while (n < tag.size() && tag[n] != ' ' && tag[n] != '/' && tag[n] != '\t') ++n;
      const std::string_view name = tag.substr(0, n);
      if (EqualsIgnoreCase(name, "style") || EqualsIgnoreCase(name, "script")) {
        if (html[i + 1] != '/') {
          const std::size_t end = FindIgnoreCase(html, "</", close);
          i = end == std::string_view::npos ? html.size() : end;
          continue;
        }
      }
      if (IsBlockTag(name)) out += '\n';
      i = close + 1;
    } else if (c == '&') {
      const std::size_t n = DecodeEntity(html, i, &out);
      if (n == 0) out += c;
      i += n == 0 ? 1 : n;
    } else if (c == '\r') {
      ++i;
    } else {
      out += (c == '\n') ? ' ' : c;
      ++i;
    }
  }
  return out;
}

}  // namespace bm
