// bouncectl: the command-line tool of bounce-milter. Dispatches to one
// subcommand per file (cli/cmd_*.cc); `bouncectl help` lists them.
#include <cstdio>
#include <cstring>
#include <string>
#include <string_view>

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
  for (const Command& c : kCommands) std::fprintf(out, "  %-10s %s\n", c.name, c.summary);
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
