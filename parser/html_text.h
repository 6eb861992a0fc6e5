// Reduces an HTML body to readable plain text: tags dropped, block elements
// become line breaks, common entities decoded. Enough to read the sentences
// of an HTML-only non-delivery report; not a general HTML renderer.
//
// Internal to parser/. Thread-safe (pure).
#ifndef BM_PARSER_HTML_TEXT_H_
#define BM_PARSER_HTML_TEXT_H_

#include <string>
#include <string_view>

namespace bm {

std::string HtmlToText(std::string_view html);

}  // namespace bm

#endif  // BM_PARSER_HTML_TEXT_H_
