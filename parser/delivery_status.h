// RFC 3464 / RFC 6533 delivery-status fields -> per-recipient results.
//
// Parses the body of a message/delivery-status or
// message/global-delivery-status part as plain text (no GMime). Tolerates the
// deviations seen from real MTAs: missing blank lines between recipient
// groups, per-message fields repeated inside a recipient group, LF or CRLF.
//
// Internal to parser/. Thread-safe (pure).
#ifndef BM_PARSER_DELIVERY_STATUS_H_
#define BM_PARSER_DELIVERY_STATUS_H_

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include "parser/bounce_report.h"

namespace bm {

struct DeliveryStatus {
  std::string reporting_mta;  // without the "dns;" type
  std::string arrival_date;
  std::vector<RecipientResult> recipients;  // in order; at most max_recipients
  bool truncated = false;                   // more recipients than max_recipients
};

// Parses the fields. Each recipient's diagnostic is the Diagnostic-Code text
// without its type ("smtp;"), unfolded and cut to max_diagnostic_bytes;
// status and reply code are refined from it (see smtp_codes.h).
DeliveryStatus ParseDeliveryStatus(std::string_view text, std::size_t max_recipients,
                                   std::size_t max_diagnostic_bytes);

// Delivery-status fields written into a text part instead of their own MIME
// part: the text from the first line starting with Reporting-MTA: or
// Final-Recipient: onwards, when a Final-Recipient: line exists. Empty
// otherwise.
std::string_view FindInlineDeliveryStatus(std::string_view text);

// "dns; mx.example.com" -> "mx.example.com", "smtp; 550 ..." -> "550 ...".
std::string_view StripTypePrefix(std::string_view value);

}  // namespace bm

#endif  // BM_PARSER_DELIVERY_STATUS_H_
