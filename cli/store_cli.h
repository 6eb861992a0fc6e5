// Helpers shared by the store subcommands of bouncectl (ingest, check, show,
// list, unblock, suppress, expire, export, import, stats, verify-store):
// their common options, the configuration shared with the daemon, and
// opening the store.
#ifndef BM_CLI_STORE_CLI_H_
#define BM_CLI_STORE_CLI_H_

#include <cstdint>
#include <memory>
#include <string>

#include "cli/args.h"
#include "cli/commands.h"
#include "common/status.h"
#include "milter/config.h"
#include "rules/rule_table.h"
#include "store/store.h"

namespace bm::cli {

// ParseArgs (cli/args.h) with the options every store command takes besides
// its own: --db PATH, --config FILE and --json.
Result<ParsedArgs> ParseStoreArgs(const Args& args, OptionSpec own);

// Prints a store command's help text followed by the options all store
// commands share (the one text saying where the store and the configuration
// come from), on standard output; returns kExitOk.
int ShowStoreHelp(const char* help);

// The daemon's configuration as the store commands read it.
struct CliConfig {
  std::shared_ptr<const Config> config;
  // The table of the file's RulesFile. Loaded by every store command, not
  // only by ingest, because the daemon loads it with its configuration: a
  // file the daemon refuses for its rules is refused by all. Null when
  // RulesFile is not set: the embedded table cannot fail, and compiling it
  // would cost every `check` more than its lookup.
  std::shared_ptr<const RuleTable> rules_file_table;

  // The table to classify with: RulesFile's, else the embedded one.
  std::shared_ptr<const RuleTable> Rules() const {
    return rules_file_table != nullptr ? rules_file_table : RuleTable::Default();
  }
};

// The daemon's configuration file, for its StorePath, store policy keys
// (docs/bounce-milter.conf.md) and RulesFile: --config FILE, else
// $BOUNCECTL_CONFIG, else /etc/bounce-milter.conf when it exists, else the
// built-in defaults. Errors: those of LoadConfigFile and of
// RuleTable::LoadFileOrDefault ("file:line: message"). The return-path keys
// file is not read: the store commands do not use it (bounce-milter -n checks it).
Result<CliConfig> LoadCliConfig(const ParsedArgs& args);

// --format of export and import: "csv" or "jsonl". Errors: kInvalidArgument,
// "--format csv|jsonl is required" or "unknown format 'X' (csv or jsonl)".
Result<std::string> CrmFormatOption(const ParsedArgs& args);

// Opens the store for a command: at --db, else $BOUNCECTL_DB, else the
// configuration's StorePath, with the configuration's policy and address
// normalisation. read_only for commands that only read (a read-only open of
// a missing store is an error). The writer of a writable store does not run
// periodic expiry: `bouncectl expire` does that.
Result<std::unique_ptr<Store>> OpenStoreForCli(const ParsedArgs& args, const Config& config,
                                               bool read_only);
// The same, loading (and so checking) the configuration with LoadCliConfig.
Result<std::unique_ptr<Store>> OpenStoreForCli(const ParsedArgs& args, bool read_only);

std::int64_t NowSeconds();

}  // namespace bm::cli

#endif  // BM_CLI_STORE_CLI_H_
