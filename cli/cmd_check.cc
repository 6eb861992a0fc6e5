// bouncectl check ADDRESS... and bouncectl show ADDRESS: what the store says
// about addresses, for admins and scripts.
#include <cstdio>
#include <iostream>

#include <nlohmann/json.hpp>

#include "cli/store_cli.h"
#include "cli/store_json.h"
#include "store/crm_format.h"

namespace bm::cli {
namespace {

constexpr const char* kCheckHelp =
    "Usage: bouncectl check [--db PATH] [--json] [-q] ADDRESS...\n"
    "\n"
    "Tells whether mail to each ADDRESS is suppressed now, as the milter's\n"
    "RCPT check would: by the address's own record or by a domain entry.\n"
    "\n"
    "Options:\n"
    "  --json      one JSON object per address\n"
    "  -q          print nothing; only the exit status\n"
    "  -h, --help  this text\n"
    "\n"
    "Exit status: 0 when at least one ADDRESS is suppressed, 3 when none is,\n"
    "1 on an error (a malformed address, an unreadable store), 2 on a usage error.\n";

constexpr const char* kShowHelp =
    "Usage: bouncectl show [--db PATH] [--json] [--history N] ADDRESS\n"
    "\n"
    "Prints the record of ADDRESS (state, reason, counts, last diagnostic),\n"
    "its domain entry and counters, and its newest N events (default 20).\n"
    "--json prints one object with check, record, history and domain (null\n"
    "when there is none; else the object of list --domains --json).\n"
    "\n"
    "Exit status: 0 when the address has a record, 3 when it has none,\n"
    "1 on an error, 2 on a usage error.\n";

std::string Describe(const LookupResult& r) {
  if (!r.suppressed) {
    return r.known ? "not suppressed (" + std::string(AddressStateName(r.state)) + ")"
                   : "not suppressed (unknown)";
  }
  std::string s = r.domain_level ? "suppressed by domain entry" : r.temporary ? "suppressed-temporary" : "suppressed";
  s += " (" + r.reason + ", " + std::string(RecordSourceName(r.source)) + ", since " +
       FormatTime(r.since);
  if (r.temporary) s += ", until " + FormatTime(r.until);
  return s + ")";
}

// "1 complaint", "2 complaints".
std::string Count(std::uint64_t n, const std::string& one, const std::string& many = "") {
  return std::to_string(n) + " " + (n == 1 ? one : many.empty() ? one + "s" : many);
}

nlohmann::ordered_json RecordJson(const AddressRecord& r) {
  return nlohmann::ordered_json::parse(RecordToJsonl(r));
}

}  // namespace

int RunCheck(const Args& raw) {
  Result<ParsedArgs> args = ParseStoreArgs(raw, {{}, {"-q"}});
  if (!args.ok()) return UsageError("check", args.status().message());
  if (args->help) return ShowStoreHelp(kCheckHelp);
  if (args->positional.empty()) return UsageError("check", "no ADDRESS given");
  Result<std::unique_ptr<Store>> store = OpenStoreForCli(*args, /*read_only=*/true);
  if (!store.ok()) return Fail("check", store.status().ToString());
  const bool quiet = args->Has("-q"), json = args->Has("--json");
  const std::int64_t now = NowSeconds();
  bool any_suppressed = false, any_error = false;
  for (const std::string& address : args->positional) {
    Result<LookupResult> r = (*store)->Lookup(address, now);
    if (!r.ok()) {
      any_error = true;
      if (!quiet) std::fprintf(stderr, "%s: error: %s\n", address.c_str(), r.status().message().c_str());
      continue;
    }
    any_suppressed = any_suppressed || r->suppressed;
    if (quiet) continue;
    if (json) {
      nlohmann::ordered_json j{{"address", address},
                               {"suppressed", r->suppressed},
                               {"temporary", r->temporary},
                               {"domain_level", r->domain_level},
                               {"state", r->known ? AddressStateName(r->state) : "unknown"},
                               {"reason", r->reason},
                               {"source", r->suppressed ? RecordSourceName(r->source) : ""},
                               {"since", FormatTime(r->since)},
                               {"until", FormatTime(r->until)}};
      std::cout << JsonLine(j);
    } else {
      std::printf("%s: %s\n", address.c_str(), Describe(*r).c_str());
    }
  }
  if (any_error) return kExitError;
  return any_suppressed ? kExitFound : kExitNotFound;
}

int RunShow(const Args& raw) {
  Result<ParsedArgs> args = ParseStoreArgs(raw, {{"--history"}, {}});
  if (!args.ok()) return UsageError("show", args.status().message());
  if (args->help) return ShowStoreHelp(kShowHelp);
  if (args->positional.size() != 1) return UsageError("show", "give exactly one ADDRESS");
  Result<std::int64_t> history = IntegerOption(*args, "--history", 0, 100000, 20);
  if (!history.ok()) return UsageError("show", history.status().message());
  Result<std::unique_ptr<Store>> store = OpenStoreForCli(*args, /*read_only=*/true);
  if (!store.ok()) return Fail("show", store.status().ToString());
  const std::string& address = args->positional[0];
  Result<std::optional<AddressRecord>> rec = (*store)->GetRecord(address);
  if (!rec.ok()) return Fail("show", address + ": " + rec.status().message());
  Result<LookupResult> look = (*store)->Lookup(address, NowSeconds());
  Result<std::vector<StoredEvent>> events =
      (*store)->History(address, static_cast<std::size_t>(*history));
  Result<std::optional<DomainRecord>> domain = (*store)->GetDomain(std::string(DomainOf((*rec) ? (*rec)->address : address)));
  if (!look.ok() || !events.ok() || !domain.ok()) {
    return Fail("show", !look.ok() ? look.status().ToString()
                       : !events.ok() ? events.status().ToString() : domain.status().ToString());
  }
  if (args->Has("--json")) {
    nlohmann::ordered_json j;
    j["address"] = address;
    j["check"] = Describe(*look);
    j["record"] = *rec ? RecordJson(**rec) : nlohmann::ordered_json();
    nlohmann::ordered_json h = nlohmann::ordered_json::array();
    for (const StoredEvent& ev : *events) {
      h.push_back({{"seq", ev.seq}, {"time", FormatTime(ev.time)}, {"event", EventTypeName(ev.type)},
                   {"reason", ev.reason}, {"status", ev.status}, {"hard", ev.hard},
                   {"rule", ev.rule_id}, {"actor", ev.actor}, {"state", AddressStateName(ev.new_state)}});
    }
    j["history"] = h;
    j["domain"] = *domain ? DomainToJson(**domain) : nlohmann::ordered_json();
    std::cout << j.dump(2, ' ', false, nlohmann::json::error_handler_t::replace) << '\n';
    return *rec ? kExitOk : kExitNotFound;
  }
  std::printf("%s: %s\n", address.c_str(), Describe(*look).c_str());
  if (*rec) {
    const AddressRecord& r = **rec;
    std::printf("  state        %s (%s", std::string(AddressStateName(r.state)).c_str(),
                std::string(RecordSourceName(r.source)).c_str());
    if (r.state_since != 0) std::printf(", since %s", FormatTime(r.state_since).c_str());
    if (r.suppressed_until != 0) std::printf(", until %s", FormatTime(r.suppressed_until).c_str());
    std::printf(")\n  reason       %s %s%s\n", r.reason.c_str(), r.bounce_class.c_str(), r.hard ? " hard" : "");
    std::printf("  bounces      %u hard, %u soft, %s", r.hard_count, r.soft_count,
                Count(r.complaint_count, "complaint").c_str());
    if (r.first_bounce != 0) {
      std::printf("; first %s, last %s", FormatTime(r.first_bounce).c_str(),
                  FormatTime(r.last_bounce).c_str());
    }
    std::printf("\n");
    if (!r.last_status.empty()) std::printf("  status       %s (rule %s)\n", r.last_status.c_str(), r.last_rule_id.c_str());
    if (!r.last_diagnostic.empty()) std::printf("  diagnostic   %s\n", ReplaceInvalidUtf8(r.last_diagnostic).c_str());
    if (!r.message_id.empty()) std::printf("  message-id   <%s>\n", r.message_id.c_str());
  } else {
    std::printf("  no record\n");
  }
  if (*domain) {
    const DomainRecord& d = **domain;
    std::printf("  domain       %s: %s; %llu sent, %s, %s\n", d.domain.c_str(),
                d.suppressed ? ("suppressed (" + d.reason + ")").c_str() : "not suppressed",
                static_cast<unsigned long long>(d.sent),
                Count(d.sender_blamed, "sender-blamed bounce").c_str(),
                Count(d.hostunknown_addresses, "hostunknown address", "hostunknown addresses").c_str());
  }
  if (!events->empty()) std::printf("  history (newest first):\n");
  for (const StoredEvent& ev : *events) {
    std::printf("    #%llu %s %-9s %-12s %-6s %-20s -> %s%s%s\n", static_cast<unsigned long long>(ev.seq),
                FormatTime(ev.time).c_str(), std::string(EventTypeName(ev.type)).c_str(),
                ev.reason.c_str(), ev.status.c_str(), ev.rule_id.c_str(),
                std::string(AddressStateName(ev.new_state)).c_str(), ev.actor.empty() ? "" : " by ",
                ev.actor.c_str());
  }
  return *rec ? kExitOk : kExitNotFound;
}

}  // namespace bm::cli
