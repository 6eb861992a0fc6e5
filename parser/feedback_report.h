// RFC 5965 Abuse Reporting Format: message/feedback-report fields ->
// recipients of a kFeedback report.
//
// Internal to parser/. Thread-safe (pure).
#ifndef BM_PARSER_FEEDBACK_REPORT_H_
#define BM_PARSER_FEEDBACK_REPORT_H_

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include "parser/bounce_report.h"
#include "parser/header_block.h"

namespace bm {

struct FeedbackReport {
  std::string reporting_mta;
  std::vector<RecipientResult> recipients;
};

// One recipient per Original-Rcpt-To field; without one, the To address of
// the returned message; without that, a single recipient with an empty
// address (the report does not disclose it). Each carries Feedback-Type
// (lower case, "abuse" when absent) and Arrival-Date.
FeedbackReport ParseFeedbackReport(std::string_view fields, const FieldGroup& returned_headers,
                                   std::size_t max_recipients);

}  // namespace bm

#endif  // BM_PARSER_FEEDBACK_REPORT_H_
