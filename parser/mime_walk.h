// Walks a message's MIME structure within ParseLimits and sorts its parts
// into what the bounce decoders read: the report's own headers, its
// human-readable text, delivery-status and feedback-report bodies, and the
// headers of the returned original message.
//
// The structure is split here, on the raw bytes (header blocks, multipart
// delimiters, embedded messages), without building GMime's object tree:
// GMime makes every header and part a GObject, which cost more than all the
// decoding together (docs/performance.md). GMime still does the decoding:
// transfer encodings (base64, quoted-printable, uuencode), RFC 2047 encoded
// words, and charset names for iconv. A returned message is read for its
// header block only.
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
// input). Anything else is read as a message: bytes before the first empty
// line are its header block, unparsable lines in it are ignored.
Result<MimeContent> WalkMime(std::string_view raw, const ParseLimits& limits);

}  // namespace bm

#endif  // BM_PARSER_MIME_WALK_H_
