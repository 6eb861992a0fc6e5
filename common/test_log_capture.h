// Test-only: captures what the program logs through spdlog's default logger,
// so a test can assert on its log lines. Not linked into the programs.
#ifndef BM_COMMON_TEST_LOG_CAPTURE_H_
#define BM_COMMON_TEST_LOG_CAPTURE_H_

#include <spdlog/sinks/base_sink.h>
#include <spdlog/spdlog.h>

#include <cstddef>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <utility>

namespace bm {

// Everything logged while it lives, at `level` and above, one message per
// line without time or level. The logging may come from other threads (the
// store's writer); reading the text is safe meanwhile.
class LogCapture {
 public:
  explicit LogCapture(spdlog::level::level_enum level = spdlog::level::info)
      : sink_(std::make_shared<Sink>()), previous_(spdlog::default_logger()) {
    sink_->set_pattern("%v");
    auto logger = std::make_shared<spdlog::logger>("capture", sink_);
    logger->set_level(level);
    spdlog::set_default_logger(std::move(logger));
  }
  ~LogCapture() { spdlog::set_default_logger(previous_); }
  LogCapture(const LogCapture&) = delete;
  LogCapture& operator=(const LogCapture&) = delete;

  // The lines logged since the last Take, which are then forgotten.
  std::string Take() { return sink_->Read(/*clear=*/true); }
  // The lines logged since the last Take.
  std::string Text() const { return sink_->Read(/*clear=*/false); }
  // How often `what` occurs in Text().
  std::size_t Count(std::string_view what) const {
    const std::string text = Text();
    std::size_t n = 0;
    for (std::size_t pos = text.find(what); pos != std::string::npos;
         pos = text.find(what, pos + what.size())) {
      ++n;
    }
    return n;
  }

 private:
  class Sink : public spdlog::sinks::base_sink<std::mutex> {
   public:
    std::string Read(bool clear) {
      std::lock_guard lock(mutex_);
      return clear ? std::exchange(text_, {}) : text_;
    }

   protected:
    void sink_it_(const spdlog::details::log_msg& msg) override {
      spdlog::memory_buf_t line;
      formatter_->format(msg, line);
      text_.append(line.data(), line.size());
    }
    void flush_() override {}

   private:
    std::string text_;
  };

  std::shared_ptr<Sink> sink_;
  std::shared_ptr<spdlog::logger> previous_;
};

}  // namespace bm

#endif  // BM_COMMON_TEST_LOG_CAPTURE_H_
