// SMTP replies the daemon gives: the suppressed-recipient reply built from the
// SuppressedReply template, and the one mapping from a configured on-error
// action to the milter verdict.
#ifndef BM_MILTER_REPLY_H_
#define BM_MILTER_REPLY_H_

#include <cstdint>
#include <string>
#include <string_view>

#include "common/status.h"
#include "milter/config.h"

namespace bm {

// What a handler answers. FilterConnection maps it to a milter reply.
enum class Verdict { kContinue, kAccept, kReject, kTempfail, kDiscard };
std::string_view VerdictName(Verdict v);

// The only place an ErrorAction becomes a Verdict.
Verdict VerdictForError(ErrorAction action);

struct SmtpReply {
  std::string rcode;  // "550"
  std::string xcode;  // "5.1.1"
  std::string text;   // printable ASCII, '%' doubled (see reply.cc), <= 400 bytes
};

// Facts about a suppressed recipient that the template may show.
struct SuppressionFacts {
  std::string_view address;
  std::string_view reason;
  std::string_view state;       // "suppressed" | "suppressed-temporary" | ...
  std::int64_t since = 0;       // unix seconds; 0 = unknown
  std::int64_t until = 0;       // unix seconds; 0 = none
  bool temporary = false;
};

// Checks that every {placeholder} is known and the template is short enough.
Status ValidateReplyTemplate(std::string_view tmpl);

// 550 5.1.1 for a permanent suppression; 450 4.2.1 or 550 5.2.1 for a
// temporary one (TemporarySuppressionReply). Address text from the MTA is
// cut and made printable, so any RCPT yields a valid reply.
SmtpReply SuppressedRecipientReply(const Config& config, const SuppressionFacts& facts);

// The reply to a recipient that could not be checked because the store
// failed: 451 4.3.0 for a tempfail, 550 5.3.0 for a reject. The address is
// cut and made printable like the suppressed reply's.
SmtpReply StoreUnavailableReply(bool tempfail, std::string_view recipient);

// "2026-11-22" (UTC); "unknown" for 0.
std::string FormatDate(std::int64_t unix_seconds);

}  // namespace bm

#endif  // BM_MILTER_REPLY_H_
