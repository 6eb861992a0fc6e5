// The store subcommands of bouncectl, run through the real binary over a
// store in a temporary directory, including the corpus gate: ingesting
// shared/corpus/emails suppresses the hard-bounced addresses and none that
// only ever bounced for reasons blaming the sender.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <iterator>
#include <map>
#include <set>
#include <sstream>

#include <nlohmann/json.hpp>

#include "cli/bouncectl_test_runner.h"
#include "cli/commands.h"
#include "store/crm_format.h"
#include "store/lmdb.h"
#include "store/policy.h"
#include "store/store_test_util.h"

namespace bm::cli {
namespace {

namespace fs = std::filesystem;

// The parser misses a few hard addresses of the corpus (an encoded-word
// local part, a quoted local part with dots, one provider format): at least
// this share of the expected hard addresses must come out suppressed.
constexpr double kMinHardRatio = 0.95;

std::string CorpusDir() {
  const char* src = std::getenv("BM_SOURCE_DIR");
  return (fs::path(src != nullptr ? src : ".") / ".." / "shared" / "corpus").lexically_normal().string();
}

std::string ReadAll(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// address -> state, from an export file.
std::map<std::string, std::string> ReadExportCsv(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  CsvReader reader(in);
  std::vector<std::string> fields;
  std::size_t line = 0;
  std::map<std::string, std::string> out;
  EXPECT_TRUE(*reader.Next(&fields, &line));
  EXPECT_EQ(fields[0], std::string(kUtf8Bom) + "address");
  for (Result<bool> more = reader.Next(&fields, &line); more.ok() && *more;
       more = reader.Next(&fields, &line)) {
    out[fields[0]] = fields[1];
  }
  return out;
}

class BouncectlStoreTest : public ::testing::Test {
 protected:
  std::string Db() const { return "--db " + dir_.Sub("db"); }
  CommandResult Run(const std::string& args) { return RunBouncectl(args + " " + Db()); }
  TempDir dir_;
};

TEST_F(BouncectlStoreTest, CorpusIngestSuppressesHardAddressesAndNoSenderBlamedOnes) {
  const std::string corpus = CorpusDir();
  ASSERT_TRUE(fs::is_directory(corpus + "/emails")) << corpus;
  CommandResult ingest = Run("ingest " + corpus + "/emails");
  ASSERT_EQ(ingest.status, 0) << ingest.output;
  const std::string csv = dir_.Sub("export.csv");
  CommandResult exported = Run("export --format csv --output " + csv);
  ASSERT_EQ(exported.status, 0) << exported.output;
  EXPECT_NE(exported.output.find("cursor="), std::string::npos);
  std::map<std::string, std::string> states = ReadExportCsv(csv);

  const Policy policy;
  std::set<std::string> hard;
  std::map<std::string, bool> only_sender_blamed;
  std::ifstream expected(corpus + "/expected.jsonl");
  std::string line;
  while (std::getline(expected, line)) {
    nlohmann::json j = nlohmann::json::parse(line);
    for (const auto& r : j["results"]) {
      std::string address = r["address"].get<std::string>();
      if (address.empty()) continue;
      for (char& c : address) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
      if (r["hard"].get<bool>()) hard.insert(address);
      const bool blamed = policy.IsSenderBlamed(r["reason"].get<std::string>());
      auto [it, inserted] = only_sender_blamed.emplace(address, blamed);
      if (!inserted) it->second = it->second && blamed;
    }
  }
  auto suppressed = [&](const std::string& a) {
    auto it = states.find(a);
    return it != states.end() && (it->second == "suppressed" || it->second == "suppressed-temporary");
  };
  std::size_t present = 0;
  for (const std::string& a : hard) {
    if (suppressed(a)) {
      ++present;
    } else {
      std::printf("hard address not suppressed: %s\n", a.c_str());
    }
  }
  ASSERT_GT(hard.size(), 50u);
  EXPECT_GE(static_cast<double>(present) / hard.size(), kMinHardRatio)
      << present << " of " << hard.size();
  for (const auto& [address, blamed] : only_sender_blamed) {
    if (blamed) {
      EXPECT_FALSE(suppressed(address)) << "sender-blamed address suppressed: " << address;
    }
  }
  EXPECT_EQ(Run("verify-store").status, 0);
}

TEST_F(BouncectlStoreTest, CheckExitStatusSaysSuppressedOrNot) {
  ASSERT_EQ(Run("suppress --reason manual gone@example.com").status, 0);
  EXPECT_EQ(Run("check gone@example.com").status, kExitFound);
  EXPECT_EQ(Run("check -q fine@example.com").status, kExitNotFound);
  EXPECT_EQ(Run("check fine@example.com GONE@Example.com").status, kExitFound);
  EXPECT_EQ(Run("check not-an-address").status, kExitError);
  EXPECT_EQ(Run("check").status, kExitUsage);
  CommandResult json = Run("check --json gone@example.com");
  EXPECT_NE(json.output.find("\"suppressed\":true"), std::string::npos) << json.output;
}

TEST_F(BouncectlStoreTest, UnblockOfPermanentSuppressionNeedsForce) {
  ASSERT_EQ(Run("suppress --reason manual a@example.com").status, 0);
  CommandResult r = Run("unblock a@example.com");
  EXPECT_EQ(r.status, kExitError);
  EXPECT_NE(r.output.find("--force"), std::string::npos);
  EXPECT_EQ(Run("check -q a@example.com").status, kExitFound);
  EXPECT_EQ(Run("unblock --force a@example.com").status, kExitOk);
  EXPECT_EQ(Run("check -q a@example.com").status, kExitNotFound);
  CommandResult show = Run("show a@example.com");
  EXPECT_EQ(show.status, kExitOk);
  EXPECT_NE(show.output.find("unblock"), std::string::npos) << show.output;
}

TEST_F(BouncectlStoreTest, ImportReportsBadRowsByLineAndKeepsGoodOnes) {
  const std::string file = dir_.Sub("list.csv");
  std::ofstream(file) << "email,state,reason,state_since\n"
                         "good1@example.com,suppressed,crm,2024-01-02\n"
                         "not-an-address,suppressed,crm,\n"
                         "good2@example.com,bogus-state,crm,\n"
                         "\"good3@example.com\",suppressed,\"multi\nline\",1700000000\n"
                         "good1@example.com,suppressed,crm,2023-01-01\n";
  CommandResult r = Run("import --format csv " + file);
  EXPECT_EQ(r.status, kExitError) << r.output;
  EXPECT_NE(r.output.find(file + ":3: address 'not-an-address'"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find(file + ":4: unknown state 'bogus-state'"), std::string::npos) << r.output;
  EXPECT_EQ(Run("check -q good1@example.com good3@example.com").status, kExitFound);
  EXPECT_EQ(Run("check -q good2@example.com").status, kExitNotFound);
  CommandResult show = Run("show --json good1@example.com");
  EXPECT_NE(show.output.find("2023-01-01"), std::string::npos) << show.output;  // merged: earliest

  const std::string jsonl = dir_.Sub("list.jsonl");
  std::ofstream(jsonl) << "{\"address\":\"j@example.com\",\"state\":\"suppressed\"}\n{broken\n";
  r = Run("import --format jsonl " + jsonl);
  EXPECT_EQ(r.status, kExitError);
  EXPECT_NE(r.output.find(jsonl + ":2:"), std::string::npos) << r.output;
  EXPECT_EQ(Run("check -q j@example.com").status, kExitFound);
}

// Like ingest: the summary on standard output, the bad rows on standard error.
TEST_F(BouncectlStoreTest, ImportPrintsItsSummaryOnStandardOutput) {
  const std::string file = dir_.Sub("list.csv");
  std::ofstream(file) << "address\ngood@example.com\nnot-an-address\n";
  CommandResult out = RunBouncectl("import --format csv " + file + " " + Db(), /*with_stderr=*/false);
  EXPECT_EQ(out.status, kExitError);
  EXPECT_EQ(out.output, "1 row(s) imported, 1 bad row(s) skipped\n");
  CommandResult both = Run("import --format csv " + file);  // the bad row was on standard error
  EXPECT_NE(both.output.find(file + ":3: address 'not-an-address'"), std::string::npos) << both.output;
}

// Each line of a command's standard output as a JSON value.
std::vector<nlohmann::json> JsonLines(const std::string& output) {
  std::vector<nlohmann::json> out;
  std::istringstream in(output);
  for (std::string line; std::getline(in, line);) out.push_back(nlohmann::json::parse(line));
  return out;
}

// For CRM integrators who script the import: one object they can read
// instead of the sentence, with the bad rows by line.
TEST_F(BouncectlStoreTest, ImportJsonSummaryCountsNewMergedAndBadRows) {
  ASSERT_EQ(Run("suppress --reason manual known@example.com").status, 0);
  const std::string file = dir_.Sub("list.csv");
  std::ofstream(file) << "address\n"
                         "known@example.com\n"      // merged: in the store
                         "fresh@example.com\n"      // new
                         "not-an-address\n"         // bad, line 4
                         "\n"                       // blank: not a row
                         "FRESH@example.com\n"      // merged: an earlier row
                         "other@example.com\n";     // new
  CommandResult r = RunBouncectl("import --json --format csv " + file + " " + Db(),
                                 /*with_stderr=*/false);
  EXPECT_EQ(r.status, kExitError);
  std::vector<nlohmann::json> lines = JsonLines(r.output);
  ASSERT_EQ(lines.size(), 1u) << r.output;
  const nlohmann::json& j = lines[0];
  EXPECT_EQ(j["rows"], 5);
  EXPECT_EQ(j["imported"], 4);
  EXPECT_EQ(j["new"], 2);
  EXPECT_EQ(j["merged"], 2);
  EXPECT_EQ(j["bad"], 1);
  ASSERT_EQ(j["errors"].size(), 1u) << r.output;
  EXPECT_EQ(j["errors"][0]["line"], 4);
  EXPECT_EQ(j["errors"][0]["message"].get<std::string>().rfind("address 'not-an-address'", 0), 0u)
      << r.output;
  EXPECT_EQ(Run("check -q other@example.com").status, kExitFound);

  // All good and all known now: exit 0, nothing new.
  std::ofstream(file) << "address\nknown@example.com\nother@example.com\n";
  r = RunBouncectl("import --json --format csv " + file + " " + Db(), /*with_stderr=*/false);
  EXPECT_EQ(r.status, kExitOk);
  EXPECT_EQ(r.output,
            "{\"rows\":2,\"imported\":2,\"new\":0,\"merged\":2,\"bad\":0,\"errors\":[]}\n");
}

// A script that unblocks or suppresses a list reads one outcome per address,
// errors included (they also go to standard error).
TEST_F(BouncectlStoreTest, UnblockAndSuppressJsonGiveOneOutcomePerAddress) {
  auto json = [&](const std::string& args, int status) {
    CommandResult r = RunBouncectl(args + " --json " + Db(), /*with_stderr=*/false);
    EXPECT_EQ(r.status, status) << args << ": " << r.output;
    return JsonLines(r.output);
  };
  std::vector<nlohmann::json> out =
      json("suppress --reason manual a@example.com not-an-address", kExitError);
  ASSERT_EQ(out.size(), 2u);
  EXPECT_EQ(out[0], nlohmann::json::parse(R"({"address":"a@example.com","outcome":"suppressed","until":""})"));
  EXPECT_EQ(out[1]["address"], "not-an-address");
  EXPECT_EQ(out[1]["outcome"], "error");
  EXPECT_FALSE(out[1]["error"].get<std::string>().empty());
  out = json("suppress --reason pause --days 2 t@example.com", kExitOk);
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0]["outcome"], "suppressed");
  EXPECT_EQ(out[0]["until"].get<std::string>().size(), std::string("2026-11-22T21:04:05Z").size());

  out = json("unblock a@example.com t@example.com nobody@example.com", kExitError);
  ASSERT_EQ(out.size(), 3u);
  EXPECT_EQ(out[0], nlohmann::json::parse(R"({"address":"a@example.com","outcome":"needs-force"})"));
  EXPECT_EQ(out[1], nlohmann::json::parse(R"({"address":"t@example.com","outcome":"unblocked"})"));
  EXPECT_EQ(out[2], nlohmann::json::parse(R"({"address":"nobody@example.com","outcome":"not-suppressed"})"));

  out = json("suppress --reason policy --domain example.net", kExitOk);
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0], nlohmann::json::parse(R"({"domain":"example.net","outcome":"suppressed"})"));
  out = json("unblock --domain example.net", kExitOk);
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0], nlohmann::json::parse(R"({"domain":"example.net","outcome":"lifted"})"));
  out = json("unblock --domain example.net", kExitOk);
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0]["outcome"], "not-suppressed");
}

// The export's machine-readable form is --format jsonl: --json is refused
// rather than ignored.
TEST_F(BouncectlStoreTest, ExportRefusesJson) {
  CommandResult r = Run("export --format csv --json");
  EXPECT_EQ(r.status, kExitUsage);
  EXPECT_EQ(r.output,
            "bouncectl export: --json is not an export option; use --format jsonl; see bouncectl "
            "export --help\n");
}

TEST_F(BouncectlStoreTest, ExportSinceCursorGivesOnlyNewChanges) {
  ASSERT_EQ(Run("suppress --reason manual a@example.com b@example.com").status, 0);
  const std::string out = dir_.Sub("out.jsonl");
  CommandResult first = Run("export --format jsonl --output " + out);
  ASSERT_EQ(first.status, 0);
  EXPECT_NE(ReadAll(out).find("b@example.com"), std::string::npos);
  const std::size_t at = first.output.find("cursor=");
  ASSERT_NE(at, std::string::npos);
  const std::string cursor = first.output.substr(at + 7, first.output.find('\n', at) - at - 7);
  ASSERT_EQ(Run("suppress --reason manual c@example.com").status, 0);
  CommandResult second = Run("export --format jsonl --since " + cursor + " --output " + out);
  ASSERT_EQ(second.status, 0) << second.output;
  const std::string rows = ReadAll(out);
  EXPECT_NE(rows.find("c@example.com"), std::string::npos);
  EXPECT_EQ(rows.find("a@example.com"), std::string::npos) << rows;
  CommandResult xml = Run("export --format xml");
  EXPECT_EQ(xml.status, kExitUsage);
  EXPECT_EQ(xml.output,
            "bouncectl export: unknown format 'xml' (csv or jsonl); see bouncectl export --help\n");
}

TEST_F(BouncectlStoreTest, IngestReadsMboxAndMaildir) {
  const std::string emails = CorpusDir() + "/emails/";
  const std::string a = ReadAll(emails + "lhost-postfix-01.eml");
  const std::string b = ReadAll(emails + "lhost-postfix-02.eml");
  ASSERT_FALSE(a.empty());
  const std::string mbox = dir_.Sub("bounces.mbox");
  std::ofstream(mbox) << "From MAILER-DAEMON Thu Jan  1 00:00:00 2024\n" << a << "\n"
                      << "From MAILER-DAEMON Thu Jan  1 00:00:01 2024\n" << b << "\n";
  CommandResult r = Run("ingest --json " + mbox);
  EXPECT_EQ(r.status, 0) << r.output;
  EXPECT_NE(r.output.find("\"messages\":2"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("\"bounces\":2"), std::string::npos) << r.output;

  const fs::path maildir = dir_.Sub("Maildir");
  fs::create_directories(maildir / "cur");
  fs::create_directories(maildir / "new");
  fs::create_directories(maildir / "tmp");
  fs::copy_file(emails + "lhost-exim-01.eml", maildir / "new" / "1.host");
  fs::copy_file(emails + "lhost-qmail-01.eml", maildir / "cur" / "2.host:2,S");
  r = Run("ingest --json " + maildir.string());
  EXPECT_EQ(r.status, 0) << r.output;
  EXPECT_NE(r.output.find("\"messages\":2"), std::string::npos) << r.output;
  EXPECT_EQ(Run("ingest /nonexistent/path").status, kExitError);
}

TEST_F(BouncectlStoreTest, TemporaryManualSuppressionAndListFilters) {
  ASSERT_EQ(Run("suppress --reason pause --days 2 t@example.com").status, 0);
  ASSERT_EQ(Run("suppress --reason manual p1@example.com p2@example.com").status, 0);
  CommandResult r = Run("list --state suppressed-temporary");
  EXPECT_EQ(r.status, 0);
  EXPECT_NE(r.output.find("t@example.com"), std::string::npos) << r.output;
  EXPECT_EQ(r.output.find("p1@example.com"), std::string::npos) << r.output;
  r = Run("list --limit 1 --state suppressed");
  EXPECT_EQ(r.output.find("p2@example.com"), std::string::npos) << r.output;
  EXPECT_EQ(Run("list --limit -1").status, kExitUsage);
  EXPECT_EQ(Run("suppress --reason x --days 0 a@example.com").status, kExitUsage);
  EXPECT_EQ(Run("unblock t@example.com").status, kExitOk);  // temporary: no --force needed
  EXPECT_EQ(Run("expire").status, kExitOk);
  EXPECT_EQ(Run("stats --json").status, kExitOk);
}

// One transient bounce (4.2.2 mailbox full) for kim@example.org.
constexpr const char* kSoftBounce =
    "From: MAILER-DAEMON@mx.example.net\n"
    "To: sender@example.com\n"
    "Subject: Undelivered Mail\n"
    "MIME-Version: 1.0\n"
    "Content-Type: multipart/report; report-type=delivery-status; boundary=\"B\"\n"
    "\n"
    "--B\n"
    "Content-Type: text/plain\n"
    "\n"
    "Mailbox full.\n"
    "--B\n"
    "Content-Type: message/delivery-status\n"
    "\n"
    "Reporting-MTA: dns; mx.example.net\n"
    "\n"
    "Final-Recipient: rfc822; kim@example.org\n"
    "Action: failed\n"
    "Status: 4.2.2\n"
    "Diagnostic-Code: smtp; 452 4.2.2 Mailbox full\n"
    "--B--\n";

TEST_F(BouncectlStoreTest, StorePathAndPolicyComeFromTheDaemonsConfigFile) {
  const std::string message = dir_.Sub("soft.eml");
  std::ofstream(message) << kSoftBounce;
  const std::string conf = dir_.Sub("bounce-milter.conf");
  std::ofstream(conf) << "StorePath " << dir_.Sub("from-conf") << "\nSoftBounceThreshold 1\n";

  // The file's StorePath (no --db) and its threshold of 1: one soft bounce suppresses.
  CommandResult r = RunBouncectl("ingest --config " + conf + " " + message);
  ASSERT_EQ(r.status, kExitOk) << r.output;
  r = RunBouncectl("check --config " + conf + " kim@example.org");
  EXPECT_EQ(r.status, kExitFound) << r.output;
  EXPECT_NE(r.output.find("suppressed-temporary"), std::string::npos) << r.output;

  // The built-in policy (threshold 3) in the --db store: counted, not suppressed.
  ASSERT_EQ(Run("ingest --config /dev/null " + message).status, kExitOk);
  EXPECT_EQ(Run("check --config /dev/null kim@example.org").status, kExitNotFound);
  // --db wins over StorePath.
  EXPECT_EQ(Run("check --config " + conf + " kim@example.org").status, kExitNotFound);

  const std::string bad = dir_.Sub("bad.conf");
  std::ofstream(bad) << "# policy\nSoftBounceThreshold 0\n";
  r = Run("ingest --config " + bad + " " + message);
  EXPECT_EQ(r.status, kExitError);
  EXPECT_NE(r.output.find(bad + ":2: SoftBounceThreshold: 0 is out of range"), std::string::npos)
      << r.output;
  EXPECT_EQ(Run("expire --config " + dir_.Sub("missing.conf")).status, kExitError);
}

// show --json always has "domain": null when the address's domain has no
// entry, else the very object list --domains --json prints for it.
TEST_F(BouncectlStoreTest, ShowJsonDomainIsNullOrTheListDomainsObject) {
  ASSERT_EQ(Run("suppress --reason manual a@example.com").status, 0);
  CommandResult none = RunBouncectl("show --json a@nowhere.example " + Db(), false);
  EXPECT_EQ(none.status, kExitNotFound);
  nlohmann::json j = nlohmann::json::parse(none.output);
  ASSERT_TRUE(j.contains("domain")) << none.output;
  EXPECT_TRUE(j["domain"].is_null()) << none.output;

  ASSERT_EQ(Run("suppress --reason policy --domain example.com").status, 0);
  CommandResult show = RunBouncectl("show --json a@example.com " + Db(), false);
  ASSERT_EQ(show.status, kExitOk) << show.output;
  CommandResult list = RunBouncectl("list --domains --json " + Db(), false);
  ASSERT_EQ(list.status, kExitOk) << list.output;
  const nlohmann::json domain = nlohmann::json::parse(show.output)["domain"];
  EXPECT_EQ(domain, nlohmann::json::parse(list.output)) << show.output << list.output;
  EXPECT_EQ(domain["source"], "manual");
  EXPECT_TRUE(domain["sender_blamed_by_reason"].is_object());
}

// The text forms: no empty "since" in show, and "-" for an empty field of
// list so that the columns stay countable.
TEST_F(BouncectlStoreTest, TextFormsHaveNoEmptyFields) {
  const std::string message = dir_.Sub("soft.eml");
  std::ofstream(message) << kSoftBounce;
  ASSERT_EQ(Run("ingest --config /dev/null " + message).status, kExitOk);
  CommandResult show = Run("show --config /dev/null kim@example.org");
  EXPECT_NE(show.output.find("  state        active (bounce)\n"), std::string::npos) << show.output;
  EXPECT_NE(show.output.find(", 0 complaints; first "), std::string::npos) << show.output;
  EXPECT_NE(show.output.find("0 sent, 0 sender-blamed bounces, 0 hostunknown addresses"),
            std::string::npos)
      << show.output;
  CommandResult list = Run("list --config /dev/null");
  std::istringstream fields(list.output);
  std::vector<std::string> words{std::istream_iterator<std::string>(fields), {}};
  EXPECT_EQ(words, (std::vector<std::string>{"kim@example.org", "active", "mailboxfull", "bounce", "-"}))
      << list.output;
}

// Every store command states where its store and configuration come from
// in the same words.
TEST(BouncectlCommandLineTest, EveryStoreCommandsHelpStatesTheStoreResolution) {
  for (const char* command : {"ingest", "check", "show", "list", "unblock", "suppress", "expire",
                              "export", "import", "stats", "verify-store"}) {
    const std::string help = RunBouncectl(std::string(command) + " --help").output;
    EXPECT_NE(help.find("(default: $BOUNCECTL_DB, else StorePath of\n"), std::string::npos)
        << command << ":\n" << help;
    EXPECT_EQ(help.find("store directory"), help.rfind("store directory"))
        << command << ": a second --db text\n" << help;
  }
}

// The daemon refuses a configuration whose RulesFile does not load (exit 78
// of bounce-milter -n); so does every store command, not only ingest, which
// uses the rules.
TEST_F(BouncectlStoreTest, AConfigWithABrokenRulesFileIsRefusedByEveryStoreCommand) {
  ASSERT_EQ(Run("suppress --reason manual gone@example.com").status, 0);
  const std::string rules = dir_.Sub("bad.rules");
  std::ofstream(rules) << "rule x\n  bogus here\n";
  const std::string conf = dir_.Sub("bad-rules.conf");
  std::ofstream(conf) << "RulesFile " << rules << "\n";
  for (const char* command : {"check gone@example.com", "show gone@example.com", "list", "stats",
                              "verify-store", "export --format csv", "expire",
                              "unblock --force gone@example.com", "ingest --rules /dev/null -"}) {
    CommandResult r = Run(std::string(command) + " --config " + conf + " </dev/null");
    EXPECT_EQ(r.status, kExitError) << command << ": " << r.output;
    EXPECT_NE(r.output.find(rules + ":2: unknown field 'bogus'"), std::string::npos)
        << command << ": " << r.output;
  }
  EXPECT_EQ(Run("check -q gone@example.com --config /dev/null").status, kExitFound);
}

TEST_F(BouncectlStoreTest, ReadCommandsOnAMissingStoreFailCleanly) {
  CommandResult r = Run("list");
  EXPECT_EQ(r.status, kExitError);
  EXPECT_NE(r.output.find("bouncectl list:"), std::string::npos) << r.output;
  r = Run("stats --bogus");
  EXPECT_EQ(r.status, kExitUsage);
  EXPECT_EQ(r.output, "bouncectl stats: unknown option --bogus; see bouncectl stats --help\n");
}

// A store left by schema 2 programs is read as it is by the read commands
// and upgraded by the first writing one, which says so on standard error
// only; any other schema is refused (docs/store.md, UPGRADING).
TEST_F(BouncectlStoreTest, Schema2StoreIsReadAsItIsAndUpgradedByTheFirstWrite) {
  ASSERT_EQ(Run("suppress --reason manual gone@example.com").status, 0);
  const std::string path = dir_.Sub("db");
  auto schema = [&](const char* set) {
    lmdb::Env env;
    EXPECT_TRUE(env.Open(path, std::size_t{64} << 20, 16, 16, /*read_only=*/false).ok());
    lmdb::Txn txn;
    EXPECT_EQ(lmdb::Txn::Begin(env, false, &txn), 0);
    MDB_dbi meta;
    EXPECT_EQ(lmdb::OpenDbi(txn, "meta", false, &meta), 0);
    if (set != nullptr) {
      EXPECT_EQ(txn.Put(meta, "schema", set), 0);
    }
    std::string_view value;
    EXPECT_EQ(txn.Get(meta, "schema", &value), 0);
    std::string now(value);
    EXPECT_EQ(txn.Commit(), 0);
    return now;
  };

  schema("2");
  EXPECT_EQ(Run("check -q gone@example.com").status, kExitFound);
  EXPECT_EQ(Run("verify-store").status, kExitOk);
  EXPECT_EQ(schema(nullptr), "2");
  CommandResult expire = RunBouncectl("expire --json " + Db(), /*with_stderr=*/false);
  EXPECT_EQ(expire.status, kExitOk);
  EXPECT_EQ(expire.output, "{\"lifted\":0}\n");
  EXPECT_EQ(schema(nullptr), "3");
  schema("2");
  expire = Run("expire");
  EXPECT_NE(expire.output.find("upgraded from schema 2 to 3"), std::string::npos) << expire.output;
  EXPECT_EQ(Run("check -q gone@example.com").status, kExitFound);

  schema("9");
  for (const char* command : {"stats", "expire"}) {
    CommandResult refused = Run(command);
    EXPECT_EQ(refused.status, kExitError);
    EXPECT_NE(refused.output.find(std::string("bouncectl ") + command + ": corruption: store " +
                                  path + " has schema '9', this program reads schema '3'"),
              std::string::npos)
        << refused.output;
  }
  EXPECT_EQ(schema(nullptr), "9");
}

// Every command takes --help (0, on standard output) and reports a bad
// option in the same words, whichever parser path it takes.
TEST(BouncectlCommandLineTest, EveryCommandHasHelpAndOneErrorStyle) {
  for (const char* command : {"parse", "rules", "keys", "verify", "ingest", "check", "show", "list",
                              "unblock", "suppress", "expire", "export", "import", "stats",
                              "verify-store"}) {
    CommandResult help = RunBouncectl(std::string(command) + " --help");
    EXPECT_EQ(help.status, kExitOk) << command;
    EXPECT_NE(help.output.find(std::string("Usage: bouncectl ") + command), std::string::npos)
        << command;
    CommandResult bad = RunBouncectl(std::string(command) + " --no-such-option");
    EXPECT_EQ(bad.status, kExitUsage) << command;
    EXPECT_EQ(bad.output, std::string("bouncectl ") + command +
                              ": unknown option --no-such-option; see bouncectl " + command +
                              " --help\n");
  }
}

}  // namespace
}  // namespace bm::cli
