// Runs the bouncectl binary of this build (its path is compiled in as
// BM_BOUNCECTL_PATH by cli/CMakeLists.txt) and captures what it prints, for
// tests of whole subcommands.
#ifndef BM_CLI_BOUNCECTL_TEST_RUNNER_H_
#define BM_CLI_BOUNCECTL_TEST_RUNNER_H_

#include <sys/wait.h>

#include <cstdio>
#include <string>

namespace bm::cli {

struct CommandResult {
  int status = -1;     // exit status
  std::string output;  // standard output and standard error, interleaved
};

// with_stderr = false: standard error is discarded, `output` holds standard
// output only.
// REQUIRES: arguments are shell-safe (the tests build them from temp paths).
inline CommandResult RunBouncectl(const std::string& arguments, bool with_stderr = true) {
  std::string command =
      std::string(BM_BOUNCECTL_PATH) + " " + arguments + (with_stderr ? " 2>&1" : " 2>/dev/null");
  CommandResult result;
  FILE* pipe = popen(command.c_str(), "r");
  if (pipe == nullptr) return result;
  char buffer[4096];
  std::size_t n;
  while ((n = std::fread(buffer, 1, sizeof buffer, pipe)) > 0) result.output.append(buffer, n);
  int raw = pclose(pipe);
  result.status = WIFEXITED(raw) ? WEXITSTATUS(raw) : -1;
  return result;
}

}  // namespace bm::cli

#endif  // BM_CLI_BOUNCECTL_TEST_RUNNER_H_
