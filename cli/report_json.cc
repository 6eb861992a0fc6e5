#include "cli/report_json.h"

namespace bm::cli {

nlohmann::json ReportToJson(const std::string& file, const BounceReport& report,
                            const std::vector<ClassifiedRecipient>& recipients) {
  nlohmann::json rcpts = nlohmann::json::array();
  for (const ClassifiedRecipient& r : recipients) {
    const Classification& c = r.classification;
    nlohmann::json j = {
        {"address", r.facts.address},
        {"action", r.facts.action},
        {"status", c.status},
        {"reply_code", r.facts.reply_code},
        {"reason", c.reason},
        {"class", std::string(BounceClassName(c.bounce_class))},
        {"hard", c.hard},
        {"diagnostic", r.facts.diagnostic},
        {"rule", c.rule_id},
        {"remote_mta", r.facts.remote_mta},
    };
    if (c.status_derived) j["status_derived"] = true;
    if (!r.facts.original_address.empty()) j["original_address"] = r.facts.original_address;
    if (!r.facts.last_attempt.empty()) j["last_attempt"] = r.facts.last_attempt;
    if (!r.facts.feedback_type.empty()) j["feedback_type"] = r.facts.feedback_type;
    rcpts.push_back(std::move(j));
  }
  nlohmann::json out = {
      {"file", file},
      {"kind", std::string(ReportKindName(report.kind))},
      {"recipients", std::move(rcpts)},
  };
  if (!report.format.empty()) out["format"] = report.format;
  if (!report.reporting_mta.empty()) out["reporting_mta"] = report.reporting_mta;
  const OriginalMessage& o = report.original;
  if (!o.message_id.empty() || !o.from.empty() || !o.subject.empty()) {
    nlohmann::json orig = {{"message_id", o.message_id}, {"from", o.from}, {"to", o.to},
                           {"subject", o.subject}};
    for (const auto& [name, value] : o.x_headers) orig["headers"][name] = value;
    out["original"] = std::move(orig);
  }
  return out;
}

}  // namespace bm::cli
