// BounceReport: what a bounce-like message says, before any classification.
//
// Produced by ParseBounce() (parser/parser.h) and consumed by rules/ (which
// adds reason/class/hard) and store/. Plain data; copyable; no GMime types.
#ifndef BM_PARSER_BOUNCE_REPORT_H_
#define BM_PARSER_BOUNCE_REPORT_H_

#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace bm {

enum class ReportKind {
  kDsn,        // delivery status notification: RFC 3464/6533 or an MTA's own format
  kAutoReply,  // RFC 3834 auto-reply (vacation, out of office)
  kFeedback,   // RFC 5965 ARF feedback report (complaint)
  kNotBounce,  // ordinary mail
};

// "dsn", "autoreply", "feedback", "notbounce".
std::string_view ReportKindName(ReportKind kind);

// One recipient the report is about. Empty string = the report does not say.
struct RecipientResult {
  std::string address;           // final recipient, bare (no "rfc822;", no <>)
  std::string original_address;  // Original-Recipient / X-Failed-Recipients source, if different
  std::string action;            // failed | delayed | delivered | relayed | expanded
  std::string status;            // enhanced status code as found, e.g. "5.1.1"
  std::string reply_code;        // SMTP reply code as found, e.g. "550"
  std::string remote_mta;        // host that gave the answer, e.g. "mx.example.com"
  std::string diagnostic;        // diagnostic text, unfolded to one line, bounded
  std::string last_attempt;      // Last-Attempt-Date / Arrival-Date as found
  std::string feedback_type;     // ARF Feedback-Type (abuse, fraud, ...), feedback only
  // The SMTP step the failure answered, when the report says:
  // "CONN" | "HELO" | "EHLO" | "MAIL" | "RCPT" | "DATA", or "" (unknown).
  std::string smtp_command;
};

// Headers of the message that bounced, when the report returns it or its headers.
struct OriginalMessage {
  std::string message_id;  // without <>
  std::string from;
  std::string to;
  std::string subject;
  // Every X-* header of the returned message (campaign ids and the like), in order.
  std::vector<std::pair<std::string, std::string>> x_headers;
  // "ID@host" of its Received fields ("by HOST ... id ID"), in header order,
  // the bottom-most 16 fields looked at (parser/received.h).
  std::vector<std::string> received_ids;
};

struct BounceReport {
  ReportKind kind = ReportKind::kNotBounce;
  // Which decoder recognised the message: "rfc3464", "arf", "rfc3834", "postfix",
  // "exim", "qmail", ... Useful in logs and for rules that match a format.
  std::string format;
  std::string reporting_mta;  // Reporting-MTA, or the host named by the MTA's own text
  std::string subject;        // Subject of the report itself
  std::string from;           // From of the report itself
  std::vector<RecipientResult> recipients;
  OriginalMessage original;
};

}  // namespace bm

#endif  // BM_PARSER_BOUNCE_REPORT_H_
