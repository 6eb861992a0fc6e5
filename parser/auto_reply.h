// RFC 3834 automatic replies (vacation, out-of-office notices).
//
// Internal to parser/. Thread-safe (pure).
#ifndef BM_PARSER_AUTO_REPLY_H_
#define BM_PARSER_AUTO_REPLY_H_

#include "parser/header_block.h"

namespace bm {

// True when the header fields mark the message as an automatic reply to a
// message: Auto-Submitted: auto-replied (RFC 3834), the X-Autoreply /
// X-Autorespond family, Precedence: auto_reply, or a subject such as
// "Automatic reply:", "Out of Office", "Auto:".
bool IsAutoReply(const FieldGroup& headers);

}  // namespace bm

#endif  // BM_PARSER_AUTO_REPLY_H_
