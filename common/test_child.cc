#include "common/test_child.h"

#include <spawn.h>
#include <sys/wait.h>

#include <filesystem>
#include <map>
#include <string_view>

extern char** environ;

namespace bm {
namespace {

// Marks a command line as a child's: the role's name follows.
constexpr std::string_view kRoleFlag = "--bm-child-role=";

std::map<std::string, ChildRoleFunction, std::less<>>& Roles() {
  static std::map<std::string, ChildRoleFunction, std::less<>> roles;
  return roles;
}

}  // namespace

ChildRole::ChildRole(const char* name, ChildRoleFunction function) {
  Roles().emplace(name, function);
}

pid_t StartChild(const std::string& role, const std::vector<std::string>& args) {
  std::vector<std::string> words = {"/proc/self/exe", std::string(kRoleFlag) + role};
  words.insert(words.end(), args.begin(), args.end());
  std::vector<char*> argv;
  for (std::string& w : words) argv.push_back(w.data());
  argv.push_back(nullptr);
  // posix_spawn, not fork: nothing but the exec runs in the child before the
  // new image replaces it.
  pid_t pid = -1;
  if (posix_spawn(&pid, argv[0], nullptr, nullptr, argv.data(), environ) != 0) return -1;
  return pid;
}

int WaitChild(pid_t pid) {
  int status = 0;
  if (pid < 0 || waitpid(pid, &status, 0) != pid || !WIFEXITED(status)) return -1;
  return WEXITSTATUS(status);
}

int RunChild(const std::string& role, const std::vector<std::string>& args) {
  return WaitChild(StartChild(role, args));
}

std::optional<int> RunChildRoleIfAsked(int argc, char** argv) {
  if (argc < 2 || !std::string_view(argv[1]).starts_with(kRoleFlag)) return std::nullopt;
  auto role = Roles().find(std::string_view(argv[1]).substr(kRoleFlag.size()));
  if (role == Roles().end()) return 125;
  return role->second(std::vector<std::string>(argv + 2, argv + argc));
}

std::size_t ThreadCount() {
  std::error_code ec;
  std::size_t n = 0;
  for (std::filesystem::directory_iterator it("/proc/self/task", ec), end; !ec && it != end;
       it.increment(ec)) {
    ++n;
  }
  return n;
}

}  // namespace bm
