#include "cli/args.h"

#include <gtest/gtest.h>

namespace bm::cli {
namespace {

const OptionSpec kSpec = {{"--db", "--format"}, {"--json", "-v"}};

TEST(ArgsTest, ValuesFlagsAndPositionalsInAnyOrder) {
  Result<ParsedArgs> a =
      ParseArgs({"one", "--db", "/srv/db", "-v", "two", "--format=csv", "-", "--json"}, kSpec);
  ASSERT_TRUE(a.ok()) << a.status().ToString();
  EXPECT_EQ(a->Value("--db"), "/srv/db");
  EXPECT_EQ(a->Value("--format"), "csv");
  EXPECT_TRUE(a->HasValue("--db"));
  EXPECT_FALSE(a->HasValue("--nothing"));
  EXPECT_EQ(a->Value("--nothing", "fallback"), "fallback");
  EXPECT_TRUE(a->Has("-v"));
  EXPECT_TRUE(a->Has("--json"));
  EXPECT_EQ(a->positional, (std::vector<std::string>{"one", "two", "-"}));
  EXPECT_FALSE(a->help);
}

TEST(ArgsTest, ValueMayStartWithADashAndTheLastOneWins) {
  Result<ParsedArgs> a = ParseArgs({"--db", "-x", "--db", "/b", "--format="}, kSpec);
  ASSERT_TRUE(a.ok());
  EXPECT_EQ(a->Value("--db"), "/b");
  EXPECT_TRUE(a->HasValue("--format"));
  EXPECT_EQ(a->Value("--format", "unset"), "");
}

TEST(ArgsTest, DoubleDashEndsOptionsAndHelpIsAFlagOfItsOwn) {
  Result<ParsedArgs> a = ParseArgs({"-h", "--", "--json", "-v", ""}, kSpec);
  ASSERT_TRUE(a.ok());
  EXPECT_TRUE(a->help);
  EXPECT_FALSE(a->Has("--json"));
  EXPECT_EQ(a->positional, (std::vector<std::string>{"--json", "-v", ""}));
  EXPECT_TRUE(ParseArgs({"--help"}, {})->help);
}

TEST(ArgsTest, ErrorsNameTheOption) {
  EXPECT_EQ(ParseArgs({"--bogus"}, kSpec).status().message(), "unknown option --bogus");
  EXPECT_EQ(ParseArgs({"--bogus=1"}, kSpec).status().message(), "unknown option --bogus");
  EXPECT_EQ(ParseArgs({"-q"}, kSpec).status().message(), "unknown option -q");
  EXPECT_EQ(ParseArgs({"x", "--db"}, kSpec).status().message(), "option --db needs a value");
  EXPECT_EQ(ParseArgs({"--json=yes"}, kSpec).status().message(), "option --json takes no value");
  EXPECT_EQ(ParseArgs({"--bogus"}, kSpec).status().code(), Status::Code::kInvalidArgument);
}

TEST(ArgsTest, IntegerOptionChecksBoundsAndFallsBack) {
  Result<ParsedArgs> a = ParseArgs({"--db", "42", "--format", "4x"}, kSpec);
  ASSERT_TRUE(a.ok());
  EXPECT_EQ(*IntegerOption(*a, "--db", 1, 100, 7), 42);
  EXPECT_EQ(*IntegerOption(*a, "--absent", 1, 100, 7), 7);
  EXPECT_EQ(IntegerOption(*a, "--db", 1, 10, 7).status().message(), "--db takes 1..10, not '42'");
  EXPECT_EQ(IntegerOption(*a, "--format", 0, 9, 0).status().message(),
            "--format takes 0..9, not '4x'");
}

}  // namespace
}  // namespace bm::cli
