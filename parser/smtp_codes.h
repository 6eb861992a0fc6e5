// Finding SMTP reply codes (RFC 5321) and enhanced status codes (RFC 3463)
// in diagnostic and free text.
//
// Internal to parser/. All functions are pure and thread-safe.
#ifndef BM_PARSER_SMTP_CODES_H_
#define BM_PARSER_SMTP_CODES_H_

#include <string>
#include <string_view>

#include "parser/bounce_report.h"

namespace bm {

// The first enhanced status code "C.S.D" (C in 2, 4, 5; S and D 1-3 digits)
// that stands alone in text (not part of an IP address or version number).
// Empty when there is none.
std::string FindEnhancedStatus(std::string_view text);

// The first SMTP reply code (2xx, 4xx, 5xx) in text that is written as a
// reply: a three-digit token followed by a blank, '-' or the end. Empty when
// there is none.
std::string FindReplyCode(std::string_view text);

// "5.0.0", "4.0.0": a status that names only the class.
bool IsGenericStatus(std::string_view status);

// Fills r.status and r.reply_code from r.diagnostic where the report left
// them empty, and replaces a generic status by the more specific one of the
// same class that the diagnostic names.
void RefineCodesFromDiagnostic(RecipientResult& r);

}  // namespace bm

#endif  // BM_PARSER_SMTP_CODES_H_
