// bouncectl list: records (or domain entries) matching filters.
#include <cstdio>
#include <limits>
#include <iostream>

#include <nlohmann/json.hpp>

#include "cli/store_cli.h"
#include "cli/store_json.h"
#include "store/crm_format.h"

namespace bm::cli {
namespace {

constexpr const char* kListHelp =
    "Usage: bouncectl list [--db PATH] [--json] [--state S] [--reason R]\n"
    "                      [--domain D] [--limit N]\n"
    "       bouncectl list --domains [--all] [--db PATH] [--json]\n"
    "\n"
    "Lists address records grouped by receiving domain (domains in the order\n"
    "the store first saw them, local parts sorted), one per line: address, state,\n"
    "reason, source and since. Filters combine (all must match):\n"
    "  --state S    active | suppressed | suppressed-temporary | unblocked\n"
    "  --reason R   a reason word, e.g. userunknown\n"
    "  --domain D   the receiving domain (exact)\n"
    "  --limit N    stop after N records\n"
    "  --json       one JSON object per record (the export's JSONL fields)\n"
    "With --domains, lists the suppressed domain entries instead (reason,\n"
    "source, since, recipients sent, sender-blamed bounces); with --all, the\n"
    "entry of every receiving domain the store has heard of, counters at zero\n"
    "included. --json adds the sender-blamed bounces per reason.\n"
    "Empty fields of the text form are printed as -.\n"
    "\n"
    "Exit status: 0, or 1 on an error, 2 on a usage error.\n";

// An empty field printed as "-", so that the columns of the text form stay
// countable by white space (awk, cut).
std::string OrDash(std::string text) { return text.empty() ? "-" : text; }

int ListDomains(const Store& store, bool all, bool json) {
  Status s = store.ForEachDomain(!all, [&](const DomainRecord& d) {
    if (json) {
      std::cout << DomainToJson(d).dump(-1, ' ', false, nlohmann::json::error_handler_t::replace)
                << '\n';
    } else {
      std::printf("%-40s %-14s %-12s %-8s %-20s sent=%llu sender-blamed=%llu\n", d.domain.c_str(),
                  d.suppressed ? "suppressed" : "-", OrDash(d.reason).c_str(),
                  d.suppressed ? std::string(RecordSourceName(d.source)).c_str() : "-",
                  OrDash(FormatTime(d.since)).c_str(), static_cast<unsigned long long>(d.sent),
                  static_cast<unsigned long long>(d.sender_blamed));
    }
    return true;
  });
  return s.ok() ? kExitOk : Fail("list", s.ToString());
}

}  // namespace

int RunList(const Args& raw) {
  Result<ParsedArgs> args =
      ParseStoreArgs(raw, {{"--state", "--reason", "--domain", "--limit"}, {"--domains", "--all"}});
  if (!args.ok()) return UsageError("list", args.status().message());
  if (args->help) return ShowStoreHelp(kListHelp);
  if (!args->positional.empty()) return UsageError("list", "unexpected argument");
  RecordFilter filter;
  if (args->HasValue("--state")) {
    filter.state = ParseAddressState(args->Value("--state"));
    if (!filter.state) return UsageError("list", "unknown state '" + args->Value("--state") + "'");
  }
  filter.reason = args->Value("--reason");
  if (args->HasValue("--domain")) {
    Result<std::string> d = NormalizeDomain(args->Value("--domain"));
    if (!d.ok()) return UsageError("list", d.status().message());
    filter.domain = *d;
  }
  constexpr std::int64_t kUnlimited = std::numeric_limits<std::int64_t>::max();
  Result<std::int64_t> limit_arg = IntegerOption(*args, "--limit", 0, kUnlimited, kUnlimited);
  if (!limit_arg.ok()) return UsageError("list", limit_arg.status().message());
  const auto limit = static_cast<unsigned long long>(*limit_arg);
  Result<std::unique_ptr<Store>> store = OpenStoreForCli(*args, /*read_only=*/true);
  if (!store.ok()) return Fail("list", store.status().ToString());
  const bool json = args->Has("--json");
  if (args->Has("--domains")) return ListDomains(**store, args->Has("--all"), json);
  unsigned long long n = 0;
  Status s = (*store)->ForEachRecord(filter, [&](const AddressRecord& r) {
    if (n++ >= limit) return false;
    if (json) {
      std::fputs(RecordToJsonl(r).c_str(), stdout);
    } else {
      std::printf("%-40s %-20s %-15s %-9s %s\n", r.address.c_str(),
                  std::string(AddressStateName(r.state)).c_str(), OrDash(r.reason).c_str(),
                  std::string(RecordSourceName(r.source)).c_str(),
                  OrDash(FormatTime(r.state_since)).c_str());
    }
    return true;
  });
  return s.ok() ? kExitOk : Fail("list", s.ToString());
}

}  // namespace bm::cli
