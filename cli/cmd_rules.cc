// bouncectl rules check FILE
// bouncectl rules test [--rules FILE] [--status S] [--code C] [--mta HOST]
//                      [--kind K] [--action A] [--format F] [--command C] TEXT
// bouncectl rules default
//
// Validates a rules file, shows which rule classifies a given diagnostic, or
// prints the embedded default table to start an own file from.
#include <cstdio>
#include <memory>
#include <string>

#include "cli/args.h"
#include "cli/commands.h"
#include "rules/rule_table.h"

namespace bm::cli {
namespace {

constexpr const char* kHelp =
    "Usage: bouncectl rules check FILE\n"
    "       bouncectl rules test [OPTIONS] TEXT\n"
    "       bouncectl rules default\n"
    "\n"
    "check    Loads FILE as bounce-milter would, prints the number of rules, and\n"
    "         exits 0; on the first error prints FILE:LINE: MESSAGE and exits 1\n"
    "         (the file would be rejected as a whole).\n"
    "test     Classifies one recipient whose diagnostic text is TEXT (may be \"\")\n"
    "         and prints the rule that matched (id and line), what each of its\n"
    "         conditions matched, and the resulting reason, class, hard flag\n"
    "         and status (marked \"derived\" when it is a pseudo status).\n"
    "default  Prints the embedded default rules (rules/default.rules).\n"
    "\n"
    "Options of test:\n"
    "  --rules FILE    rules file to use instead of the embedded defaults\n"
    "  --status S      enhanced status code found in the bounce, e.g. 5.1.1\n"
    "  --code C        SMTP reply code, e.g. 550\n"
    "  --mta HOST      remote MTA that gave the answer\n"
    "  --kind K        dsn (default), autoreply, feedback or notbounce\n"
    "  --action A      DSN action: failed (default), delayed, delivered, ...\n"
    "  --format F      decoder name as `parse --json` prints it, e.g. postfix\n"
    "  --command C     SMTP command that was refused: CONN, HELO, MAIL, RCPT, DATA\n"
    "\n"
    "The rules file format is described in docs/rules.md.\n"
    "Exit status: 0 success, 1 the rules file is invalid or unreadable,\n"
    "2 usage error.\n";

int CheckRulesFile(const ParsedArgs& args) {
  if (args.positional.size() != 2) return UsageError("rules", "check takes one FILE");
  auto table = RuleTable::LoadFile(args.positional[1]);
  if (!table.ok()) {
    std::fprintf(stderr, "%s\n", table.status().message().c_str());
    return kExitError;
  }
  std::printf("%s: %zu rules, OK\n", args.positional[1].c_str(), (*table)->size());
  return kExitOk;
}

int TestRules(const ParsedArgs& args) {
  if (args.positional.size() != 2) return UsageError("rules", "test takes one TEXT");
  const std::string kind = args.Value("--kind", "dsn");
  RuleInput input;
  if (kind == "dsn") {
    input.kind = ReportKind::kDsn;
  } else if (kind == "autoreply") {
    input.kind = ReportKind::kAutoReply;
  } else if (kind == "feedback") {
    input.kind = ReportKind::kFeedback;
  } else if (kind == "notbounce") {
    input.kind = ReportKind::kNotBounce;
  } else {
    return UsageError("rules", "unknown kind " + kind);
  }
  auto table = RuleTable::LoadFileOrDefault(args.Value("--rules"));
  if (!table.ok()) {
    std::fprintf(stderr, "%s\n", table.status().message().c_str());
    return kExitError;
  }
  // RuleInput holds views: the option values must outlive Classify.
  const std::string status = args.Value("--status");
  const std::string reply_code = args.Value("--code");
  const std::string remote_mta = args.Value("--mta");
  const std::string action = args.Value("--action", "failed");
  const std::string format = args.Value("--format");
  const std::string command = args.Value("--command");
  input.status = status;
  input.reply_code = reply_code;
  input.remote_mta = remote_mta;
  input.action = action;
  input.format = format;
  input.command = command;
  input.diagnostic = args.positional[1];
  Classification c = (*table)->Classify(input);
  std::printf("rule:    %s\n", c.rule_id.c_str());
  std::printf("why:     %s\n", c.explanation.c_str());
  std::printf("reason:  %s\n", c.reason.c_str());
  std::printf("class:   %s\n", std::string(BounceClassName(c.bounce_class)).c_str());
  std::printf("hard:    %s\n", c.hard ? "yes" : "no");
  std::printf("status:  %s%s\n", c.status.empty() ? "(none)" : c.status.c_str(),
              c.status_derived ? " (derived from the reason)" : "");
  return kExitOk;
}

}  // namespace

int RunRules(const Args& raw) {
  Result<ParsedArgs> args = ParseArgs(raw, {{"--rules", "--status", "--code", "--mta", "--kind",
                                             "--action", "--format", "--command"},
                                            {}});
  if (!args.ok()) return UsageError("rules", args.status().message());
  const std::string sub = args->positional.empty() ? "" : args->positional[0];
  if (args->help || sub == "help") return ShowHelp(kHelp);
  if (sub == "test") return TestRules(*args);
  if (!args->values.empty()) return UsageError("rules", "options are for rules test only");
  if (sub == "check") return CheckRulesFile(*args);
  if (sub == "default" && args->positional.size() == 1) {
    std::fwrite(RuleTable::DefaultText().data(), 1, RuleTable::DefaultText().size(), stdout);
    return kExitOk;
  }
  return UsageError("rules", sub.empty() ? "give check, test or default" : "unknown action " + sub);
}

}  // namespace bm::cli
