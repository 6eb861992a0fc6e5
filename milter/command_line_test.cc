// The bounce-milter executable of this build (BM_MILTER_PATH) on its command
// line: what `-n` prints and where, and usage errors (docs/bounce-milter.md,
// OPTIONS and EXIT STATUS).
#include <sys/wait.h>

#include <cstdlib>
#include <fstream>
#include <sstream>
#include <string>

#include <gtest/gtest.h>

#include "store/store_test_util.h"

namespace bm {
namespace {

struct Outcome {
  int status = -1;
  std::string out;
  std::string err;
};

class CommandLineTest : public ::testing::Test {
 protected:
  Outcome Run(const std::string& arguments) {
    const std::string out = dir_.path() + "/out";
    const std::string err = dir_.path() + "/err";
    const std::string command =
        std::string(BM_MILTER_PATH) + " " + arguments + " >" + out + " 2>" + err;
    const int rc = std::system(command.c_str());
    return {WIFEXITED(rc) ? WEXITSTATUS(rc) : -1, Slurp(out), Slurp(err)};
  }
  std::string Write(const std::string& name, const std::string& text) {
    const std::string path = dir_.path() + "/" + name;
    std::ofstream(path) << text;
    return path;
  }
  static std::string Slurp(const std::string& path) {
    std::stringstream ss;
    ss << std::ifstream(path).rdbuf();
    return ss.str();
  }

  TempDir dir_;
};

TEST_F(CommandLineTest, CheckPrintsOkOnStandardOutput) {
  const std::string conf = Write("good.conf", "Mode monitor\n");
  Outcome o = Run("-n -c " + conf);
  EXPECT_EQ(o.status, 0);
  EXPECT_TRUE(o.out.starts_with(conf + ": OK (")) << o.out;
  EXPECT_EQ(o.err, "");
}

// The error alone, as FILE:LINE: message, for scripts and editors: not a
// log line with a time stamp and a level.
TEST_F(CommandLineTest, CheckPrintsTheErrorAloneAndExits78) {
  const std::string conf = Write("bad.conf", "Mode monitor\nBogusKey 1\n");
  Outcome o = Run("-n -c " + conf);
  EXPECT_EQ(o.status, 78);
  EXPECT_EQ(o.out, "");
  EXPECT_EQ(o.err, conf + ":2: unknown key 'BogusKey'\n");

  o = Run("-n -c " + dir_.path() + "/missing.conf");
  EXPECT_EQ(o.status, 78);
  EXPECT_TRUE(o.err.starts_with(dir_.path() + "/missing.conf" + ": ")) << o.err;
}

TEST_F(CommandLineTest, UsageErrorsExit64) {
  EXPECT_EQ(Run("-d -D").status, 64);
  EXPECT_EQ(Run("-x").status, 64);
  EXPECT_EQ(Run("extra-argument").status, 64);
}

}  // namespace
}  // namespace bm
