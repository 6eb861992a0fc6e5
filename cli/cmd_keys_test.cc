// Runs the real bouncectl binary: keys generate|list|rotate.
#include <sys/stat.h>

#include <fstream>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "auth/test_util.h"
#include "cli/bouncectl_test_runner.h"

namespace bm::cli {
namespace {

using bm::testing::TempDir;

TEST(KeysCommandTest, GenerateListRotate) {
  TempDir dir;
  const std::string keys = dir.File("rp.keys");
  CommandResult gen = RunBouncectl("keys generate --keys " + keys);
  ASSERT_EQ(gen.status, 0) << gen.output;
  EXPECT_NE(gen.output.find("created with key a"), std::string::npos) << gen.output;
  struct stat st {};
  ASSERT_EQ(stat(keys.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);

  // A second generate would throw away the key: refused.
  CommandResult again = RunBouncectl("keys generate --keys " + keys);
  EXPECT_EQ(again.status, 1);
  EXPECT_NE(again.output.find("keys rotate"), std::string::npos) << again.output;

  CommandResult rotate = RunBouncectl("keys rotate --keys " + keys);
  ASSERT_EQ(rotate.status, 0) << rotate.output;
  EXPECT_NE(rotate.output.find("current key b, previous key a"), std::string::npos)
      << rotate.output;

  CommandResult list = RunBouncectl("keys list --keys " + keys);
  ASSERT_EQ(list.status, 0) << list.output;
  EXPECT_NE(list.output.find("current   b  "), std::string::npos) << list.output;
  EXPECT_NE(list.output.find("previous  a  "), std::string::npos) << list.output;

  // Never a secret on the terminal.
  std::ifstream file(keys);
  std::vector<std::string> secrets;
  for (std::string line; std::getline(file, line);) {
    if (line.rfind("current", 0) == 0 || line.rfind("previous", 0) == 0) {
      secrets.push_back(line.substr(line.rfind(' ') + 1));
    }
  }
  ASSERT_EQ(secrets.size(), 2u);
  for (const CommandResult& r : {gen, rotate, list, RunBouncectl("keys list --json --keys " + keys)}) {
    for (const std::string& secret : secrets) {
      EXPECT_EQ(r.output.find(secret.substr(0, 16)), std::string::npos) << r.output;
    }
  }
}

TEST(KeysCommandTest, ListJson) {
  TempDir dir;
  const std::string keys = dir.File("k");
  ASSERT_EQ(RunBouncectl("keys generate --keys " + keys).status, 0);
  CommandResult list = RunBouncectl("keys list --json --keys " + keys);
  ASSERT_EQ(list.status, 0);
  EXPECT_EQ(list.output.rfind("{\"created\":\"", 0), 0u) << list.output;
  EXPECT_NE(list.output.find("\"id\":\"a\",\"role\":\"current\"}"), std::string::npos);
}

TEST(KeysCommandTest, RefusesAReadableKeyFile) {
  TempDir dir;
  const std::string keys = dir.File("k");
  ASSERT_EQ(RunBouncectl("keys generate --keys " + keys).status, 0);
  ASSERT_EQ(chmod(keys.c_str(), 0644), 0);
  for (const char* action : {"list", "rotate"}) {
    CommandResult r = RunBouncectl(std::string("keys ") + action + " --keys " + keys);
    EXPECT_EQ(r.status, 1);
    EXPECT_NE(r.output.find("chmod 600"), std::string::npos) << r.output;
  }
}

TEST(KeysCommandTest, UsageErrors) {
  EXPECT_EQ(RunBouncectl("keys").status, 2);
  EXPECT_EQ(RunBouncectl("keys frobnicate").status, 2);
  CommandResult help = RunBouncectl("keys --help");
  EXPECT_EQ(help.status, 0);
  EXPECT_NE(help.output.find("Usage: bouncectl keys generate"), std::string::npos);
  EXPECT_EQ(RunBouncectl("keys list --keys /nonexistent/k").status, 1);
}

}  // namespace
}  // namespace bm::cli
