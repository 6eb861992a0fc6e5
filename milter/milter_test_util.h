// Test-only helpers for the milter protocol tests: the MTA's side of a
// session as raw packets, replies split back into packets, and a Filter over
// a real store in a temporary directory. Not linked into the daemon.
#ifndef BM_MILTER_MILTER_TEST_UTIL_H_
#define BM_MILTER_MILTER_TEST_UTIL_H_

#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdint>
#include <filesystem>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "common/test_log_capture.h"  // LogCapture, for the tests that include this one
#include "milter/filter.h"
#include "milter/milter_protocol.h"
#include "parser/parser.h"

namespace bm::milter_test {

using Strings = std::vector<std::string>;

// Every step Postfix 3.7 offers, every action.
inline constexpr std::uint32_t kAllSteps = 0x1fffff;
inline constexpr std::uint32_t kAllActions = 0x1ff;

inline std::string Be32(std::uint32_t v) {
  return {static_cast<char>(v >> 24), static_cast<char>(v >> 16), static_cast<char>(v >> 8),
          static_cast<char>(v)};
}

// NUL-terminated strings, concatenated.
inline std::string Z(const Strings& strings) {
  std::string out;
  for (const std::string& s : strings) out += s + '\0';
  return out;
}

inline std::string Packet(char command, const std::string& data = "") {
  std::string out;
  milter::AppendPacket(&out, command, data);
  return out;
}

inline std::string Optneg(std::uint32_t actions = kAllActions, std::uint32_t steps = kAllSteps,
                          std::uint32_t version = 6) {
  return Packet('O', Be32(version) + Be32(actions) + Be32(steps));
}
inline std::string MacroPacket(char stage, const Strings& names_values) {
  return Packet('D', std::string(1, stage) + Z(names_values));
}
inline std::string Connect4(const std::string& host, const std::string& ip) {
  return Packet('C', Z({host}) + "4" + std::string("\x00\x19", 2) + Z({ip}));
}
inline std::string Mail(const std::string& sender) { return Packet('M', Z({sender})); }
inline std::string Rcpt(const std::string& recipient) { return Packet('R', Z({recipient})); }
inline std::string HeaderPacket(const std::string& name, const std::string& value) {
  return Packet('L', Z({name, value}));
}

struct Reply {
  char command = 0;
  std::string data;
};

// Splits encoded replies; a malformed stream fails the test.
inline std::vector<Reply> SplitReplies(std::string_view bytes) {
  std::vector<Reply> replies;
  while (!bytes.empty()) {
    std::size_t consumed = 0;
    Result<std::optional<milter::Packet>> p = milter::NextPacket(bytes, &consumed);
    EXPECT_TRUE(p.ok() && p->has_value()) << "bad reply stream";
    if (!p.ok() || !p->has_value()) break;
    replies.push_back({(*p)->command, std::string((*p)->data)});
    bytes.remove_prefix(consumed);
  }
  return replies;
}

// The reply commands only: "c", "y", "ha"...
inline std::string Commands(const std::vector<Reply>& replies) {
  std::string out;
  for (const Reply& r : replies) out += r.command;
  return out;
}

inline std::string Dsn(const std::string& recipient, const std::string& status = "5.1.1",
                       const std::string& diagnostic = "550 5.1.1 user unknown") {
  return "From: MAILER-DAEMON@mx.other.test\r\n"
         "Subject: Undelivered Mail Returned to Sender\r\n"
         "MIME-Version: 1.0\r\n"
         "Content-Type: multipart/report; report-type=delivery-status; boundary=\"B\"\r\n"
         "\r\n"
         "--B\r\nContent-Type: text/plain\r\n\r\nNot delivered.\r\n"
         "--B\r\nContent-Type: message/delivery-status\r\n\r\n"
         "Reporting-MTA: dns; mx.other.test\r\n\r\n"
         "Final-Recipient: rfc822; " +
         recipient +
         "\r\n"
         "Action: failed\r\nStatus: " +
         status + "\r\nDiagnostic-Code: smtp; " + diagnostic + "\r\n--B--\r\n";
}

// The packets of a whole message after RCPT: headers (one packet each), end
// of headers, the body in one chunk, end of message.
inline std::string MessagePackets(const std::string& raw) {
  const std::size_t end = raw.find("\r\n\r\n");
  std::string out;
  std::string_view headers(raw.data(), end + 2);
  while (!headers.empty()) {
    const std::size_t nl = headers.find("\r\n");
    const std::string_view line = headers.substr(0, nl);
    const std::size_t colon = line.find(':');
    out += HeaderPacket(std::string(line.substr(0, colon)), std::string(line.substr(colon + 2)));
    headers.remove_prefix(nl + 2);
  }
  return out + Packet('N') + Packet('B', raw.substr(end + 4)) + Packet('E');
}

// The fixed "now" of the fixture's filter.
inline constexpr std::int64_t kFixtureNow = 1763800000;

// A Filter with the embedded rules over a store in a fresh temporary
// directory; no return-path keys, unverified bounces recorded (bounce
// verification has tests of its own).
class FilterFixture : public ::testing::Test {
 protected:
  // Once per program: GMime leaks when initialised a second time.
  static void SetUpTestSuite() { static GMimeLibrary gmime; }
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() /
           ("bm-milter-test-" + std::to_string(getpid()) + "-" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::remove_all(dir_);
    std::filesystem::create_directories(dir_);
    Configure("");
  }
  // (Re)creates the filter with config text; the store (at store_path,
  // default dir_/store) is opened on the first call only.
  void Configure(const std::string& config_text, const std::string& store_path = "") {
    Result<std::shared_ptr<const Config>> config = LoadConfigString(config_text, "test.conf");
    ASSERT_TRUE(config.ok()) << config.status().ToString();
    auto policy = std::make_shared<Policy>();
    policy->config = *config;
    policy->rules = RuleTable::Default();
    policy->verifier = std::make_shared<const BounceVerifier>(
        nullptr, VerifierOptions{.unverified = Disposition::kRecord});
    filter_.reset();
    holder_ = std::make_unique<PolicyHolder>(policy);
    if (!store_) {
      store_ = std::make_unique<StoreAccess>(
          store_path.empty() ? (dir_ / "store").string() : store_path, 1);
    }
    filter_ = std::make_unique<Filter>(*holder_, *store_, [] { return kFixtureNow; });
  }
  void TearDown() override {
    filter_.reset();
    store_.reset();
    std::filesystem::remove_all(dir_);
  }

  std::filesystem::path dir_;
  std::unique_ptr<PolicyHolder> holder_;
  std::unique_ptr<StoreAccess> store_;
  std::unique_ptr<Filter> filter_;
};

}  // namespace bm::milter_test

#endif  // BM_MILTER_MILTER_TEST_UTIL_H_
