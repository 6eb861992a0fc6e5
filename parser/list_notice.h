// Notices of the fml mailing-list manager (Japanese lists; every message it
// sends carries "X-MLServer: fml ..."): a posting refused because the sender
// is not a member, a mail loop, a security alert or an fml system error. Such
// a notice names no failed recipient in a DSN; the recipient the posting
// could not reach is the list itself, whose address the notice quotes in <>.
//
// Internal to parser/. Thread-safe (pure).
#ifndef BM_PARSER_LIST_NOTICE_H_
#define BM_PARSER_LIST_NOTICE_H_

#include <cstddef>
#include <string_view>

#include "parser/bounce_report.h"
#include "parser/header_block.h"

namespace bm {

// When headers and text are an fml refusal notice, fills kind (dsn), format
// ("fml") and one recipient (the list address, action failed, the notice's
// explaining line as diagnostic) of report and returns true; otherwise leaves
// report alone and returns false. An ordinary list posting, which carries the
// same X-MLServer header, is not a notice.
bool DecodeFmlNotice(const FieldGroup& headers, std::string_view text,
                     std::size_t max_diagnostic_bytes, BounceReport* report);

}  // namespace bm

#endif  // BM_PARSER_LIST_NOTICE_H_
