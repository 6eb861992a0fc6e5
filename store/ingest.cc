#include "store/ingest.h"

namespace bm {
namespace {

bool IsNotAFailure(const std::string& action) {
  return action == "delivered" || action == "relayed" || action == "expanded";
}

// ARF types about the sender, not a recipient's complaint.
bool IsSenderFeedback(const std::string& feedback_type) {
  return feedback_type == "not-spam" || feedback_type == "auth-failure";
}

}  // namespace

std::vector<BounceEvent> EventsFromReport(const BounceReport& report,
                                          const std::vector<ClassifiedRecipient>& recipients,
                                          std::int64_t now) {
  std::vector<BounceEvent> events;
  if (report.kind == ReportKind::kNotBounce) return events;
  for (const ClassifiedRecipient& r : recipients) {
    if (r.facts.address.empty()) continue;
    BounceEvent ev;
    if (report.kind == ReportKind::kFeedback) {
      if (IsSenderFeedback(r.facts.feedback_type)) continue;
      ev.type = EventType::kComplaint;
    } else if (report.kind == ReportKind::kDsn && IsNotAFailure(r.facts.action)) {
      continue;
    }
    const Classification& c = r.classification;
    ev.address = r.facts.address;
    ev.reason = c.reason;
    ev.bounce_class = std::string(BounceClassName(c.bounce_class));
    ev.hard = c.hard;
    ev.status = c.status;
    ev.diagnostic = r.facts.diagnostic;
    ev.rule_id = c.rule_id;
    ev.message_id = report.original.message_id;
    ev.time = now;
    events.push_back(std::move(ev));
  }
  return events;
}

}  // namespace bm
