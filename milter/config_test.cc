#include "milter/config.h"

#include <cstdlib>
#include <fstream>
#include <sstream>

#include <gtest/gtest.h>

#include "milter/config_test_util.h"
namespace bm {
namespace {

std::string Error(std::string_view text) {
  Result<std::shared_ptr<const Config>> c = LoadConfigString(text, "test.conf");
  EXPECT_FALSE(c.ok());
  return c.ok() ? "" : c.status().message();
}

TEST(ConfigTest, EveryDefaultParses) {
  for (const ConfigKey& key : ConfigKeys()) {
    Config c;
    EXPECT_TRUE(key.set(c, key.default_value).ok()) << key.name;
  }
}

TEST(ConfigTest, Defaults) {
  Config c = DefaultConfig();
  EXPECT_EQ(c.socket, "inet:8895@127.0.0.1");
  EXPECT_EQ(c.mode, Mode::kEnforce);
  EXPECT_EQ(c.on_store_error, ErrorAction::kTempfail);
  EXPECT_EQ(c.on_internal_error, ErrorAction::kAccept);
  EXPECT_EQ(c.max_message_size, 10u * 1024 * 1024);
  EXPECT_EQ(c.socket_mode, 0660u);
  EXPECT_EQ(c.outbound_clients.size(), 2u);
  EXPECT_TRUE(c.outbound_authenticated);
  EXPECT_EQ(c.temporary_suppression_class, 4);
  EXPECT_EQ(c.inbound_dsn, InboundAction::kTag);
  EXPECT_TRUE(c.rules_file.empty());
}

TEST(ConfigTest, ParsesKeysCommentsAndLists) {
  Config c = LoadTestConfig(
      "# a comment\n"
      "\n"
      "socket   unix:/run/bounce-milter/milter.sock\r\n"
      "Mode monitor   # trailing comment\n"
      "On-StoreError reject\n"
      "MaxMessageSize 2M\n"
      "BounceAddresses bounces@example.com, bounces+*@example.com\n"
      "OutboundClients 192.0.2.0/24 2001:db8::/32\n"
      "OutboundDaemons submission,outbound\n"
      "OutboundAuthenticated no\n"
      "InboundAction-Dsn discard\n"
      "TemporarySuppressionReply 5xx\n"
      "SuppressedReply {address} is blocked (ticket#42)\n"
      "LogFormat json\n");
  EXPECT_EQ(c.socket, "unix:/run/bounce-milter/milter.sock");
  EXPECT_EQ(c.mode, Mode::kMonitor);
  EXPECT_EQ(c.on_store_error, ErrorAction::kReject);
  EXPECT_EQ(c.max_message_size, 2u * 1024 * 1024);
  ASSERT_EQ(c.bounce_addresses.size(), 2u);
  EXPECT_EQ(c.bounce_addresses[1], "bounces+*@example.com");
  ASSERT_EQ(c.outbound_clients.size(), 2u);
  EXPECT_EQ(c.outbound_clients[1].text, "2001:db8::/32");
  EXPECT_EQ(c.outbound_daemons, (std::vector<std::string>{"submission", "outbound"}));
  EXPECT_FALSE(c.outbound_authenticated);
  EXPECT_EQ(c.inbound_dsn, InboundAction::kDiscard);
  EXPECT_EQ(c.temporary_suppression_class, 5);
  // '#' not after a blank is not a comment.
  EXPECT_EQ(c.suppressed_reply, "{address} is blocked (ticket#42)");
  EXPECT_EQ(c.log_format, LogFormat::kJson);
}

TEST(ConfigTest, ErrorsNameFileAndLine) {
  EXPECT_EQ(Error("Mode enforce\nReson x\n"), "test.conf:2: unknown key 'Reson'");
  EXPECT_EQ(Error("\n\nMode sometimes\n"),
            "test.conf:3: Mode: expected enforce or monitor, got 'sometimes'");
  EXPECT_EQ(Error("Mode enforce\nmode monitor\n"), "test.conf:2: key 'Mode' set twice");
  EXPECT_NE(Error("MaxMessageSize 1K\n").find("test.conf:1: MaxMessageSize: 1K is out of range"),
            std::string::npos);
  EXPECT_NE(Error("MaxMessageSize lots\n").find("expected a size"), std::string::npos);
  EXPECT_NE(Error("Socket inet:99999@localhost\n").find("test.conf:1: Socket:"),
            std::string::npos);
  EXPECT_NE(Error("Socket tcp:25\n").find("Socket:"), std::string::npos);
  EXPECT_NE(Error("Socket unix:relative\n").find("absolute"), std::string::npos);
  EXPECT_NE(Error("OutboundClients 10.0.0.0/33\n").find("prefix length"), std::string::npos);
  EXPECT_NE(Error("OutboundClients mail.example.com\n").find("not an IP"), std::string::npos);
  EXPECT_NE(Error("SuppressedReply {adress} refused\n").find("unknown placeholder {adress}"),
            std::string::npos);
  EXPECT_NE(Error("SocketMode 0999\n").find("octal"), std::string::npos);
  EXPECT_NE(Error("LogTarget file:relative\n").find("file:/path"), std::string::npos);
  EXPECT_NE(Error("On-InternalError ignore\n").find("accept, tempfail or reject"),
            std::string::npos);
}

TEST(ConfigTest, StorePolicyKeysAreValidated) {
  EXPECT_EQ(Error("SoftBounceThreshold 0\n"),
            "test.conf:1: SoftBounceThreshold: 0 is out of range [1, 32]");
  EXPECT_NE(Error("SoftBounceWindow 3651\n").find("out of range"), std::string::npos);
  EXPECT_NE(Error("TemporarySuppressionPeriod two\n").find("expected an integer"),
            std::string::npos);
  EXPECT_NE(Error("LocalPartCase folded\n").find("expected insensitive or sensitive"),
            std::string::npos);
  EXPECT_NE(Error("MaxDiagnosticSize 10\n").find("out of range"), std::string::npos);
  EXPECT_NE(Error("NoChangeReasons vacation, Out-Of-Office\n")
                .find("test.conf:1: NoChangeReasons: 'Out-Of-Office' is not a reason name"),
            std::string::npos);
}

TEST(ConfigTest, SentLedgerTakesItsKeyOrNo) {
  EXPECT_EQ(DefaultConfig().sent_ledger, SentLedger::kMessageId);
  EXPECT_EQ(LoadTestConfig("SentLedger queue-id\n").sent_ledger, SentLedger::kQueueId);
  EXPECT_EQ(LoadTestConfig("SentLedger Message-ID\n").sent_ledger, SentLedger::kMessageId);
  EXPECT_EQ(LoadTestConfig("SentLedger no\n").sent_ledger, SentLedger::kNo);
  // The boolean form of earlier versions keeps its meaning.
  EXPECT_EQ(LoadTestConfig("SentLedger yes\n").sent_ledger, SentLedger::kMessageId);
  EXPECT_EQ(Error("SentLedger maybe\n"),
            "test.conf:1: SentLedger: expected message-id, queue-id or no (yes: message-id), "
            "got 'maybe'");
}

TEST(ConfigTest, AReasonInBothListsNamesTheLaterLine) {
  EXPECT_EQ(Error("NoChangeReasons vacation, blocked\nMode enforce\n"),
            "test.conf:1: reason 'blocked' is in both SenderBlamedReasons and NoChangeReasons");
  EXPECT_EQ(Error("NoChangeReasons vacation\n# x\nSenderBlamedReasons blocked, vacation\n"),
            "test.conf:3: reason 'vacation' is in both SenderBlamedReasons and NoChangeReasons");
  // Moving a reason from one list to the other is fine.
  Config c =
      LoadTestConfig("SenderBlamedReasons blocked\nNoChangeReasons vacation, spamdetected\n");
  EXPECT_EQ(c.no_change_reasons, (std::vector<std::string>{"vacation", "spamdetected"}));
}

TEST(ConfigTest, NamedFileOrDefaults) {
  EXPECT_EQ(ConfigFileToRead("/etc/other.conf"), "/etc/other.conf");
  Result<std::shared_ptr<const Config>> defaults = LoadConfigFileOrDefaults("");
  ASSERT_TRUE(defaults.ok());
  EXPECT_EQ((*defaults)->soft_bounce_threshold, 3);
  EXPECT_EQ(LoadConfigFileOrDefaults("/nonexistent/bounce-milter.conf").status().code(),
            Status::Code::kNotFound);
}

TEST(ConfigTest, AcceptsEverySocketForm) {
  for (const char* spec : {"inet:8895@127.0.0.1", "inet:8895", "inet6:8895@[::1]",
                           "unix:/run/x.sock", "local:/run/x.sock"}) {
    Result<std::shared_ptr<const Config>> c =
        LoadConfigString(std::string("Socket ") + spec + "\n", "t");
    EXPECT_TRUE(c.ok()) << spec << ": " << c.status().ToString();
  }
}

TEST(ConfigTest, ChangedKeysByWhatAReloadDoes) {
  Config a = LoadTestConfig("Socket inet:1000@127.0.0.1\nMode enforce\n");
  Config b = LoadTestConfig("Socket inet:1001@127.0.0.1\nMode monitor\nSoftBounceThreshold 4\n");
  using Keys = std::vector<std::string_view>;
  EXPECT_EQ(ChangedKeys(a, b, OnReload::kNeedsRestart), Keys{"Socket"});
  EXPECT_EQ(ChangedKeys(a, b, OnReload::kReopensStore), Keys{"SoftBounceThreshold"});
  EXPECT_EQ(ChangedKeys(a, b, OnReload::kApplied), Keys{"Mode"});
  EXPECT_TRUE(ChangedKeys(a, a, OnReload::kApplied).empty());
}

TEST(ConfigTest, MissingFileIsNotFound) {
  Result<std::shared_ptr<const Config>> c = LoadConfigFile("/nonexistent/bounce-milter.conf");
  ASSERT_FALSE(c.ok());
  EXPECT_EQ(c.status().code(), Status::Code::kNotFound);
}

// The key table is the source of docs/bounce-milter.conf.md's key section and
// of contrib/bounce-milter.conf: every key must appear in both, with its
// default.
std::string ReadSourceFile(const std::string& relative) {
  const char* dir = std::getenv("BM_SOURCE_DIR");
  std::ifstream in(std::string(dir != nullptr ? dir : ".") + "/" + relative);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

TEST(ConfigTest, DocsHoldTheKeyTable) {
  std::string doc = ReadSourceFile("docs/bounce-milter.conf.md");
  ASSERT_FALSE(doc.empty());
  EXPECT_NE(doc.find(ConfigKeysMarkdown()), std::string::npos)
      << "docs/bounce-milter.conf.md is out of date: regenerate its KEYS section with "
         "`bounce-milter -d`";
}

TEST(ConfigTest, DefaultConfigFileListsEveryKeyCommented) {
  std::string conf = ReadSourceFile("contrib/bounce-milter.conf");
  ASSERT_FALSE(conf.empty());
  EXPECT_NE(conf.find(ConfigKeysCommented()), std::string::npos)
      << "contrib/bounce-milter.conf is out of date: regenerate its keys with `bounce-milter -D`";
  for (const ConfigKey& key : ConfigKeys()) {
    std::string line = "# " + std::string(key.name) +
                       (key.default_value.empty() ? "" : " " + std::string(key.default_value)) +
                       "\n";
    EXPECT_NE(conf.find(line), std::string::npos) << "missing: " << line;
  }
  // And the file, as shipped, loads.
  EXPECT_TRUE(LoadConfigString(conf, "contrib/bounce-milter.conf").ok());
}

}  // namespace
}  // namespace bm
