#include "parser/bounce_report.h"

namespace bm {

std::string_view ReportKindName(ReportKind kind) {
  switch (kind) {
    case ReportKind::kDsn:
      return "dsn";
    case ReportKind::kAutoReply:
      return "autoreply";
    case ReportKind::kFeedback:
      return "feedback";
    case ReportKind::kNotBounce:
      return "notbounce";
  }
  return "notbounce";
}

}  // namespace bm
