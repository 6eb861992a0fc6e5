// One log line per decision the filter takes (inbound bounce recorded,
// recipient refused, error action applied), as readable text or as one JSON
// object per line (LogFormat). Goes through spdlog's default logger at info
// (warnings for failures), so it never throws into a callback.
#ifndef BM_MILTER_DECISION_LOG_H_
#define BM_MILTER_DECISION_LOG_H_

#include <initializer_list>
#include <string>
#include <string_view>
#include <utility>

#include "milter/config.h"

namespace bm {

struct LogField {
  std::string_view name;
  std::string value;
};

enum class LogSeverity { kInfo, kWarning };

// text:  "event key=value key="value with blanks" ..."
// json:  {"event":"...","key":"value",...}
std::string FormatDecision(LogFormat format, std::string_view event,
                           std::initializer_list<LogField> fields);

void LogDecision(const Config& config, LogSeverity severity, std::string_view event,
                 std::initializer_list<LogField> fields);

}  // namespace bm

#endif  // BM_MILTER_DECISION_LOG_H_
