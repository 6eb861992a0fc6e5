#include "parser/ses_notification.h"

#include <nlohmann/json.hpp>

#include "parser/delivery_status.h"
#include "parser/smtp_codes.h"
#include "parser/text_util.h"

namespace bm {
namespace {

using nlohmann::json;

std::string StringAt(const json& object, const char* key) {
  if (!object.is_object()) return {};
  auto it = object.find(key);
  return (it != object.end() && it->is_string()) ? it->get<std::string>() : std::string();
}

const json* ObjectAt(const json& object, const char* key) {
  if (!object.is_object()) return nullptr;
  auto it = object.find(key);
  return (it != object.end() && it->is_object()) ? &*it : nullptr;
}

const json* ArrayAt(const json& object, const char* key) {
  if (!object.is_object()) return nullptr;
  auto it = object.find(key);
  return (it != object.end() && it->is_array()) ? &*it : nullptr;
}

// JSON text with line breaks removed: mail transports fold long lines, and
// a JSON document needs none.
json ParseUnfolded(std::string_view text) {
  std::string flat;
  flat.reserve(text.size());
  for (char c : text) {
    if (c != '\r' && c != '\n') flat += c;
  }
  return json::parse(flat, nullptr, /*allow_exceptions=*/false);
}

}  // namespace

bool DecodeSesNotification(std::string_view text, std::size_t max_recipients,
                           std::size_t max_diagnostic_bytes, BounceReport* report) {
  const std::size_t open = text.find('{');
  if (open == std::string_view::npos || text.find("notificationType") == std::string_view::npos) return false;
  const std::size_t close = text.rfind('}');
  if (close == std::string_view::npos || close < open) return false;
  json doc = ParseUnfolded(text.substr(open, close - open + 1));
  // The SNS envelope carries the SES event as a JSON string in "Message".
  const std::string inner = StringAt(doc, "Message");
  if (!inner.empty()) doc = ParseUnfolded(inner);
  const std::string type = StringAt(doc, "notificationType");
  if (type.empty()) return false;

  std::vector<RecipientResult> recipients;
  std::string reporting_mta;
  ReportKind kind = ReportKind::kDsn;
  if (type == "Bounce") {
    const json* bounce = ObjectAt(doc, "bounce");
    const json* list = bounce ? ArrayAt(*bounce, "bouncedRecipients") : nullptr;
    if (list == nullptr) return false;
    reporting_mta = std::string(StripTypePrefix(StringAt(*bounce, "reportingMTA")));
    for (const json& item : *list) {
      RecipientResult r;
      r.address = StringAt(item, "emailAddress");
      r.action = StringAt(item, "action");
      r.status = FindEnhancedStatus(StringAt(item, "status"));
      r.diagnostic =
          CollapseWhitespace(StripTypePrefix(StringAt(item, "diagnosticCode")), max_diagnostic_bytes);
      RefineCodesFromDiagnostic(r);
      if (!r.address.empty() && recipients.size() < max_recipients) recipients.push_back(std::move(r));
    }
  } else if (type == "Complaint") {
    kind = ReportKind::kFeedback;
    const json* complaint = ObjectAt(doc, "complaint");
    const json* list = complaint ? ArrayAt(*complaint, "complainedRecipients") : nullptr;
    if (list == nullptr) return false;
    std::string feedback = StringAt(*complaint, "complaintFeedbackType");
    for (const json& item : *list) {
      RecipientResult r;
      r.address = StringAt(item, "emailAddress");
      r.feedback_type = feedback.empty() ? "abuse" : feedback;
      if (!r.address.empty() && recipients.size() < max_recipients) recipients.push_back(std::move(r));
    }
  } else if (type == "Delivery") {
    const json* delivery = ObjectAt(doc, "delivery");
    const json* list = delivery ? ArrayAt(*delivery, "recipients") : nullptr;
    if (list == nullptr) return false;
    reporting_mta = StringAt(*delivery, "reportingMTA");
    const std::string response = StringAt(*delivery, "smtpResponse");
    for (const json& item : *list) {
      if (!item.is_string()) continue;
      RecipientResult r;
      r.address = item.get<std::string>();
      r.action = "delivered";
      r.diagnostic = CollapseWhitespace(response, max_diagnostic_bytes);
      RefineCodesFromDiagnostic(r);
      if (!r.address.empty() && recipients.size() < max_recipients) recipients.push_back(std::move(r));
    }
  } else {
    return false;
  }
  report->kind = kind;
  report->format = "amazonses";
  report->reporting_mta = reporting_mta;
  report->recipients = std::move(recipients);
  return true;
}

}  // namespace bm
