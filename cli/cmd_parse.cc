// bouncectl parse [--json] [--rules FILE] FILE... | -
//
// Decodes each message, classifies each recipient, and prints the result: one
// JSON object per input with --json (the contract in docs/bouncectl.md), a
// readable table otherwise. A file that cannot be read or decoded yields a
// record with "error"; processing continues and the exit status is 1.
#include <cstdio>
#include <iostream>
#include <memory>
#include <string>

#include <nlohmann/json.hpp>

#include "cli/args.h"
#include "cli/commands.h"
#include "cli/report_json.h"
#include "common/file_util.h"
#include "parser/parser.h"
#include "rules/rule_table.h"

namespace bm::cli {
namespace {

constexpr const char* kHelp =
    "Usage: bouncectl parse [--json] [--rules FILE] FILE... | -\n"
    "\n"
    "Decodes each bounce message (RFC 3464 DSN, MTA non-delivery report,\n"
    "RFC 3834 auto-reply, RFC 5965 feedback report) and classifies every\n"
    "recipient with the rule table. `-` reads one message from standard input.\n"
    "\n"
    "Options:\n"
    "  --json         one JSON object per input file, one per line\n"
    "  --rules FILE   rules file to use instead of the embedded defaults\n"
    "  -h, --help     this text\n"
    "\n"
    "Exit status: 0 when every input was decoded, 1 when any could not be\n"
    "read or decoded (its record carries \"error\"), 2 on a usage error.\n";

void PrintTable(const std::string& file, const BounceReport& report,
                const std::vector<ClassifiedRecipient>& recipients) {
  std::printf("%s: %s", file.c_str(), std::string(ReportKindName(report.kind)).c_str());
  if (!report.format.empty()) std::printf(" (%s)", report.format.c_str());
  std::printf(", %zu recipient(s)\n", recipients.size());
  for (const ClassifiedRecipient& r : recipients) {
    const Classification& c = r.classification;
    std::printf("  %-40s %-9s %-7s %-3s %-15s %-9s %s  rule=%s\n", r.facts.address.c_str(),
                r.facts.action.c_str(), c.status.c_str(), r.facts.reply_code.c_str(),
                c.reason.c_str(), std::string(BounceClassName(c.bounce_class)).c_str(),
                c.hard ? "hard" : "soft", c.rule_id.c_str());
    if (!r.facts.diagnostic.empty()) std::printf("      %s\n", r.facts.diagnostic.c_str());
  }
}

}  // namespace

int RunParse(const Args& raw) {
  Result<ParsedArgs> args = ParseArgs(raw, {{"--rules"}, {"--json"}});
  if (!args.ok()) return UsageError("parse", args.status().message());
  if (args->help) return ShowHelp(kHelp);
  if (args->positional.empty()) return UsageError("parse", "no FILE given");
  const bool json = args->Has("--json");
  const std::string rules_path = args->Value("--rules");

  Result<std::shared_ptr<const RuleTable>> loaded = RuleTable::LoadFileOrDefault(rules_path);
  if (!loaded.ok()) return Fail("parse", loaded.status().message());
  const std::shared_ptr<const RuleTable> rules = *loaded;

  const ParseLimits limits;
  int exit_status = kExitOk;
  for (const std::string& file : args->positional) {
    Result<std::string> raw = ReadFileBounded(file, limits.max_message_bytes);
    Result<BounceReport> report =
        raw.ok() ? ParseBounce(*raw, limits) : Result<BounceReport>(raw.status());
    if (!report.ok()) {
      exit_status = kExitError;
      if (json) {
        std::cout << nlohmann::json{{"file", file}, {"error", report.status().ToString()}}.dump()
                  << '\n';
      } else {
        std::fprintf(stderr, "%s: error: %s\n", file.c_str(), report.status().ToString().c_str());
      }
      continue;
    }
    std::vector<ClassifiedRecipient> classified = ClassifyReport(*report, *rules);
    if (json) {
      std::cout << ReportToJson(file, *report, classified).dump(-1, ' ', false,
                                                               nlohmann::json::error_handler_t::replace)
                << '\n';
    } else {
      PrintTable(file, *report, classified);
    }
  }
  return exit_status;
}

}  // namespace bm::cli
