// libFuzzer target: ParseBounce() on arbitrary bytes must return a report or
// an error, never crash, hang or leak, and every text it returns must be
// valid UTF-8 (it goes into JSON and logs).
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "parser/gmime_util.h"
#include "parser/parser.h"

namespace {

void RequireUtf8(const std::string& text) {
  if (bm::SanitizeUtf8(text) != text) std::abort();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const bm::GMimeLibrary* const gmime = new bm::GMimeLibrary();  // lives for the process
  (void)gmime;
  bm::ParseLimits limits;
  limits.max_message_bytes = 1 << 20;
  const std::string_view raw(reinterpret_cast<const char*>(data), size);
  bm::Result<bm::BounceReport> report = bm::ParseBounce(raw, limits);
  if (!report.ok()) return 0;
  if (report->recipients.size() > limits.max_recipients) std::abort();
  for (const bm::RecipientResult& r : report->recipients) {
    if (r.diagnostic.size() > limits.max_diagnostic_bytes) std::abort();
    RequireUtf8(r.address);
    RequireUtf8(r.diagnostic);
    RequireUtf8(r.status);
    RequireUtf8(r.remote_mta);
  }
  RequireUtf8(report->subject);
  RequireUtf8(report->original.subject);
  return 0;
}
