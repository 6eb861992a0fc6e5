#include "milter/decision_log.h"

#include <nlohmann/json.hpp>
#include <spdlog/spdlog.h>

namespace bm {
namespace {

constexpr std::size_t kMaxValueBytes = 300;

// Values come from the network: cut them and keep control characters out of
// the log so a crafted address cannot forge log lines.
std::string Clean(std::string_view value) {
  std::string out;
  for (char c : value.substr(0, kMaxValueBytes)) {
    const auto u = static_cast<unsigned char>(c);
    out += (u < 0x20 || u == 0x7f) ? '?' : c;
  }
  return out;
}

}  // namespace

std::string FormatDecision(LogFormat format, std::string_view event,
                           std::initializer_list<LogField> fields) {
  if (format == LogFormat::kJson) {
    nlohmann::json j;
    j["event"] = std::string(event);
    for (const LogField& f : fields) j[std::string(f.name)] = Clean(f.value);
    // Replace invalid UTF-8 instead of throwing.
    return j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  }
  std::string line(event);
  for (const LogField& f : fields) {
    std::string value = Clean(f.value);
    line += ' ';
    line += f.name;
    line += '=';
    if (value.empty() || value.find_first_of(" \"") != std::string::npos) {
      line += '"';
      for (char c : value) {
        if (c == '"' || c == '\\') line += '\\';
        line += c;
      }
      line += '"';
    } else {
      line += value;
    }
  }
  return line;
}

void LogDecision(const Config& config, LogSeverity severity, std::string_view event,
                 std::initializer_list<LogField> fields) {
  std::string line = FormatDecision(config.log_format, event, fields);
  if (severity == LogSeverity::kWarning) {
    spdlog::warn("{}", line);
  } else {
    spdlog::info("{}", line);
  }
}

}  // namespace bm
