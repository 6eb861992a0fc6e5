// Test-only: runs part of a test binary as another process of its own.
//
// A test that needs a second program on the same files (another writer of
// the LMDB store, a process killed mid-write) must not run that code in a
// plain fork() child while the test process has other threads (the store's
// writer, the lookup index maintainer): the child inherits locks those
// threads held (malloc's, ASan's allocator's, spdlog's) with nobody left to
// release them, and may hang. StartChild executes this binary again
// (/proc/self/exe) for a role registered with ChildRole, so the child starts
// with one thread and a fresh heap. common/test_main.cc, the main of every
// bm_test binary, runs the role when asked.
#ifndef BM_COMMON_TEST_CHILD_H_
#define BM_COMMON_TEST_CHILD_H_

#include <sys/types.h>

#include <cstddef>
#include <optional>
#include <string>
#include <vector>

namespace bm {

// A role gets the arguments StartChild was given; it returns the child's
// exit status.
using ChildRoleFunction = int (*)(const std::vector<std::string>& args);

// Registers `function` under `name` during static initialisation; define one
// at namespace scope in the test file:
//   const ChildRole kWriter("domain_cache.write", &WriteInOwnProcess);
// REQUIRES: names are unique within the binary.
class ChildRole {
 public:
  ChildRole(const char* name, ChildRoleFunction function);
};

// Starts this binary as a child running `role` with `args`. The child
// inherits the descriptors not marked close-on-exec (pipe() ends, say), so a
// role can be given their numbers. Returns the child's pid, or -1.
pid_t StartChild(const std::string& role, const std::vector<std::string>& args);

// Waits for the child `pid`: its exit status, or -1 if it did not exit
// normally (killed by a signal) or could not be waited for.
int WaitChild(pid_t pid);

// StartChild, then WaitChild; -1 also when the child could not start.
int RunChild(const std::string& role, const std::vector<std::string>& args);

// For test_main.cc: the exit status of the role the command line names, or
// nullopt when this process is not a child started by StartChild. An unknown
// role exits with 125.
std::optional<int> RunChildRoleIfAsked(int argc, char** argv);

// The threads of this process now (entries of /proc/self/task). A test whose
// fork() child runs more than async-signal-safe code forks only while this
// is 1.
std::size_t ThreadCount();

}  // namespace bm

#endif  // BM_COMMON_TEST_CHILD_H_
