// Walks a message's MIME tree (GMime) within ParseLimits and sorts its parts
// into what the bounce decoders read: the report's own headers, its
// human-readable text, delivery-status and feedback-report bodies, and the
// headers of the returned original message.
//
// Internal to parser/. Thread-safe once a GMimeLibrary exists.
#ifndef BM_PARSER_MIME_WALK_H_
#define BM_PARSER_MIME_WALK_H_

#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"
#include "parser/header_block.h"
#include "parser/parser.h"

namespace bm {

struct MimeContent {
  FieldGroup headers;             // top-level header fields, values decoded to UTF-8
  std::string content_type;       // top-level media type, lower case ("multipart/report")
  std::string report_type;        // report-type parameter of a multipart/report, lower case
  std::vector<std::string> texts; // text/plain (or de-tagged text/html) parts, UTF-8,
                                  // in order, excluding parts of a returned message
  std::vector<std::string> delivery_status;  // message/(global-)delivery-status bodies
  bool global_delivery_status = false;       // one of them is RFC 6533
  std::string feedback_report;               // message/feedback-report body
  bool has_returned_message = false;         // message/rfc822 or text/rfc822-headers part
  FieldGroup returned_headers;               // its header fields, decoded to UTF-8
  // The returned message itself, raw, when it is a report of its own
  // (multipart/report): a forwarded bounce. Empty otherwise.
  std::string returned_report;
};

// Errors: kLimitExceeded (size, depth, part count), kInvalidArgument (empty
// or not a message).
Result<MimeContent> WalkMime(std::string_view raw, const ParseLimits& limits);

}  // namespace bm

#endif  // BM_PARSER_MIME_WALK_H_
