// bouncectl unblock, suppress and expire: an admin's changes to the store.
#include <cstdio>
#include <cstdlib>
#include <fstream>

#include <nlohmann/json.hpp>

#include "cli/store_cli.h"
#include "cli/store_json.h"
#include "store/crm_format.h"

namespace bm::cli {
namespace {

constexpr std::size_t kMaxFileLine = 1024;

constexpr const char* kUnblockHelp =
    "Usage: bouncectl unblock [--db PATH] [--json] [--force] [--actor NAME] ADDRESS...\n"
    "       bouncectl unblock [--db PATH] [--json] [--force] [--actor NAME] --file FILE\n"
    "       bouncectl unblock [--db PATH] [--json] [--actor NAME] --domain DOMAIN\n"
    "\n"
    "Lifts the suppression of each address: its state becomes `unblocked` and\n"
    "mail flows again (a later hard bounce suppresses it again). A temporary\n"
    "suppression is lifted as asked; a permanent one (hard bounce, complaint,\n"
    "manual, import) only with --force. An unblocked address stays deliverable\n"
    "even when its domain is suppressed. --file reads one address per line\n"
    "(blank lines and lines starting with # are skipped). --domain lifts a\n"
    "domain entry instead.\n"
    "Prints one line per address: ADDRESS: unblocked, ADDRESS: not suppressed,\n"
    "or ADDRESS: permanently suppressed; unchanged (use --force); with\n"
    "--domain, DOMAIN: domain entry lifted or DOMAIN: domain not suppressed.\n"
    "An address that fails is reported on standard error as ADDRESS: error: ...\n"
    "\n"
    "Options:\n"
    "  --json         one JSON object per address instead, one per line:\n"
    "                 {\"address\":A,\"outcome\":O} with O unblocked,\n"
    "                 not-suppressed, needs-force or error (then also\n"
    "                 \"error\":MESSAGE); with --domain {\"domain\":D,\"outcome\":O},\n"
    "                 O lifted or not-suppressed\n"
    "  --force        also lift permanent suppressions\n"
    "  --actor NAME   who asks, recorded in the event log (default\n"
    "                 bouncectl:$USER, bouncectl:unknown when USER is not set)\n"
    "\n"
    "Exit status: 0 when every address was unblocked or was not suppressed,\n"
    "1 when one needed --force or failed, 2 on a usage error.\n";

constexpr const char* kSuppressHelp =
    "Usage: bouncectl suppress [--db PATH] [--json] --reason R [--days N] [--actor NAME] ADDRESS...\n"
    "       bouncectl suppress [--db PATH] [--json] --reason R [--actor NAME] --domain DOMAIN\n"
    "\n"
    "Suppresses addresses by hand (source `manual`): permanently, or with\n"
    "--days N temporarily for N days, after which the suppression lifts\n"
    "itself. --domain suppresses every address of a receiving domain.\n"
    "Prints one line per address: ADDRESS: suppressed [temporarily], or\n"
    "ADDRESS: error: ... on standard error; with --domain, DOMAIN: domain\n"
    "suppressed.\n"
    "\n"
    "Options:\n"
    "  --json         one JSON object per address instead, one per line:\n"
    "                 {\"address\":A,\"outcome\":O,\"until\":T} with O suppressed\n"
    "                 or error (then also \"error\":MESSAGE) and T the end of a\n"
    "                 temporary suppression (\"\" when permanent); with --domain\n"
    "                 {\"domain\":D,\"outcome\":\"suppressed\"}\n"
    "  --actor NAME   who asks, recorded in the event log (as for unblock)\n"
    "\n"
    "Exit status: 0, 1 when an address is malformed or the store fails,\n"
    "2 on a usage error.\n";

constexpr const char* kExpireHelp =
    "Usage: bouncectl expire [--db PATH] [--json]\n"
    "\n"
    "Applies expiries now: lifts temporary suppressions whose time is over,\n"
    "deletes event-log entries older than EventRetention (default 365 days)\n"
    "and expired sent-message ledger entries. The milter does the same every\n"
    "minute on its own; lookups treat an expired temporary suppression as\n"
    "lifted even before. Prints the number of suppressions lifted (--json:\n"
    "{\"lifted\":N}).\n";

std::string DefaultActor() {
  const char* user = std::getenv("USER");
  return std::string("bouncectl:") + (user != nullptr ? user : "unknown");
}

Result<std::vector<std::string>> ReadAddressFile(const std::string& path) {
  std::ifstream in(path);
  if (!in) return Status::NotFound("cannot open " + path);
  std::vector<std::string> out;
  std::string line;
  for (std::size_t n = 1; std::getline(in, line); ++n) {
    if (line.size() > kMaxFileLine) return Status::InvalidArgument(path + ":" + std::to_string(n) + ": line too long");
    std::size_t b = line.find_first_not_of(" \t\r");
    if (b == std::string::npos || line[b] == '#') continue;
    std::size_t e = line.find_last_not_of(" \t\r");
    out.push_back(line.substr(b, e - b + 1));
  }
  return out;
}

// The line of one address or domain: TEXT, or with --json the object
// {KEY: NAME, "outcome": OUTCOME} followed by `more`'s members.
void PrintOutcome(bool json, const char* key, const std::string& name, const char* outcome,
                  const std::string& text, const nlohmann::ordered_json& more = {}) {
  if (!json) {
    std::printf("%s: %s\n", name.c_str(), text.c_str());
    return;
  }
  nlohmann::ordered_json j{{key, name}, {"outcome", outcome}};
  if (more.is_object()) j.update(more);
  std::fputs(JsonLine(j).c_str(), stdout);
}

// An address the store refused: on standard error always, in the JSON
// output too so that a script sees an outcome for every address it gave.
void PrintAddressError(bool json, const std::string& address, const std::string& message) {
  std::fprintf(stderr, "%s: error: %s\n", address.c_str(), message.c_str());
  if (json) PrintOutcome(json, "address", address, "error", "", {{"error", message}});
}

}  // namespace

int RunUnblock(const Args& raw) {
  Result<ParsedArgs> args = ParseStoreArgs(raw, {{"--file", "--actor", "--domain"}, {"--force"}});
  if (!args.ok()) return UsageError("unblock", args.status().message());
  if (args->help) return ShowStoreHelp(kUnblockHelp);
  std::vector<std::string> addresses = args->positional;
  if (args->HasValue("--file")) {
    Result<std::vector<std::string>> from_file = ReadAddressFile(args->Value("--file"));
    if (!from_file.ok()) return Fail("unblock", from_file.status().message());
    addresses.insert(addresses.end(), from_file->begin(), from_file->end());
  }
  const bool domain = args->HasValue("--domain");
  if (addresses.empty() == !domain) {
    return UsageError("unblock", "give ADDRESS..., --file FILE or --domain DOMAIN");
  }
  Result<std::unique_ptr<Store>> store = OpenStoreForCli(*args, /*read_only=*/false);
  if (!store.ok()) return Fail("unblock", store.status().ToString());
  const std::string actor = args->Value("--actor", DefaultActor());
  const std::int64_t now = NowSeconds();
  const bool json = args->Has("--json");
  if (domain) {
    const std::string name = args->Value("--domain");
    Result<bool> lifted = (*store)->UnblockDomain(name, actor, now);
    if (!lifted.ok()) return Fail("unblock", lifted.status().ToString());
    PrintOutcome(json, "domain", name, *lifted ? "lifted" : "not-suppressed",
                 *lifted ? "domain entry lifted" : "domain not suppressed");
    return kExitOk;
  }
  int status = kExitOk;
  for (const std::string& address : addresses) {
    Result<UnblockOutcome> r = (*store)->Unblock(address, args->Has("--force"), actor, now);
    if (!r.ok()) {
      PrintAddressError(json, address, r.status().message());
      status = kExitError;
      continue;
    }
    switch (*r) {
      case UnblockOutcome::kUnblocked:
        PrintOutcome(json, "address", address, "unblocked", "unblocked");
        break;
      case UnblockOutcome::kNotSuppressed:
        PrintOutcome(json, "address", address, "not-suppressed", "not suppressed");
        break;
      case UnblockOutcome::kNeedsForce:
        PrintOutcome(json, "address", address, "needs-force",
                     "permanently suppressed; unchanged (use --force)");
        status = kExitError;
        break;
    }
  }
  return status;
}

int RunSuppress(const Args& raw) {
  Result<ParsedArgs> args =
      ParseStoreArgs(raw, {{"--reason", "--days", "--actor", "--domain"}, {}});
  if (!args.ok()) return UsageError("suppress", args.status().message());
  if (args->help) return ShowStoreHelp(kSuppressHelp);
  const std::string reason = args->Value("--reason");
  if (reason.empty()) return UsageError("suppress", "--reason is required");
  const bool domain = args->HasValue("--domain");
  if (args->positional.empty() == !domain) {
    return UsageError("suppress", "give ADDRESS... or --domain DOMAIN");
  }
  Result<std::int64_t> days = IntegerOption(*args, "--days", 1, 3650, 0);
  if (!days.ok()) return UsageError("suppress", days.status().message());
  if (*days != 0 && domain) return UsageError("suppress", "--days applies to addresses only");
  Result<std::unique_ptr<Store>> store = OpenStoreForCli(*args, /*read_only=*/false);
  if (!store.ok()) return Fail("suppress", store.status().ToString());
  const std::string actor = args->Value("--actor", DefaultActor());
  const std::int64_t now = NowSeconds();
  const bool json = args->Has("--json");
  if (domain) {
    const std::string name = args->Value("--domain");
    Status s = (*store)->SuppressDomain(name, reason, actor, now);
    if (!s.ok()) return Fail("suppress", s.ToString());
    PrintOutcome(json, "domain", name, "suppressed", "domain suppressed");
    return kExitOk;
  }
  int status = kExitOk;
  const std::int64_t until = *days == 0 ? 0 : now + *days * 86400;
  for (const std::string& address : args->positional) {
    Status s = (*store)->Suppress(address, reason, until, actor, now);
    if (!s.ok()) {
      PrintAddressError(json, address, s.message());
      status = kExitError;
    } else {
      PrintOutcome(json, "address", address, "suppressed",
                   until != 0 ? "suppressed temporarily" : "suppressed",
                   {{"until", FormatTime(until)}});
    }
  }
  return status;
}

int RunExpire(const Args& raw) {
  Result<ParsedArgs> args = ParseStoreArgs(raw, {{}, {}});
  if (!args.ok()) return UsageError("expire", args.status().message());
  if (args->help) return ShowStoreHelp(kExpireHelp);
  Result<std::unique_ptr<Store>> store = OpenStoreForCli(*args, /*read_only=*/false);
  if (!store.ok()) return Fail("expire", store.status().ToString());
  Result<std::uint64_t> lifted = (*store)->ExpireNow(NowSeconds());
  if (!lifted.ok()) return Fail("expire", lifted.status().ToString());
  if (args->Has("--json")) {
    std::printf("{\"lifted\":%llu}\n", static_cast<unsigned long long>(*lifted));
  } else {
    std::printf("%llu temporary suppression(s) lifted\n", static_cast<unsigned long long>(*lifted));
  }
  return kExitOk;
}

}  // namespace bm::cli
