// Runs the real bouncectl binary: verify ADDRESS.
#include <chrono>
#include <sys/stat.h>

#include <fstream>
#include <memory>
#include <string>

#include <gtest/gtest.h>

#include "auth/return_path.h"
#include "auth/test_util.h"
#include "cli/bouncectl_test_runner.h"

namespace bm::cli {
namespace {

using bm::testing::TempDir;

class VerifyCommandTest : public ::testing::Test {
 protected:
  VerifyCommandTest() {
    std::ofstream(keys_) << bm::testing::kTwoKeyFile;
    chmod(keys_.c_str(), 0600);
  }
  std::string Sign(const std::vector<std::string>& recipients,
                   std::chrono::system_clock::time_point when) {
    return *codec_.Sign("news@example.com", recipients, when);
  }
  CommandResult Verify(const std::string& arguments) {
    return RunBouncectl("verify --keys " + keys_ + " " + arguments);
  }

  TempDir dir_;
  std::string keys_ = dir_.File("keys");
  ReturnPathCodec codec_{bm::testing::TwoKeyRing(), ReturnPathOptions{}};
  std::chrono::system_clock::time_point now_ = std::chrono::system_clock::now();
};

TEST_F(VerifyCommandTest, VerifiedVerpAddress) {
  std::string address = Sign({"alice@example.net"}, now_);
  CommandResult r = Verify(address);
  EXPECT_EQ(r.status, 0) << r.output;
  EXPECT_NE(r.output.find(address + ": verified"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("form             verp"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("key id           b"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("(0 days old"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("recipient        alice@example.net"), std::string::npos) << r.output;
}

TEST_F(VerifyCommandTest, PerMessageAddressJson) {
  std::string address = Sign({"a@example.net", "b@example.net"}, now_ - std::chrono::days(3));
  CommandResult r = Verify("--json " + address);
  EXPECT_EQ(r.status, 0) << r.output;
  EXPECT_NE(r.output.find("\"verdict\":\"verified\""), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("\"form\":\"per-message\""), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("\"original_sender\":\"news@example.com\""), std::string::npos);
  EXPECT_NE(r.output.find("\"age_days\":3"), std::string::npos) << r.output;
}

TEST_F(VerifyCommandTest, ExpiredForgedAndUnsignedExitThree) {
  std::string old = Sign({"alice@example.net"}, now_ - std::chrono::days(20));
  CommandResult expired = Verify(old);
  EXPECT_EQ(expired.status, 3);
  EXPECT_NE(expired.output.find(": expired"), std::string::npos) << expired.output;
  EXPECT_EQ(Verify("--max-age-days 30 " + old).status, 0);

  std::string forged = Sign({"alice@example.net"}, now_);
  forged[14] = forged[14] == 'a' ? 'b' : 'a';
  CommandResult bad = Verify(forged);
  EXPECT_EQ(bad.status, 3);
  EXPECT_NE(bad.output.find(": forged"), std::string::npos) << bad.output;
  EXPECT_NE(bad.output.find("tag does not match"), std::string::npos) << bad.output;

  CommandResult plain = Verify("postmaster@example.com");
  EXPECT_EQ(plain.status, 3);
  EXPECT_NE(plain.output.find(": not-signed"), std::string::npos) << plain.output;

  // One bad address among good ones decides the exit status.
  EXPECT_EQ(Verify(Sign({"alice@example.net"}, now_) + " " + forged).status, 3);
}

TEST_F(VerifyCommandTest, OptionsAndErrors) {
  EXPECT_EQ(Verify("").status, 2);
  EXPECT_EQ(Verify("--max-age-days 0 a@b").status, 2);
  EXPECT_EQ(Verify("--max-age-days x a@b").status, 2);
  EXPECT_EQ(Verify("--bogus a@b").status, 2);
  EXPECT_EQ(RunBouncectl("verify --keys " + dir_.File("none") + " a@b").status, 1);
  CommandResult help = RunBouncectl("verify --help");
  EXPECT_EQ(help.status, 0);
  EXPECT_NE(help.output.find("not-signed"), std::string::npos);
  ReturnPathOptions options;
  options.prefix = "rp";
  ReturnPathCodec rp(bm::testing::TwoKeyRing(), options);
  std::string address = *rp.Sign("n@example.com", {"x@example.org"}, now_);
  EXPECT_EQ(Verify(address).status, 3);
  EXPECT_EQ(Verify("--prefix rp " + address).status, 0);
}

}  // namespace
}  // namespace bm::cli
