// Sets spdlog's default logger up from the LogTarget, LogFormat and LogLevel
// keys. With LogFormat json every line is one JSON object: decision lines
// (decision_log.h) keep their members, other messages become {"message": ...}.
#ifndef BM_MILTER_LOGGING_H_
#define BM_MILTER_LOGGING_H_

#include "common/status.h"
#include "milter/config.h"

namespace bm {

// Replaces the default logger. Errors: kIOError when a log file cannot be
// opened (the previous logger then stays).
Status SetupLogging(const Config& config);

// Applies LogLevel (reloadable on SIGHUP).
void ApplyLogLevel(const Config& config);

}  // namespace bm

#endif  // BM_MILTER_LOGGING_H_
