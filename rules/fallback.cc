#include "rules/fallback.h"

namespace bm {

BounceClass ClassFromCodes(const RuleInput& input) {
  for (std::string_view code : {input.status, input.reply_code}) {
    if (code.empty()) continue;
    if (code[0] == '5') return BounceClass::kPermanent;
    if (code[0] == '4') return BounceClass::kTransient;
  }
  return input.action == "delayed" ? BounceClass::kTransient : BounceClass::kPermanent;
}

Fallback ClassifyFallback(const RuleInput& input) {
  const BounceClass cls = ClassFromCodes(input);
  if (input.kind == ReportKind::kAutoReply) {
    return {"vacation", BounceClass::kTransient, "fallback-autoreply", "the report is an auto-reply"};
  }
  if (input.kind == ReportKind::kFeedback) {
    return {"feedback", BounceClass::kPermanent, "fallback-feedback",
            "the report is a feedback report"};
  }
  if (input.status.starts_with("2.") || input.action == "delivered" ||
      input.action == "relayed" || input.action == "expanded") {
    return {"delivered", cls, "fallback-delivered", "the status or action says delivered"};
  }
  if (!input.status.empty() || !input.reply_code.empty() || !input.diagnostic.empty()) {
    return {"onhold", cls,
            cls == BounceClass::kPermanent ? "fallback-permanent" : "fallback-transient",
            cls == BounceClass::kPermanent ? "a permanent failure of unknown reason"
                                           : "a transient failure of unknown reason"};
  }
  return {"undefined", cls, "fallback-undefined", "the report gives no status, code or text"};
}

}  // namespace bm
