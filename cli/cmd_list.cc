// bouncectl list: records (or domain entries) matching filters.
#include <cstdio>
#include <limits>
#include <iostream>

#include <nlohmann/json.hpp>

#include "cli/store_cli.h"
#include "store/crm_format.h"

namespace bm::cli {
namespace {

constexpr const char* kListHelp =
    "Usage: bouncectl list [--db PATH] [--json] [--state S] [--reason R]\n"
    "                      [--domain D] [--limit N]\n"
    "       bouncectl list --domains [--db PATH] [--all]\n"
    "\n"
    "Lists address records grouped by receiving domain (domains in the order\n"
    "the store first saw them, local parts sorted), one per line: address, state,\n"
    "reason, source and since. Filters combine (all must match):\n"
    "  --state S    active | suppressed | suppressed-temporary | unblocked\n"
    "  --reason R   a reason word, e.g. userunknown\n"
    "  --domain D   the receiving domain (exact)\n"
    "  --limit N    stop after N records\n"
    "  --json       one JSON object per record (the export's JSONL fields)\n"
    "With --domains, lists the domain entries instead: suppressed domains, or\n"
    "with --all every domain with counters (sent, sender-blamed bounces).\n"
    "\n"
    "Exit status: 0, or 1 on an error, 2 on a usage error.\n";

int ListDomains(const Store& store, bool all, bool json) {
  Status s = store.ForEachDomain(!all, [&](const DomainRecord& d) {
    if (json) {
      nlohmann::ordered_json j{{"domain", d.domain},
                               {"suppressed", d.suppressed},
                               {"reason", d.reason},
                               {"source", d.suppressed ? RecordSourceName(d.source) : ""},
                               {"since", FormatTime(d.since)},
                               {"sent", d.sent},
                               {"sender_blamed", d.sender_blamed},
                               {"hostunknown_addresses", d.hostunknown_addresses}};
      nlohmann::ordered_json by_reason = nlohmann::ordered_json::object();
      for (const auto& [reason, n] : d.sender_blamed_by_reason) by_reason[reason] = n;
      j["sender_blamed_by_reason"] = by_reason;
      std::cout << j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) << '\n';
    } else {
      std::printf("%-40s %-14s %-12s %-8s %-20s sent=%llu sender-blamed=%llu\n", d.domain.c_str(),
                  d.suppressed ? "suppressed" : "-", d.reason.c_str(),
                  d.suppressed ? std::string(RecordSourceName(d.source)).c_str() : "-",
                  FormatTime(d.since).c_str(), static_cast<unsigned long long>(d.sent),
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
                  std::string(AddressStateName(r.state)).c_str(), r.reason.c_str(),
                  std::string(RecordSourceName(r.source)).c_str(), FormatTime(r.state_since).c_str());
    }
    return true;
  });
  return s.ok() ? kExitOk : Fail("list", s.ToString());
}

}  // namespace bm::cli
