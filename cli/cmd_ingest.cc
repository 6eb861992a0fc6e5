// bouncectl ingest: parse, classify and record bounces, offline — what the
// milter does for each inbound bounce, and how an old bounce mailbox is
// back-filled into the store.
#include <cstdio>
#include <iostream>

#include <nlohmann/json.hpp>

#include "cli/mailbox.h"
#include "cli/store_cli.h"
#include "parser/parser.h"
#include "rules/rule_table.h"
#include "store/ingest.h"

namespace bm::cli {
namespace {

constexpr std::size_t kEventsPerBatch = 500;

constexpr const char* kIngestHelp =
    "Usage: bouncectl ingest [--db PATH] [--rules FILE] [--json] [-v] PATH... | -\n"
    "\n"
    "Decodes every message found at each PATH, classifies each recipient with\n"
    "the rule table and records the bounces and complaints in the store under\n"
    "the store policy of the configuration (--config; docs/bounce-milter.conf.md,\n"
    "STORE POLICY): the same steps the milter takes.\n"
    "A PATH may be a message file, an mbox file (recognised by its leading\n"
    "\"From \" line), a Maildir (a directory with cur/ or new/), or a\n"
    "directory of message files and mbox files (not recursive). `-` reads\n"
    "one message or an mbox (up to 32 MiB) from standard input.\n"
    "Messages that are not bounces are counted and skipped.\n"
    "\n"
    "Options:\n"
    "  --rules FILE  rules file (default: the configuration's RulesFile, else\n"
    "                the embedded table)\n"
    "  -v            one line per message: kind and events recorded\n"
    "  --json        print the summary as one JSON object\n"
    "\n"
    "Exit status: 0 when every message was read and decoded, 1 when some\n"
    "could not be (each is reported on standard error; the others are still\n"
    "recorded) or the store failed, 2 on a usage error.\n";

struct IngestCounts {
  std::size_t messages = 0, bounces = 0, events = 0, errors = 0;
};

}  // namespace

int RunIngest(const Args& raw) {
  Result<ParsedArgs> args = ParseStoreArgs(raw, {{"--rules"}, {"-v"}});
  if (!args.ok()) return UsageError("ingest", args.status().message());
  if (args->help) return ShowStoreHelp(kIngestHelp);
  if (args->positional.empty()) return UsageError("ingest", "no PATH given");
  Result<CliConfig> config = LoadCliConfig(*args);
  if (!config.ok()) return Fail("ingest", config.status().ToString());
  Result<std::shared_ptr<const RuleTable>> rules = config->Rules();
  if (args->HasValue("--rules")) rules = RuleTable::LoadFileOrDefault(args->Value("--rules"));
  if (!rules.ok()) return Fail("ingest", rules.status().message());
  Result<std::unique_ptr<Store>> store = OpenStoreForCli(*args, *config->config, /*read_only=*/false);
  if (!store.ok()) return Fail("ingest", store.status().ToString());

  const ParseLimits limits;
  const bool verbose = args->Has("-v");
  IngestCounts counts;
  std::vector<BounceEvent> pending;
  Status store_error;
  auto flush = [&] {
    if (pending.empty() || !store_error.ok()) return;
    const std::size_t n = pending.size();
    store_error = (*store)->Record(std::move(pending));
    pending.clear();
    if (store_error.ok()) counts.events += n;
  };
  auto on_message = [&](const std::string& name, const Result<std::string>& message) {
    ++counts.messages;
    Result<BounceReport> report =
        message.ok() ? ParseBounce(*message, limits) : Result<BounceReport>(message.status());
    if (!report.ok()) {
      ++counts.errors;
      std::fprintf(stderr, "%s: error: %s\n", name.c_str(), report.status().ToString().c_str());
      return;
    }
    if (report->kind == ReportKind::kNotBounce) {
      if (verbose) std::printf("%s: not a bounce\n", name.c_str());
      return;
    }
    ++counts.bounces;
    std::vector<BounceEvent> events =
        EventsFromReport(*report, ClassifyReport(*report, **rules), NowSeconds());
    if (verbose) {
      std::printf("%s: %s, %zu event(s)\n", name.c_str(),
                  std::string(ReportKindName(report->kind)).c_str(), events.size());
    }
    for (BounceEvent& ev : events) {
      // One malformed recipient address must not cost the batch its other events.
      if (!NormalizeAddress(ev.address, (*store)->options().normalization).ok()) {
        std::fprintf(stderr, "%s: skipped malformed address '%s'\n", name.c_str(), ev.address.c_str());
        continue;
      }
      pending.push_back(std::move(ev));
    }
    if (pending.size() >= kEventsPerBatch) flush();
  };
  for (const std::string& path : args->positional) {
    Status s = ForEachMessage(path, limits.max_message_bytes, on_message);
    if (!s.ok()) {
      ++counts.errors;
      std::fprintf(stderr, "%s: error: %s\n", path.c_str(), s.ToString().c_str());
    }
    if (!store_error.ok()) break;
  }
  flush();
  if (!store_error.ok()) return Fail("ingest", store_error.ToString());
  if (args->Has("--json")) {
    std::cout << nlohmann::json{{"messages", counts.messages}, {"bounces", counts.bounces},
                                {"events", counts.events}, {"errors", counts.errors}}
                     .dump()
              << '\n';
  } else {
    std::printf("%zu message(s), %zu bounce(s), %zu event(s) recorded, %zu error(s)\n",
                counts.messages, counts.bounces, counts.events, counts.errors);
  }
  return counts.errors == 0 ? kExitOk : kExitError;
}

}  // namespace bm::cli
