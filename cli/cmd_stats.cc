// bouncectl stats and bouncectl verify-store: whole-store summaries.
#include <cstdio>
#include <iostream>

#include <nlohmann/json.hpp>

#include "cli/store_cli.h"

namespace bm::cli {
namespace {

constexpr const char* kStatsHelp =
    "Usage: bouncectl stats [--db PATH] [--json]\n"
    "\n"
    "Counts address records by state, suppressed records by reason, the\n"
    "domains with the most suppressed addresses (top 20), suppressed domain\n"
    "entries, and bounces and complaints recorded over the last day and week.\n"
    "Also the event log size, the last event sequence (the export cursor) and\n"
    "the map size. Reads the whole store.\n";

constexpr const char* kVerifyHelp =
    "Usage: bouncectl verify-store [--db PATH] [--json]\n"
    "\n"
    "Checks the store: every named database against mdb_stat, every entry\n"
    "decodable, the expiry index and the address records in agreement, each\n"
    "domain entry and its id naming each other, the text dictionary and its\n"
    "reverse index in agreement, and no reference to an event that was never\n"
    "written. Prints the entry counts and each problem found.\n"
    "\n"
    "Exit status: 0 when consistent, 1 when a problem was found or the store\n"
    "cannot be read, 2 on a usage error.\n";

nlohmann::ordered_json Pairs(const std::vector<std::pair<std::string, std::uint64_t>>& v) {
  nlohmann::ordered_json j = nlohmann::ordered_json::object();
  for (const auto& [k, n] : v) j[k] = n;
  return j;
}

void PrintPairs(const char* title, const std::vector<std::pair<std::string, std::uint64_t>>& v) {
  std::printf("%s\n", title);
  if (v.empty()) std::printf("  (none)\n");
  for (const auto& [k, n] : v) std::printf("  %-40s %llu\n", k.c_str(), static_cast<unsigned long long>(n));
}

}  // namespace

int RunStats(const Args& raw) {
  Result<ParsedArgs> args = ParseStoreArgs(raw, {{}, {}});
  if (!args.ok()) return UsageError("stats", args.status().message());
  if (args->help) return ShowStoreHelp(kStatsHelp);
  Result<std::unique_ptr<Store>> store = OpenStoreForCli(*args, /*read_only=*/true);
  if (!store.ok()) return Fail("stats", store.status().ToString());
  Result<StoreStats> st = (*store)->Stats(NowSeconds());
  if (!st.ok()) return Fail("stats", st.status().ToString());
  if (args->Has("--json")) {
    nlohmann::ordered_json j{{"addresses", st->addresses},
                             {"by_state", Pairs(st->by_state)},
                             {"by_reason", Pairs(st->by_reason)},
                             {"top_domains", Pairs(st->top_domains)},
                             {"suppressed_domains", st->suppressed_domains},
                             {"bounces_last_day", st->bounces_last_day},
                             {"bounces_last_week", st->bounces_last_week},
                             {"events", st->events},
                             {"last_seq", st->last_seq},
                             {"sent_ledger_entries", st->sent_ledger_entries},
                             {"map_bytes", st->map_bytes},
                             {"used_bytes", st->used_bytes}};
    std::cout << j.dump(2, ' ', false, nlohmann::json::error_handler_t::replace) << '\n';
    return kExitOk;
  }
  std::printf("addresses            %llu\n", static_cast<unsigned long long>(st->addresses));
  std::printf("suppressed domains   %llu\n", static_cast<unsigned long long>(st->suppressed_domains));
  std::printf("bounces last day     %llu\n", static_cast<unsigned long long>(st->bounces_last_day));
  std::printf("bounces last week    %llu\n", static_cast<unsigned long long>(st->bounces_last_week));
  std::printf("events in log        %llu (last sequence %llu)\n", static_cast<unsigned long long>(st->events),
              static_cast<unsigned long long>(st->last_seq));
  std::printf("sent-ledger entries  %llu\n", static_cast<unsigned long long>(st->sent_ledger_entries));
  std::printf("map                  %.1f MiB used of %.1f MiB\n", st->used_bytes / 1048576.0,
              st->map_bytes / 1048576.0);
  PrintPairs("by state:", st->by_state);
  PrintPairs("suppressed by reason:", st->by_reason);
  PrintPairs("suppressed by domain (top 20):", st->top_domains);
  return kExitOk;
}

int RunVerifyStore(const Args& raw) {
  Result<ParsedArgs> args = ParseStoreArgs(raw, {{}, {}});
  if (!args.ok()) return UsageError("verify-store", args.status().message());
  if (args->help) return ShowStoreHelp(kVerifyHelp);
  Result<std::unique_ptr<Store>> store = OpenStoreForCli(*args, /*read_only=*/true);
  if (!store.ok()) return Fail("verify-store", store.status().ToString());
  Result<VerifyReport> v = (*store)->Verify();
  if (!v.ok()) return Fail("verify-store", v.status().ToString());
  if (args->Has("--json")) {
    nlohmann::ordered_json j{{"addresses", v->addresses}, {"domains", v->domains},
                             {"events", v->events},       {"expiry_entries", v->expiry_entries},
                             {"sent_entries", v->sent_entries}, {"problems", v->problems}};
    std::cout << j.dump(2, ' ', false, nlohmann::json::error_handler_t::replace) << '\n';
  } else {
    std::printf("addresses %llu, domains %llu, events %llu, expiry entries %llu, sent entries %llu\n",
                static_cast<unsigned long long>(v->addresses), static_cast<unsigned long long>(v->domains),
                static_cast<unsigned long long>(v->events), static_cast<unsigned long long>(v->expiry_entries),
                static_cast<unsigned long long>(v->sent_entries));
    for (const std::string& p : v->problems) std::printf("problem: %s\n", p.c_str());
    std::printf("%s\n", v->problems.empty() ? "consistent" : "INCONSISTENT");
  }
  return v->problems.empty() ? kExitOk : kExitError;
}

}  // namespace bm::cli
