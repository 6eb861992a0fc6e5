#include "milter/logging.h"

#include <syslog.h>

#include <ctime>

#include <nlohmann/json.hpp>
#include <spdlog/formatter.h>
#include <spdlog/sinks/basic_file_sink.h>
#include <spdlog/sinks/stdout_sinks.h>
#include <spdlog/sinks/syslog_sink.h>
#include <spdlog/spdlog.h>

namespace bm {
namespace {

// One JSON object per line. A payload that already is a JSON object (a
// decision line) gets time and level merged in; anything else is quoted.
class JsonLineFormatter : public spdlog::formatter {
 public:
  explicit JsonLineFormatter(bool with_time) : with_time_(with_time) {}

  void format(const spdlog::details::log_msg& msg, spdlog::memory_buf_t& dest) override {
    std::string_view payload(msg.payload.data(), msg.payload.size());
    std::string head = "{";
    if (with_time_) head += "\"time\":\"" + Timestamp(msg.time) + "\",";
    head += "\"level\":\"" + std::string(spdlog::level::to_string_view(msg.level).data(),
                                          spdlog::level::to_string_view(msg.level).size()) +
            "\"";
    std::string line;
    if (payload.size() >= 2 && payload.front() == '{' && payload.back() == '}') {
      line = head + (payload.size() > 2 ? "," : "") + std::string(payload.substr(1));
    } else {
      line = head + ",\"message\":" +
             nlohmann::json(std::string(payload))
                 .dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) +
             "}";
    }
    line += '\n';
    dest.append(line.data(), line.data() + line.size());
  }

  std::unique_ptr<spdlog::formatter> clone() const override {
    return std::make_unique<JsonLineFormatter>(with_time_);
  }

 private:
  static std::string Timestamp(spdlog::log_clock::time_point tp) {
    auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(tp.time_since_epoch()).count();
    std::time_t secs = static_cast<std::time_t>(ms / 1000);
    std::tm tm{};
    gmtime_r(&secs, &tm);
    char buf[40];
    std::size_t n = std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%S", &tm);
    std::snprintf(buf + n, sizeof buf - n, ".%03dZ", static_cast<int>(ms % 1000));
    return buf;
  }
  bool with_time_;
};

}  // namespace

Status SetupLogging(const Config& config) {
  spdlog::sink_ptr sink;
  const bool syslog_target = config.log_target == "syslog";
  try {
    if (syslog_target) {
      sink = std::make_shared<spdlog::sinks::syslog_sink_mt>("bounce-milter", LOG_PID, LOG_MAIL,
                                                             false);
    } else if (config.log_target.starts_with("file:")) {
      sink = std::make_shared<spdlog::sinks::basic_file_sink_mt>(config.log_target.substr(5));
    } else {
      sink = std::make_shared<spdlog::sinks::stderr_sink_mt>();
    }
  } catch (const spdlog::spdlog_ex& e) {
    return Status::IOError(std::string("cannot open log target: ") + e.what());
  }
  auto logger = std::make_shared<spdlog::logger>("bounce-milter", sink);
  if (config.log_format == LogFormat::kJson) {
    logger->set_formatter(std::make_unique<JsonLineFormatter>(!syslog_target));
  } else if (syslog_target) {
    logger->set_pattern("%v");  // syslog adds time, host, ident and pid
  } else {
    logger->set_pattern("%Y-%m-%dT%H:%M:%S.%e %l [%t] %v");
  }
  logger->flush_on(spdlog::level::info);
  spdlog::set_default_logger(std::move(logger));
  ApplyLogLevel(config);
  return Status::Ok();
}

void ApplyLogLevel(const Config& config) {
  spdlog::set_level(spdlog::level::from_str(config.log_level == "warning" ? "warn"
                                                                           : config.log_level));
}

}  // namespace bm
