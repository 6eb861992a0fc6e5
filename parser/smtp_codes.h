// Finding SMTP reply codes (RFC 5321) and enhanced status codes (RFC 3463)
// in diagnostic and free text.
//
// Internal to parser/. All functions are pure and thread-safe.
#ifndef BM_PARSER_SMTP_CODES_H_
#define BM_PARSER_SMTP_CODES_H_

#include <string>
#include <string_view>
#include <vector>

#include "parser/bounce_report.h"

namespace bm {

// The first enhanced status code "C.S.D" (C in 2, 4, 5; S and D 1-3 digits)
// that stands alone in text (not part of an IP address or version number).
// Empty when there is none.
std::string FindEnhancedStatus(std::string_view text);

// Every such code in text, in order, at most max_codes.
std::vector<std::string> FindEnhancedStatuses(std::string_view text, std::size_t max_codes);

// The first SMTP reply code (2xx, 4xx, 5xx) in text that is written as a
// reply: a three-digit token followed by a blank, '-' or the end. Empty when
// there is none.
std::string FindReplyCode(std::string_view text);

// Every such code in text, in order, at most max_codes.
std::vector<std::string> FindReplyCodes(std::string_view text, std::size_t max_codes);

// "5.0.0", "4.0.0": a status that names only the class.
bool IsGenericStatus(std::string_view status);

// The SMTP step a failure text names: "in reply to RCPT TO command"
// (Postfix), "after end of data" (Exim), a transcript's last ">>> DATA"
// (Sendmail), "for TEXT command", "[RCPT_TO]" and the like. Returns "CONN",
// "HELO", "EHLO", "MAIL", "RCPT", "DATA" or "" when the text does not say.
std::string SmtpCommandIn(std::string_view text);

// Fills r.reply_code from r.diagnostic when empty (the last reply code it
// quotes), and r.status: when empty, or when the diagnostic names a
// different, specific status of the same class (the remote server's own
// answer is more precise than the relay's summary), the last specific status
// the diagnostic quotes.
void RefineCodesFromDiagnostic(RecipientResult& r);

}  // namespace bm

#endif  // BM_PARSER_SMTP_CODES_H_
