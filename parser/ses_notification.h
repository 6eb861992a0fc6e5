// Amazon SES event notifications (JSON, usually wrapped in an Amazon SNS
// "Notification" envelope and mailed as text/plain): Bounce, Complaint and
// Delivery events become DSN or feedback recipients.
//
// Internal to parser/. Thread-safe (pure).
#ifndef BM_PARSER_SES_NOTIFICATION_H_
#define BM_PARSER_SES_NOTIFICATION_H_

#include <cstddef>
#include <string_view>

#include "parser/bounce_report.h"

namespace bm {

// When text holds an SES notification, fills kind, format ("amazonses"),
// reporting_mta and recipients of report and returns true; otherwise leaves
// report alone and returns false. Never throws.
bool DecodeSesNotification(std::string_view text, std::size_t max_recipients,
                           std::size_t max_diagnostic_bytes, BounceReport* report);

}  // namespace bm

#endif  // BM_PARSER_SES_NOTIFICATION_H_
