#include "parser/feedback_report.h"

#include "parser/address.h"
#include "parser/delivery_status.h"
#include "parser/text_util.h"

namespace bm {

FeedbackReport ParseFeedbackReport(std::string_view fields, const FieldGroup& returned_headers,
                                   std::size_t max_recipients) {
  FeedbackReport out;
  std::string feedback_type;
  std::string arrival;
  std::vector<std::string> addresses;
  for (const FieldGroup& group : ParseFieldGroups(fields)) {
    for (const HeaderField& f : group) {
      if (EqualsIgnoreCase(f.name, "Feedback-Type") && feedback_type.empty()) {
        feedback_type = ToLowerAscii(Trim(f.value));
      } else if (EqualsIgnoreCase(f.name, "Arrival-Date") || EqualsIgnoreCase(f.name, "Received-Date")) {
        if (arrival.empty()) arrival = f.value;
      } else if (EqualsIgnoreCase(f.name, "Reporting-MTA")) {
        if (out.reporting_mta.empty()) out.reporting_mta = std::string(StripTypePrefix(f.value));
      } else if (EqualsIgnoreCase(f.name, "Original-Rcpt-To") ||
                 EqualsIgnoreCase(f.name, "Removal-Recipient")) {
        std::string a = ExtractAddress(f.value);
        if (!a.empty() && addresses.size() < max_recipients) addresses.push_back(std::move(a));
      }
    }
  }
  if (addresses.empty()) {
    const std::string* to = FindField(returned_headers, "To");
    std::string a = to ? ExtractAddress(*to) : std::string();
    addresses.push_back(std::move(a));  // empty: the report does not say
  }
  if (feedback_type.empty()) feedback_type = "abuse";
  for (std::string& a : addresses) {
    RecipientResult r;
    r.address = std::move(a);
    r.feedback_type = feedback_type;
    r.last_attempt = arrival;
    out.recipients.push_back(std::move(r));
  }
  return out;
}

}  // namespace bm
