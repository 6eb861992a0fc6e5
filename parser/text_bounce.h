// Decoder for non-delivery reports written as free text: the formats of
// Exim, qmail, Sendmail, Postfix, Exchange, Gmail, courier, Domino and
// similar MTAs and providers, where the failed recipients and the reasons are
// only in the human-readable body.
//
// The decoder reads the structure these reports share rather than any single
// sample: the returned message is cut off at its marker line; a recipient is
// introduced by a line that starts with its address (indented, in <>, with a
// trailing ':' or "...", or after a label such as "RCPT TO:" or "Recipient:");
// its diagnostic is the rest of that line and the lines that follow up to the
// next recipient or blank line (or, when that is empty, the next paragraphs).
//
// Internal to parser/. Thread-safe (pure).
#ifndef BM_PARSER_TEXT_BOUNCE_H_
#define BM_PARSER_TEXT_BOUNCE_H_

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include "parser/bounce_report.h"
#include "parser/header_block.h"

namespace bm {

struct TextBounce {
  std::string format;  // "exim", "qmail", ... or "text" when no known marker
  bool bounce_markers = false;  // the text carries a known non-delivery marker
  std::vector<RecipientResult> recipients;
  std::string reporting_mta;     // host named by the text ("qmail-send program at HOST")
  FieldGroup returned_headers;   // header block quoted after the returned-message marker
  std::string summary;           // the explanatory text before the returned message, one line
};

struct TextBounceOptions {
  std::size_t max_recipients = 1000;
  std::size_t max_diagnostic_bytes = 2048;
  // Addresses never taken as failed recipients: the report's own From/To.
  std::vector<std::string> excluded_addresses;
};

TextBounce DecodeTextBounce(std::string_view text, const TextBounceOptions& options);

}  // namespace bm

#endif  // BM_PARSER_TEXT_BOUNCE_H_
