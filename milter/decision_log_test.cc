#include "milter/decision_log.h"

#include <nlohmann/json.hpp>

#include <gtest/gtest.h>

namespace bm {
namespace {

TEST(DecisionLogTest, Text) {
  EXPECT_EQ(FormatDecision(LogFormat::kText, "outbound-refuse",
                           {{"recipient", "a@b"}, {"reason", ""}, {"note", "two words"}}),
            "outbound-refuse recipient=a@b reason=\"\" note=\"two words\"");
}

TEST(DecisionLogTest, ControlCharactersCannotForgeLines) {
  std::string line =
      FormatDecision(LogFormat::kText, "inbound", {{"sender", "x\ninbound forged=1"}});
  EXPECT_EQ(line.find('\n'), std::string::npos);
  EXPECT_EQ(line, "inbound sender=\"x?inbound forged=1\"");
}

TEST(DecisionLogTest, Json) {
  std::string line = FormatDecision(LogFormat::kJson, "inbound",
                                    {{"recipient", "a@b"}, {"bad", "\xff\xfe"}, {"q", "\"x\""}});
  nlohmann::json j = nlohmann::json::parse(line);
  EXPECT_EQ(j["event"], "inbound");
  EXPECT_EQ(j["recipient"], "a@b");
  EXPECT_EQ(j["q"], "\"x\"");
  EXPECT_TRUE(j.contains("bad"));
}

}  // namespace
}  // namespace bm
