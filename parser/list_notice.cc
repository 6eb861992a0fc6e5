#include "parser/list_notice.h"

#include <string>
#include <vector>

#include "parser/address.h"
#include "parser/text_util.h"

namespace bm {
namespace {

// The sentences fml opens its notices with. A notice says one of them in its
// first lines; a posting that merely mentions one further down is not a notice.
constexpr std::string_view kNoticePhrases[] = {
    "not a member of",        // "You are not a member of this mailing list <ml@...>."
    "are not member",         // subject "You a@b are not member (ml ML)"
    "not member article from",
    "reject mail",            // "reject mail from a@b" (a rejected sender)
    "security alert",
    "loop alert",
    "loop back warning",
    "fml system error",
};
constexpr std::size_t kNoticeLines = 5;  // non-blank lines searched for a phrase

bool SaysNotice(std::string_view line) {
  for (std::string_view p : kNoticePhrases) {
    if (ContainsIgnoreCase(line, p)) return true;
  }
  return false;
}

}  // namespace

bool DecodeFmlNotice(const FieldGroup& headers, std::string_view text,
                     std::size_t max_diagnostic_bytes, BounceReport* report) {
  const std::string* server = FindField(headers, "X-MLServer");
  if (server == nullptr || !StartsWithIgnoreCase(Trim(*server), "fml")) return false;

  std::size_t seen = 0;
  for (std::string_view line : SplitLines(text)) {
    if (Trim(line).empty()) continue;
    if (++seen > kNoticeLines) break;
    if (!SaysNotice(line)) continue;
    // The list is the address the notice writes in <>; a line without one
    // names no recipient.
    const std::size_t open = line.find('<');
    const std::size_t close = open == std::string_view::npos ? open : line.find('>', open);
    if (close == std::string_view::npos) continue;
    std::vector<AddressHit> hits = FindAddresses(line.substr(open, close - open + 1), 1);
    if (hits.empty()) continue;
    RecipientResult r;
    r.address = hits.front().address;
    r.action = "failed";
    r.diagnostic = CollapseWhitespace(line, max_diagnostic_bytes);
    report->kind = ReportKind::kDsn;
    report->format = "fml";
    report->recipients.push_back(std::move(r));
    return true;
  }
  return false;
}

}  // namespace bm
