// Helpers shared by the store subcommands of bouncectl (ingest, check, show,
// list, unblock, suppress, expire, export, import, stats, verify-store):
// option parsing, the configuration shared with the daemon, opening the
// store, and error output.
#ifndef BM_CLI_STORE_CLI_H_
#define BM_CLI_STORE_CLI_H_

#include <cstdint>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "cli/commands.h"
#include "common/status.h"
#include "milter/config.h"
#include "store/store.h"

namespace bm::cli {

// The command line of one subcommand: options with a value ("--db PATH" or
// "--db=PATH"), boolean flags, and positional arguments ("-" is positional;
// "--" ends the options).
struct ParsedArgs {
  std::map<std::string, std::string, std::less<>> values;
  std::set<std::string, std::less<>> flags;
  std::vector<std::string> positional;
  bool help = false;  // -h or --help was given

  bool Has(std::string_view flag) const { return flags.count(flag) > 0; }
  std::string Value(std::string_view name, std::string fallback = "") const;
};

// Errors: kInvalidArgument naming the unknown option or the missing value.
// "--db", "--config" and "--json" are accepted by every store command and
// need not be listed.
Result<ParsedArgs> ParseArgs(const Args& args, const std::vector<std::string_view>& value_options,
                             const std::vector<std::string_view>& flag_options);

// The daemon's configuration file, for its StorePath and store policy keys
// (docs/bounce-milter.conf.md): --config FILE, else $BOUNCECTL_CONFIG, else
// /etc/bounce-milter.conf when it exists, else the built-in defaults.
// Errors: those of LoadConfigFile ("file:line: message").
Result<std::shared_ptr<const Config>> LoadCliConfig(const ParsedArgs& args);

// Opens the store for a command: at --db, else $BOUNCECTL_DB, else the
// configuration's StorePath, with the configuration's policy and address
// normalisation. read_only for commands that only read (a read-only open of
// a missing store is an error). The writer of a writable store does not run
// periodic expiry: `bouncectl expire` does that.
Result<std::unique_ptr<Store>> OpenStoreForCli(const ParsedArgs& args, const Config& config,
                                               bool read_only);
// The same, loading the configuration with LoadCliConfig.
Result<std::unique_ptr<Store>> OpenStoreForCli(const ParsedArgs& args, bool read_only);

std::int64_t NowSeconds();

// Prints "bouncectl CMD: message" to stderr and returns status.
int Fail(std::string_view command, std::string_view message, int status = kExitError);
// Prints the help text to stderr after a usage error and returns kExitUsage.
int UsageError(std::string_view command, std::string_view message, const char* help);

}  // namespace bm::cli

#endif  // BM_CLI_STORE_CLI_H_
