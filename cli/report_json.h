// JSON form of a classified report: the `bouncectl parse --json` contract,
// also used by `bouncectl ingest --json` and the milter's JSON log lines.
#ifndef BM_CLI_REPORT_JSON_H_
#define BM_CLI_REPORT_JSON_H_

#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "parser/bounce_report.h"
#include "rules/rule_table.h"

namespace bm::cli {

// {"file", "kind", "format", "reporting_mta", "original": {...},
//  "recipients": [{"address", "action", "status", "reply_code", "reason",
//  "class", "hard", "diagnostic", "rule", "remote_mta", ...}]}
nlohmann::json ReportToJson(const std::string& file, const BounceReport& report,
                            const std::vector<ClassifiedRecipient>& recipients);

}  // namespace bm::cli

#endif  // BM_CLI_REPORT_JSON_H_
