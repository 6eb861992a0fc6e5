// The schema version of the store over a real LMDB file: a schema 2 store
// is upgraded to 3 by an open with write access (data untouched, domain
// generation bumped) and read as it is by a read-only open; any other schema
// is refused and left as it was (docs/store.md, UPGRADING).
#include <sys/wait.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "common/test_child.h"
#include "store/codec.h"
#include "store/domain_cache.h"
#include "store/lmdb.h"
#include "store/store.h"
#include "store/store_test_util.h"

namespace bm {
namespace {

constexpr std::int64_t kT0 = 1700000000;
constexpr std::int64_t kDay = 86400;

Result<std::unique_ptr<Store>> OpenStore(const std::string& path, bool read_only) {
  StoreOptions options;
  options.path = path;
  options.read_only = read_only;
  options.expire_interval_s = 0;
  return Store::Open(options);
}

LookupResult Look(const Store& store, std::string_view address) {
  Result<LookupResult> r = store.Lookup(address, kT0 + 10);
  EXPECT_TRUE(r.ok()) << r.status().ToString();
  return r.ok() ? *r : LookupResult{};
}

// Every named database of the environment, entry by entry.
using Dump = std::map<std::string, std::vector<std::pair<std::string, std::string>>>;

Dump DumpStore(const std::string& path) {
  Dump out;
  lmdb::Env env;
  EXPECT_TRUE(env.Open(path, std::size_t{64} << 20, 16, 16, /*read_only=*/true).ok());
  lmdb::Txn txn;
  EXPECT_EQ(lmdb::Txn::Begin(env, true, &txn), 0);
  MDB_dbi main;
  EXPECT_EQ(lmdb::OpenDbi(txn, nullptr, false, &main), 0);
  std::vector<std::string> names;
  {
    lmdb::Cursor cursor;
    EXPECT_EQ(lmdb::Cursor::Open(txn, main, &cursor), 0);
    std::string_view key, value;
    for (int rc = cursor.First(&key, &value); rc == 0; rc = cursor.Next(&key, &value)) {
      names.emplace_back(key);
    }
  }
  for (const std::string& name : names) {
    MDB_dbi dbi;
    EXPECT_EQ(lmdb::OpenDbi(txn, name.c_str(), false, &dbi), 0) << name;
    lmdb::Cursor cursor;
    EXPECT_EQ(lmdb::Cursor::Open(txn, dbi, &cursor), 0);
    auto& entries = out[name];
    std::string_view key, value;
    for (int rc = cursor.First(&key, &value); rc == 0; rc = cursor.Next(&key, &value)) {
      entries.emplace_back(key, value);
    }
  }
  return out;
}

std::optional<std::string> MetaValue(const Dump& dump, std::string_view key) {
  auto meta = dump.find("meta");
  if (meta == dump.end()) return std::nullopt;
  for (const auto& [k, v] : meta->second) {
    if (k == key) return v;
  }
  return std::nullopt;
}

// Dump without the meta keys an upgrade may change.
Dump WithoutVersionKeys(Dump dump) {
  std::erase_if(dump["meta"], [](const auto& entry) {
    return entry.first == "schema" || entry.first == kDomainGenKey;
  });
  return dump;
}

// Runs fn(txn, dbis by name) in a write transaction of its own environment,
// as another program would.
void RawWrite(const std::string& path,
              const std::function<void(lmdb::Txn&, MDB_dbi meta, MDB_dbi domains)>& fn) {
  lmdb::Env env;
  ASSERT_TRUE(env.Open(path, std::size_t{64} << 20, 16, 16, /*read_only=*/false).ok());
  lmdb::Txn txn;
  ASSERT_EQ(lmdb::Txn::Begin(env, false, &txn), 0);
  MDB_dbi meta, domains;
  ASSERT_EQ(lmdb::OpenDbi(txn, "meta", false, &meta), 0);
  ASSERT_EQ(lmdb::OpenDbi(txn, "domains", false, &domains), 0);
  fn(txn, meta, domains);
  ASSERT_EQ(txn.Commit(), 0);
}

// Turns the store into one a schema 2 program left: the schema key set the
// old way, and the domain generation as given (nullopt: written before the
// generation existed, no key).
void MakeSchema(const std::string& path, std::string_view schema,
                std::optional<DomainGeneration> generation) {
  RawWrite(path, [&](lmdb::Txn& txn, MDB_dbi meta, MDB_dbi) {
    ASSERT_EQ(txn.Put(meta, "schema", schema), 0);
    if (generation) {
      ASSERT_EQ(txn.Put(meta, kDomainGenKey, EncodeDomainGeneration(*generation)), 0);
    } else {
      ASSERT_EQ(txn.Del(meta, kDomainGenKey), 0);
    }
  });
}

// Runs fn in a child process (a program of its own) and expects it to succeed.
// fn runs LMDB after fork(): safe because the stores of these tests are
// read-only when it is called, so this process has no other thread
// (common/test_child.h).
void InChildProcess(const std::function<bool()>& fn) {
  ASSERT_EQ(ThreadCount(), 1u);
  pid_t pid = fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) _exit(fn() ? 0 : 3);
  int status = 0;
  ASSERT_EQ(waitpid(pid, &status, 0), pid);
  ASSERT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << "child status " << status;
}

class StoreSchemaTest : public ::testing::Test {
 protected:
  // A store with a little of everything: records of two domains, a
  // suppressed domain, a temporary suppression, events, a ledger entry.
  void SetUp() override {
    Result<std::unique_ptr<Store>> s = OpenStore(path_, /*read_only=*/false);
    ASSERT_TRUE(s.ok()) << s.status().ToString();
    Store& store = **s;
    ASSERT_TRUE(store.Record({Bounce("gone@x.example", "userunknown", true, kT0)}).ok());
    for (int i = 0; i < 3; ++i) {
      ASSERT_TRUE(store.Record({Bounce("full@y.example", "mailboxfull", false, kT0 + i)}).ok());
    }
    ASSERT_TRUE(store.SuppressDomain("z.example", "notaccept", "admin", kT0).ok());
    store.RecordSent("<id@ours.example>", {"a@x.example"}, 30 * kDay, kT0);
    ASSERT_TRUE(store.Flush().ok());
  }

  void ExpectTheDataReads(const Store& store) {
    EXPECT_TRUE(Look(store, "gone@x.example").suppressed);
    LookupResult full = Look(store, "full@y.example");
    EXPECT_TRUE(full.suppressed && full.temporary);
    EXPECT_FALSE(Look(store, "other@y.example").suppressed);
    EXPECT_TRUE(Look(store, "any@z.example").domain_level);
    Result<VerifyReport> v = store.Verify();
    ASSERT_TRUE(v.ok()) << v.status().ToString();
    for (const std::string& p : v->problems) ADD_FAILURE() << p;
    EXPECT_EQ(v->addresses, 2u);
  }

  TempDir dir_;
  const std::string path_ = dir_.Sub("db");
};

TEST_F(StoreSchemaTest, NewStoreHasSchema3) {
  EXPECT_EQ(MetaValue(DumpStore(path_), "schema"), "3");
}

TEST_F(StoreSchemaTest, WritableOpenUpgradesASchema2StoreAndKeepsItsData) {
  const struct {
    const char* what;
    std::optional<DomainGeneration> before;
    DomainGeneration after;
  } cases[] = {
      {"written with the domain generation", DomainGeneration{5, 7}, DomainGeneration{6, 8}},
      {"written before the domain generation", std::nullopt, DomainGeneration{1, 1}},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.what);
    MakeSchema(path_, "2", c.before);
    const Dump before = DumpStore(path_);
    {
      Result<std::unique_ptr<Store>> s = OpenStore(path_, /*read_only=*/false);
      ASSERT_TRUE(s.ok()) << s.status().ToString();
      ExpectTheDataReads(**s);
    }
    const Dump after = DumpStore(path_);
    EXPECT_EQ(MetaValue(after, "schema"), "3");
    EXPECT_EQ(MetaValue(after, kDomainGenKey), EncodeDomainGeneration(c.after));
    EXPECT_EQ(WithoutVersionKeys(after), WithoutVersionKeys(before));

    // Upgraded once: the next open changes nothing.
    {
      Result<std::unique_ptr<Store>> s = OpenStore(path_, /*read_only=*/false);
      ASSERT_TRUE(s.ok()) << s.status().ToString();
    }
    EXPECT_EQ(DumpStore(path_), after);
  }
}

TEST_F(StoreSchemaTest, ReadOnlyOpenReadsASchema2StoreAsItIs) {
  MakeSchema(path_, "2", DomainGeneration{5, 7});
  const Dump before = DumpStore(path_);
  {
    Result<std::unique_ptr<Store>> s = OpenStore(path_, /*read_only=*/true);
    ASSERT_TRUE(s.ok()) << s.status().ToString();
    ExpectTheDataReads(**s);
    EXPECT_TRUE((*s)->Stats(kT0).ok());
  }
  EXPECT_EQ(DumpStore(path_), before);  // still schema 2: only a writer upgrades
}

// The case the upgrade exists for: a program that does not bump the domain
// generation (schema 2) suppresses a domain while a current program that
// opened the store read-only has the domain in its cache. The upgrade bumps
// the generation, so the reader's next lookup sees the suppression.
TEST_F(StoreSchemaTest, UpgradeRevalidatesTheCacheOfAReaderOpenedBefore) {
  MakeSchema(path_, "2", DomainGeneration{5, 7});
  Result<std::unique_ptr<Store>> reader = OpenStore(path_, /*read_only=*/true);
  ASSERT_TRUE(reader.ok()) << reader.status().ToString();
  EXPECT_FALSE(Look(**reader, "other@x.example").suppressed);  // x.example now cached

  InChildProcess([&] {  // a schema 2 writer: flips the flag, bumps nothing
    bool ok = false;
    RawWrite(path_, [&](lmdb::Txn& txn, MDB_dbi, MDB_dbi domains) {
      std::string_view value;
      DomainRecord d;
      if (txn.Get(domains, "x.example", &value) != 0 ||
          !DecodeDomainRecord("x.example", value, &d).ok()) {
        return;
      }
      d.suppressed = true;
      d.reason = "notaccept";
      d.source = RecordSource::kManual;
      d.since = kT0;
      ok = txn.Put(domains, "x.example", EncodeDomainRecord(d)) == 0;
    });
    return ok;
  });
  EXPECT_FALSE(Look(**reader, "other@x.example").suppressed) << "the cache was not stale";

  InChildProcess([&] { return OpenStore(path_, /*read_only=*/false).ok(); });
  LookupResult r = Look(**reader, "other@x.example");
  EXPECT_TRUE(r.suppressed && r.domain_level);
  EXPECT_EQ(r.reason, "notaccept");
  reader->reset();  // before this process opens the environment a second time
  EXPECT_EQ(MetaValue(DumpStore(path_), "schema"), "3");
}

TEST_F(StoreSchemaTest, OtherSchemasAreRefusedUntouched) {
  for (const char* schema : {"1", "9", ""}) {
    MakeSchema(path_, schema, DomainGeneration{5, 7});
    const Dump before = DumpStore(path_);
    for (const bool read_only : {false, true}) {
      SCOPED_TRACE(std::string("schema '") + schema + (read_only ? "', read-only" : "'"));
      Result<std::unique_ptr<Store>> s = OpenStore(path_, read_only);
      ASSERT_FALSE(s.ok());
      EXPECT_EQ(s.status().code(), Status::Code::kCorruption);
      const std::string message = s.status().message();
      EXPECT_NE(message.find(std::string("has schema '") + schema + "'"), std::string::npos)
          << message;
      EXPECT_NE(message.find("reads schema '3' (and upgrades schema '2')"), std::string::npos)
          << message;
      EXPECT_EQ(DumpStore(path_), before);
    }
  }
}

}  // namespace
}  // namespace bm
