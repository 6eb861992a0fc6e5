// bouncectl: the command-line tool of bounce-milter. Dispatches to one
// subcommand per file (cli/cmd_*.cc); `bouncectl help` lists them.
#include <cstdio>
#include <cstring>
#include <string>
#include <string_view>

#include <spdlog/sinks/stdout_sinks.h>
#include <spdlog/spdlog.h>

#include "cli/commands.h"
#include "parser/parser.h"

namespace {

struct Command {
  const char* name;
  int (*run)(const bm::cli::Args&);
  const char* summary;
};

constexpr Command kCommands[] = {
    {"parse", bm::cli::RunParse, "decode and classify bounce messages"},
    {"rules", bm::cli::RunRules, "check a rules file, or test which rule matches"},
    {"keys", bm::cli::RunKeys, "generate, list or rotate the return-path signing keys"},
    {"verify", bm::cli::RunVerify, "decode and check the tag of a signed return path"},
    {"ingest", bm::cli::RunIngest, "parse, classify and record bounces (files, mbox, Maildir)"},
    {"check", bm::cli::RunCheck, "tell whether addresses are suppressed (exit status)"},
    {"show", bm::cli::RunShow, "show an address's record and history"},
    {"list", bm::cli::RunList, "list records or domain entries by state, reason, domain"},
    {"unblock", bm::cli::RunUnblock, "lift suppressions (--force for permanent ones)"},
    {"suppress", bm::cli::RunSuppress, "suppress addresses or a domain by hand"},
    {"expire", bm::cli::RunExpire, "apply expiries and retention now"},
    {"export", bm::cli::RunExport, "export records for a CRM (csv|jsonl, resumable cursor)"},
    {"import", bm::cli::RunImport, "merge a CRM suppression list (csv|jsonl)"},
    {"stats", bm::cli::RunStats, "counts by state, reason, domain; recent bounces"},
    {"verify-store", bm::cli::RunVerifyStore, "check the store's consistency"},
};

constexpr const char* kUsage =
    "Usage: bouncectl COMMAND [OPTIONS] [ARGS]\n"
    "\n"
    "Decodes bounces and manages the bounce-milter suppression store.\n"
    "Run `bouncectl COMMAND --help` for the options of one command;\n"
    "the full manual is docs/bouncectl.md.\n"
    "\n"
    "Commands:\n";

void PrintUsage(FILE* out) {
  std::fputs(kUsage, out);
  for (const Command& c : kCommands) std::fprintf(out, "  %-13s %s\n", c.name, c.summary);
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) {
    PrintUsage(stderr);
    return bm::cli::kExitUsage;
  }
  std::string_view name = argv[1];
  if (name == "help" || name == "--help" || name == "-h") {
    PrintUsage(stdout);
    return bm::cli::kExitOk;
  }
  if (name == "--version") {
    std::puts("bouncectl " BM_VERSION);
    return bm::cli::kExitOk;
  }
  // The store logs through spdlog (the upgrade of a schema 2 store, map
  // growth): to standard error, never into a command's output.
  spdlog::set_default_logger(spdlog::stderr_logger_mt("bouncectl"));
  for (const Command& c : kCommands) {
    if (name == c.name) {
      bm::GMimeLibrary gmime;
      return c.run(bm::cli::Args(argv + 2, argv + argc));
    }
  }
  std::fprintf(stderr, "bouncectl: unknown command '%s'\n\n", argv[1]);
  PrintUsage(stderr);
  return bm::cli::kExitUsage;
}
