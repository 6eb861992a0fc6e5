// The subcommands of bouncectl. Each takes the arguments after its own name
// and returns the process exit status. Each lives in its own cmd_*.cc file.
#ifndef BM_CLI_COMMANDS_H_
#define BM_CLI_COMMANDS_H_

#include <string>
#include <vector>

namespace bm::cli {

using Args = std::vector<std::string>;

// Exit statuses shared by every subcommand (documented in docs/bouncectl.md).
inline constexpr int kExitOk = 0;
inline constexpr int kExitFound = 0;      // check: an address is suppressed
inline constexpr int kExitError = 1;      // some input or operation failed
inline constexpr int kExitUsage = 2;      // bad command line
inline constexpr int kExitNotFound = 3;   // check: no address is suppressed

int RunParse(const Args& args);
int RunRules(const Args& args);
int RunKeys(const Args& args);
int RunVerify(const Args& args);
// Store commands (cli/store_cli.h helpers).
int RunIngest(const Args& args);      // cmd_ingest.cc
int RunCheck(const Args& args);       // cmd_check.cc
int RunShow(const Args& args);        // cmd_check.cc
int RunList(const Args& args);        // cmd_list.cc
int RunUnblock(const Args& args);     // cmd_block.cc
int RunSuppress(const Args& args);    // cmd_block.cc
int RunExpire(const Args& args);      // cmd_block.cc
int RunExport(const Args& args);      // cmd_export.cc
int RunImport(const Args& args);      // cmd_import.cc
int RunStats(const Args& args);       // cmd_stats.cc
int RunVerifyStore(const Args& args); // cmd_stats.cc

}  // namespace bm::cli

#endif  // BM_CLI_COMMANDS_H_
