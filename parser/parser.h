// Bounce parser: raw RFC 5322 message -> BounceReport.
//
// Recognises RFC 3464 / RFC 6533 delivery status notifications, RFC 5965 ARF
// feedback reports, RFC 3834 auto-replies, the free-text non-delivery reports
// of common MTAs and providers, and the X-Failed-Recipients header. Accepts LF
// or CRLF line endings and any MIME nesting within ParseLimits.
//
// Thread safety: ParseBounce() may be called from many threads at once once a
// GMimeLibrary exists (it keeps no shared mutable state).
#ifndef BM_PARSER_PARSER_H_
#define BM_PARSER_PARSER_H_

#include <cstddef>
#include <string_view>

#include "common/status.h"
#include "parser/bounce_report.h"

namespace bm {

// Bounds on the work a single message may cause. Exceeding one of the first
// four yields a Status::LimitExceeded naming the limit, never a partial
// report; a longer diagnostic is cut (on a UTF-8 character boundary).
struct ParseLimits {
  std::size_t max_message_bytes = 32 * 1024 * 1024;  // whole raw message
  int max_mime_depth = 32;                           // nesting of multiparts/message parts
  int max_mime_parts = 2000;                         // MIME parts in total
  std::size_t max_recipients = 1000;                 // recipients one report may name
  std::size_t max_diagnostic_bytes = 2048;           // each diagnostic is cut to this
};

// Initialises GMime once for the process; destroy it last (own it in main()).
// REQUIRES: at most one instance alive at a time.
class GMimeLibrary {
 public:
  GMimeLibrary();
  ~GMimeLibrary();
  GMimeLibrary(const GMimeLibrary&) = delete;
  GMimeLibrary& operator=(const GMimeLibrary&) = delete;
};

// Decodes one message. A message that is not a bounce is a successful result
// with kind kNotBounce. Errors: kLimitExceeded (a ParseLimits bound),
// kInvalidArgument (not decodable as a message at all, e.g. empty input).
// REQUIRES: a GMimeLibrary is alive.
Result<BounceReport> ParseBounce(std::string_view raw, const ParseLimits& limits = {});

}  // namespace bm

#endif  // BM_PARSER_PARSER_H_
