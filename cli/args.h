// Command-line parsing shared by every bouncectl subcommand, so that all of
// them take options the same way and report a bad command line the same way:
//
//   bouncectl CMD: unknown option --y; see bouncectl CMD --help
//
// Grammar: an option with a value is written "--name VALUE" or
// "--name=VALUE"; a flag takes no value ("--json", "-v"); "-h" and "--help"
// ask for the help text; "--" ends the options; "-" and every word that does
// not start with '-' are positional arguments, kept in order. Options may
// come before, between and after positional arguments; an option given
// twice keeps its last value.
#ifndef BM_CLI_ARGS_H_
#define BM_CLI_ARGS_H_

#include <cstdint>
#include <functional>
#include <map>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "cli/commands.h"
#include "common/status.h"

namespace bm::cli {

// The options one command accepts, named with their dashes.
struct OptionSpec {
  std::vector<std::string_view> with_value;  // e.g. "--db", "--format"
  std::vector<std::string_view> flags;       // e.g. "--json", "-v"
};

struct ParsedArgs {
  std::map<std::string, std::string, std::less<>> values;
  std::set<std::string, std::less<>> flags;
  std::vector<std::string> positional;
  bool help = false;  // -h or --help was given

  bool Has(std::string_view flag) const { return flags.count(flag) > 0; }
  bool HasValue(std::string_view name) const { return values.count(name) > 0; }
  // A copy: keep it in a std::string before handing out views of it.
  std::string Value(std::string_view name, std::string fallback = "") const;
};

// Errors: kInvalidArgument, "unknown option --y", "option --x needs a value"
// or "option --x takes no value" (the text after "bouncectl CMD: ").
Result<ParsedArgs> ParseArgs(const Args& args, const OptionSpec& spec);

// The value of option `name` as a decimal integer within [min, max], or
// `fallback` when the option was not given. Errors: kInvalidArgument,
// "NAME takes MIN..MAX, not 'TEXT'".
Result<std::int64_t> IntegerOption(const ParsedArgs& args, std::string_view name,
                                   std::int64_t min, std::int64_t max, std::int64_t fallback);

// Prints "bouncectl CMD: MESSAGE; see bouncectl CMD --help" on standard
// error and returns kExitUsage.
int UsageError(std::string_view command, std::string_view message);

// Prints "bouncectl CMD: MESSAGE" on standard error and returns status.
int Fail(std::string_view command, std::string_view message, int status = kExitError);

// Prints a command's help text on standard output and returns kExitOk.
int ShowHelp(const char* help);

}  // namespace bm::cli

#endif  // BM_CLI_ARGS_H_
