// Store over a real LMDB file in a temporary directory.
#include "store/store.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <set>
#include <thread>

#include "common/test_log_capture.h"
#include "store/lmdb.h"
#include "store/store_test_util.h"

namespace bm {
namespace {

constexpr std::int64_t kDay = 86400;
constexpr std::int64_t kT0 = 1700000000;

class StoreTest : public ::testing::Test {
 protected:
  void SetUp() override { Reopen(); }
  void Reopen(StoreOptions options = {}) {
    store_.reset();
    options.path = dir_.Sub("db");
    options.expire_interval_s = 0;
    Result<std::unique_ptr<Store>> s = Store::Open(options);
    ASSERT_TRUE(s.ok()) << s.status().ToString();
    store_ = std::move(*s);
  }
  LookupResult Look(std::string_view a, std::int64_t now = kT0 + 10) {
    Result<LookupResult> r = store_->Lookup(a, now);
    EXPECT_TRUE(r.ok()) << r.status().ToString();
    return r.ok() ? *r : LookupResult{};
  }
  void Rec(std::vector<BounceEvent> evs) {
    Status s = store_->Record(std::move(evs));
    ASSERT_TRUE(s.ok()) << s.ToString();
  }
  // Closes the store and overwrites the value under `key` in the named
  // database (the first entry when key is empty) with bytes no decoder
  // accepts, as a disk fault would. Reopen() afterwards.
  void Damage(const char* database, std::string key) {
    store_.reset();  // one process may not open an environment twice
    lmdb::Env env;
    ASSERT_TRUE(env.Open(dir_.Sub("db"), std::size_t{64} << 20, 16, 16, false).ok());
    lmdb::Txn txn;
    ASSERT_EQ(lmdb::Txn::Begin(env, false, &txn), 0);
    MDB_dbi dbi;
    ASSERT_EQ(lmdb::OpenDbi(txn, database, false, &dbi), 0);
    if (key.empty()) {
      lmdb::Cursor cursor;
      ASSERT_EQ(lmdb::Cursor::Open(txn, dbi, &cursor), 0);
      std::string_view k, v;
      ASSERT_EQ(cursor.First(&k, &v), 0);
      key.assign(k);
    }
    ASSERT_EQ(txn.Put(dbi, key, std::string("\x02\xff\xff", 3)), 0);
    ASSERT_EQ(txn.Commit(), 0);
  }
  // Options under which only Flush and the requests commit the counters and
  // the ledger, never the periodic flush.
  static StoreOptions NoPeriodicFlush() {
    StoreOptions o;
    o.flush_interval_ms = 600'000;
    return o;
  }
  bool InLedger(std::string_view message_id) {
    Result<std::optional<std::vector<std::string>>> sent = store_->LookupSent(message_id, kT0 + 1);
    EXPECT_TRUE(sent.ok()) << sent.status().ToString();
    return sent.ok() && sent->has_value();
  }
  std::uint64_t SentTo(std::string_view domain) {
    Result<std::optional<DomainRecord>> d = store_->GetDomain(domain);
    EXPECT_TRUE(d.ok()) << d.status().ToString();
    return d.ok() && d->has_value() ? (*d)->sent : 0;
  }
  void ExpectConsistent() {
    Result<VerifyReport> v = store_->Verify();
    ASSERT_TRUE(v.ok()) << v.status().ToString();
    for (const std::string& p : v->problems) ADD_FAILURE() << p;
  }

  TempDir dir_;
  std::unique_ptr<Store> store_;
};

TEST_F(StoreTest, UnknownAddressIsNotSuppressed) {
  LookupResult r = Look("nobody@example.com");
  EXPECT_FALSE(r.suppressed);
  EXPECT_FALSE(r.known);
  EXPECT_FALSE(store_->Lookup("not an address", kT0).ok());
}

TEST_F(StoreTest, HardBounceSuppressesAndLookupNormalises) {
  Rec({Bounce("User@Example.COM", "userunknown", true, kT0)});
  LookupResult r = Look("user@example.com");
  EXPECT_TRUE(r.suppressed);
  EXPECT_FALSE(r.temporary);
  EXPECT_EQ(r.reason, "userunknown");
  EXPECT_EQ(r.since, kT0);
  EXPECT_TRUE(Look("<USER@example.com>").suppressed);
  ExpectConsistent();
}

TEST_F(StoreTest, CaseSensitiveLocalPartsWhenConfigured) {
  StoreOptions o;
  o.normalization.fold_local_part_case = false;
  Reopen(o);
  Rec({Bounce("User@Example.COM", "userunknown", true, kT0)});
  EXPECT_TRUE(Look("User@example.com").suppressed);
  EXPECT_FALSE(Look("user@example.com").suppressed);
}

TEST_F(StoreTest, SoftThresholdSuppressesTemporarilyAndExpiryLiftsIt) {
  for (int i = 0; i < 3; ++i) Rec({Bounce("full@example.com", "mailboxfull", false, kT0 + i * kDay)});
  const std::int64_t until = kT0 + 2 * kDay + 14 * kDay;
  LookupResult r = Look("full@example.com", kT0 + 3 * kDay);
  EXPECT_TRUE(r.suppressed);
  EXPECT_TRUE(r.temporary);
  EXPECT_EQ(r.until, until);
  // Past `until` the lookup says not suppressed even before expiry ran.
  EXPECT_FALSE(Look("full@example.com", until).suppressed);
  ExpectConsistent();

  Result<std::uint64_t> lifted = store_->ExpireNow(until - 1);
  ASSERT_TRUE(lifted.ok());
  EXPECT_EQ(*lifted, 0u);
  lifted = store_->ExpireNow(until);
  ASSERT_TRUE(lifted.ok());
  EXPECT_EQ(*lifted, 1u);
  Result<std::optional<AddressRecord>> rec = store_->GetRecord("full@example.com");
  ASSERT_TRUE(rec.ok() && rec->has_value());
  EXPECT_EQ((*rec)->state, AddressState::kActive);
  EXPECT_EQ((*rec)->soft_count, 3u);
  ExpectConsistent();

  Result<std::vector<StoredEvent>> history = store_->History("full@example.com", 10);
  ASSERT_TRUE(history.ok());
  ASSERT_EQ(history->size(), 4u);
  EXPECT_EQ((*history)[0].type, EventType::kExpiry);
  EXPECT_EQ((*history)[1].new_state, AddressState::kSuppressedTemporary);
}

TEST_F(StoreTest, ComplaintSuppresses) {
  BounceEvent ev = Bounce("reader@example.com", "", false, kT0);
  ev.type = EventType::kComplaint;
  Rec({ev});
  LookupResult r = Look("reader@example.com");
  EXPECT_TRUE(r.suppressed);
  EXPECT_EQ(r.source, RecordSource::kComplaint);
  EXPECT_EQ(r.reason, "feedback");
}

TEST_F(StoreTest, UnblockOfPermanentNeedsForce) {
  Rec({Bounce("gone@example.com", "userunknown", true, kT0)});
  Result<UnblockOutcome> u = store_->Unblock("gone@example.com", false, "test", kT0 + 1);
  ASSERT_TRUE(u.ok());
  EXPECT_EQ(*u, UnblockOutcome::kNeedsForce);
  EXPECT_TRUE(Look("gone@example.com").suppressed);
  u = store_->Unblock("gone@example.com", true, "test", kT0 + 1);
  ASSERT_TRUE(u.ok());
  EXPECT_EQ(*u, UnblockOutcome::kUnblocked);
  LookupResult r = Look("gone@example.com");
  EXPECT_FALSE(r.suppressed);
  EXPECT_EQ(r.state, AddressState::kUnblocked);
  u = store_->Unblock("gone@example.com", true, "test", kT0 + 2);
  ASSERT_TRUE(u.ok());
  EXPECT_EQ(*u, UnblockOutcome::kNotSuppressed);
  EXPECT_EQ(*store_->Unblock("unknown@example.com", true, "t", kT0), UnblockOutcome::kNotSuppressed);
}

TEST_F(StoreTest, UnblockOfTemporaryNeedsNoForce) {
  for (int i = 0; i < 3; ++i) Rec({Bounce("t@example.com", "mailboxfull", false, kT0 + i)});
  Result<UnblockOutcome> u = store_->Unblock("t@example.com", false, "test", kT0 + 10);
  ASSERT_TRUE(u.ok());
  EXPECT_EQ(*u, UnblockOutcome::kUnblocked);
  EXPECT_FALSE(Look("t@example.com").suppressed);
  ExpectConsistent();  // the expiry entry went with the temporary state
}

TEST_F(StoreTest, SenderBlamedBouncesAreCountedPerDomainNotSuppressed) {
  Rec({Bounce("a@big.example", "blocked", false, kT0), Bounce("b@big.example", "blocked", false, kT0),
       Bounce("c@big.example", "spamdetected", true, kT0)});
  EXPECT_FALSE(Look("a@big.example").suppressed);
  EXPECT_FALSE(Look("c@big.example").suppressed);
  Result<std::optional<DomainRecord>> d = store_->GetDomain("BIG.example");
  ASSERT_TRUE(d.ok() && d->has_value());
  EXPECT_EQ((*d)->sender_blamed, 3u);
  ASSERT_EQ((*d)->sender_blamed_by_reason.size(), 2u);
  EXPECT_EQ((*d)->sender_blamed_by_reason[0], (std::pair<std::string, std::uint64_t>{"blocked", 2}));
  EXPECT_FALSE((*store_->GetRecord("a@big.example")).has_value());
}

TEST_F(StoreTest, VacationChangesNothing) {
  Rec({Bounce("away@example.com", "vacation", false, kT0)});
  EXPECT_FALSE(Look("away@example.com").suppressed);
  EXPECT_FALSE((*store_->GetRecord("away@example.com")).has_value());
}

TEST_F(StoreTest, HostUnknownFromSeveralAddressesSuppressesTheDomain) {
  Rec({Bounce("a@dead.example", "hostunknown", true, kT0)});
  Rec({Bounce("a@dead.example", "hostunknown", true, kT0 + 1)});  // same address: counted once
  Rec({Bounce("b@dead.example", "hostunknown", true, kT0 + 2)});
  EXPECT_FALSE(Look("other@dead.example").suppressed);
  Rec({Bounce("c@dead.example", "hostunknown", true, kT0 + 3)});
  LookupResult r = Look("other@dead.example");
  EXPECT_TRUE(r.suppressed);
  EXPECT_TRUE(r.domain_level);
  EXPECT_EQ(r.reason, "hostunknown");
  Result<bool> lifted = store_->UnblockDomain("dead.example", "test", kT0 + 4);
  ASSERT_TRUE(lifted.ok());
  EXPECT_TRUE(*lifted);
  EXPECT_FALSE(Look("other@dead.example").suppressed);
  EXPECT_TRUE(Look("a@dead.example").suppressed);  // its own record stays
}

TEST_F(StoreTest, AdminDomainEntryAndUnblockedAddressInside) {
  ASSERT_TRUE(store_->SuppressDomain("closed.example", "notaccept", "admin", kT0).ok());
  EXPECT_TRUE(Look("x@closed.example").domain_level);
  ASSERT_TRUE(store_->Suppress("keep@closed.example", "manual", 0, "admin", kT0).ok());
  ASSERT_EQ(*store_->Unblock("keep@closed.example", true, "admin", kT0 + 1), UnblockOutcome::kUnblocked);
  EXPECT_FALSE(Look("keep@closed.example").suppressed);
  std::vector<std::string> domains;
  ASSERT_TRUE(store_->ForEachDomain(true, [&](const DomainRecord& d) {
    domains.push_back(d.domain);
    return true;
  }).ok());
  EXPECT_EQ(domains, std::vector<std::string>{"closed.example"});
}

TEST_F(StoreTest, ManualSuppressionPermanentAndTemporary) {
  ASSERT_TRUE(store_->Suppress("m@example.com", "customer request", 0, "admin", kT0).ok());
  LookupResult r = Look("m@example.com");
  EXPECT_TRUE(r.suppressed);
  EXPECT_EQ(r.source, RecordSource::kManual);
  ASSERT_TRUE(store_->Suppress("t@example.com", "pause", kT0 + kDay, "admin", kT0).ok());
  EXPECT_TRUE(Look("t@example.com").temporary);
  EXPECT_FALSE(store_->Suppress("bad", "x", 0, "admin", kT0).ok());
  EXPECT_FALSE(store_->Suppress("a@b.example", "", 0, "admin", kT0).ok());
  ExpectConsistent();
}

TEST_F(StoreTest, InvalidEventRejectsTheWholeCall) {
  Status s = store_->Record({Bounce("ok@example.com", "userunknown", true, kT0),
                             Bounce("broken", "userunknown", true, kT0)});
  EXPECT_EQ(s.code(), Status::Code::kInvalidArgument);
  EXPECT_FALSE(Look("ok@example.com").suppressed);
}

std::vector<std::string> ExportSince(Store& store, std::uint64_t since, std::uint64_t* cursor) {
  std::vector<std::string> out;
  Result<std::uint64_t> end = store.ForEachChangedSince(since, {}, [&](const AddressRecord& r) {
    out.push_back(r.address);
    return true;
  });
  EXPECT_TRUE(end.ok()) << end.status().ToString();
  *cursor = end.ok() ? *end : 0;
  return out;
}

TEST_F(StoreTest, ExportCursorResumesWithoutGapsOrDuplicates) {
  std::set<std::string> all;
  std::uint64_t cursor = 0;
  std::vector<std::string> seen;
  for (int round = 0; round < 5; ++round) {
    std::vector<BounceEvent> evs;
    for (int i = 0; i < 700; ++i) {
      // Each round touches some addresses of the previous rounds again.
      std::string a = "u" + std::to_string((round * 500 + i) % 2000) + "@example.com";
      all.insert(a);
      evs.push_back(Bounce(a, "userunknown", true, kT0 + round));
    }
    Rec(evs);
    std::vector<std::string> batch = ExportSince(*store_, cursor, &cursor);
    std::set<std::string> unique(batch.begin(), batch.end());
    EXPECT_EQ(unique.size(), batch.size()) << "duplicate within one export";
    seen.insert(seen.end(), batch.begin(), batch.end());
  }
  EXPECT_EQ(std::set<std::string>(seen.begin(), seen.end()), all);
  EXPECT_EQ(*store_->LastSequence(), cursor);
  // Nothing changed since: an empty export with the same cursor.
  std::uint64_t again = 0;
  EXPECT_TRUE(ExportSince(*store_, cursor, &again).empty());
  EXPECT_EQ(again, cursor);
  // A record changed after the cursor appears exactly once.
  Rec({Bounce("u1@example.com", "userunknown", true, kT0 + 9)});
  EXPECT_EQ(ExportSince(*store_, cursor, &again), std::vector<std::string>{"u1@example.com"});
  EXPECT_FALSE(store_->ForEachChangedSince(again + 5, {}, [](const AddressRecord&) { return true; }).ok());
}

TEST_F(StoreTest, ForEachRecordFiltersAndVisitsAll) {
  std::vector<BounceEvent> evs;
  for (int i = 0; i < 2500; ++i) {
    evs.push_back(Bounce("x" + std::to_string(i) + (i % 2 ? "@odd.example" : "@even.example"),
                         i % 5 ? "userunknown" : "mailboxfull", i % 5 != 0, kT0));
  }
  Rec(evs);
  std::size_t n = 0;
  ASSERT_TRUE(store_->ForEachRecord({}, [&](const AddressRecord&) { return ++n, true; }).ok());
  EXPECT_EQ(n, 2500u);
  RecordFilter f;
  f.domain = "odd.example";
  f.state = AddressState::kSuppressed;
  n = 0;
  ASSERT_TRUE(store_->ForEachRecord(f, [&](const AddressRecord& r) {
    EXPECT_EQ(DomainOf(r.address), "odd.example");
    return ++n, true;
  }).ok());
  EXPECT_EQ(n, 1000u);  // odd i, i % 5 != 0
  f.domain = "unknown.example";
  n = 0;
  ASSERT_TRUE(store_->ForEachRecord(f, [&](const AddressRecord&) { return ++n, true; }).ok());
  EXPECT_EQ(n, 0u);
}

// Diagnostics are shared through the text dictionary with the address taken
// out; each record gets its own address back.
TEST_F(StoreTest, SharedDiagnosticsComeBackWithTheirOwnAddress) {
  std::vector<BounceEvent> evs;
  for (const char* a : {"ann@one.example", "bob@two.example", "cy@one.example"}) {
    BounceEvent ev = Bounce(a, "userunknown", true, kT0);
    ev.diagnostic = std::string("550 5.1.1 <") + a + ">: Recipient address rejected";
    ev.message_id = std::string("123.") + a[0] + "@mail.sender.example";
    evs.push_back(ev);
  }
  Rec(evs);
  for (const BounceEvent& ev : evs) {
    Result<std::optional<AddressRecord>> r = store_->GetRecord(ev.address);
    ASSERT_TRUE(r.ok() && *r);
    EXPECT_EQ((*r)->last_diagnostic, ev.diagnostic);
    EXPECT_EQ((*r)->message_id, ev.message_id);
    EXPECT_EQ((*r)->last_status, "5.1.1");
    Result<std::vector<StoredEvent>> h = store_->History(ev.address, 10);
    ASSERT_TRUE(h.ok() && h->size() == 1);
    EXPECT_EQ((*h)[0].address, ev.address);
    EXPECT_EQ((*h)[0].rule_id, "test");
  }
  ExpectConsistent();
}

TEST_F(StoreTest, ExpiryDropsIndexEntriesThatMatchNoRecord) {
  for (int i = 0; i < 3; ++i) Rec({Bounce("full@example.com", "mailboxfull", false, kT0 + i * kDay)});
  const std::int64_t until = kT0 + 2 * kDay + 14 * kDay;
  store_.reset();
  {
    // Damage as only a foreign writer or a disk fault makes it: an index
    // entry, due before the real one, for an address key with no record.
    lmdb::Env env;
    ASSERT_TRUE(env.Open(dir_.Sub("db"), std::size_t{64} << 20, 16, 16, false).ok());
    lmdb::Txn txn;
    ASSERT_EQ(lmdb::Txn::Begin(env, false, &txn), 0);
    MDB_dbi expiry;
    ASSERT_EQ(lmdb::OpenDbi(txn, "expiry", false, &expiry), 0);
    ASSERT_EQ(txn.Put(expiry, lmdb::EncodeU64Key(kT0) + std::string("\xff\xff\xff\xf0ghost", 9), ""),
              0);
    ASSERT_EQ(txn.Commit(), 0);
  }
  Reopen();
  Result<std::uint64_t> lifted = store_->ExpireNow(until);
  ASSERT_TRUE(lifted.ok()) << lifted.status().ToString();
  EXPECT_EQ(*lifted, 1u);  // the real suppression is still lifted
  lifted = store_->ExpireNow(until + kDay);
  ASSERT_TRUE(lifted.ok()) << lifted.status().ToString();
  EXPECT_EQ(*lifted, 0u);
  ExpectConsistent();
}

// A schema 1 store (full addresses as keys) is refused, and left as it was.
// store_schema_test.cc covers the other versions.
TEST_F(StoreTest, OlderSchemaIsRefusedUntouched) {
  store_.reset();
  const std::string path = dir_.Sub("old");
  std::filesystem::create_directories(path);
  {
    lmdb::Env env;
    ASSERT_TRUE(env.Open(path, 1 << 20, 4, 16, false).ok());
    lmdb::Txn txn;
    ASSERT_EQ(lmdb::Txn::Begin(env, false, &txn), 0);
    MDB_dbi meta;
    ASSERT_EQ(lmdb::OpenDbi(txn, "meta", true, &meta), 0);
    ASSERT_EQ(txn.Put(meta, "schema", "1"), 0);
    ASSERT_EQ(txn.Commit(), 0);
  }
  StoreOptions o;
  o.path = path;
  Result<std::unique_ptr<Store>> old = Store::Open(o);
  ASSERT_FALSE(old.ok());
  EXPECT_EQ(old.status().code(), Status::Code::kCorruption);
  EXPECT_NE(old.status().message().find("schema '1'"), std::string::npos) << old.status().message();
  lmdb::Env env;
  ASSERT_TRUE(env.Open(path, 1 << 20, 4, 16, true).ok());
  lmdb::Txn txn;
  ASSERT_EQ(lmdb::Txn::Begin(env, true, &txn), 0);
  MDB_dbi addresses;
  EXPECT_EQ(lmdb::OpenDbi(txn, "addresses", false, &addresses), MDB_NOTFOUND);
}

TEST_F(StoreTest, ImportMergesAndNeverLiftsASuppression) {
  Rec({Bounce("hard@example.com", "userunknown", true, kT0)});
  ImportRow a{"hard@example.com", AddressState::kActive, "crm", 0, 0, 5, 0, 0, ""};
  ImportRow b{"new@example.com", AddressState::kSuppressed, "crm-bounce", kT0 - kDay, 0, 1, 0, 0, ""};
  ImportRow dup = b;
  ASSERT_TRUE(store_->Import({a, b, dup}, "import:test", kT0).ok());
  Result<std::optional<AddressRecord>> rec = store_->GetRecord("hard@example.com");
  EXPECT_EQ((*rec)->state, AddressState::kSuppressed);
  EXPECT_EQ((*rec)->hard_count, 5u);
  LookupResult r = Look("new@example.com");
  EXPECT_TRUE(r.suppressed);
  EXPECT_EQ(r.source, RecordSource::kImport);
  EXPECT_EQ(r.since, kT0 - kDay);
  // The duplicate row added no second event.
  EXPECT_EQ(store_->History("new@example.com", 10)->size(), 1u);
  ImportRow bad{"not-an-address", AddressState::kSuppressed, "x", 0, 0, 0, 0, 0, ""};
  Status s = store_->Import({b, bad}, "import:test", kT0);
  EXPECT_EQ(s.code(), Status::Code::kInvalidArgument);
  EXPECT_NE(s.message().find("row 2"), std::string::npos) << s.message();
}

// A temporary suppression that ran out before the import is recorded as the
// store's own expiry would have left it, not as an empty record.
TEST_F(StoreTest, ImportOfARunOutTemporarySuppressionRecordsItAsExpired) {
  ImportRow past{"past@example.com", AddressState::kSuppressedTemporary, "mailboxfull",
                 kT0 - 20 * kDay, kT0 - 5 * kDay, 0, 3, 0, "452 mailbox full"};
  ASSERT_TRUE(store_->Import({past}, "import:test", kT0).ok());
  Result<std::optional<AddressRecord>> rec = store_->GetRecord("past@example.com");
  ASSERT_TRUE(rec.ok() && rec->has_value());
  EXPECT_EQ((*rec)->state, AddressState::kActive);
  EXPECT_EQ((*rec)->source, RecordSource::kImport);
  EXPECT_EQ((*rec)->reason, "mailboxfull");
  EXPECT_EQ((*rec)->state_since, kT0 - 5 * kDay);  // when it ran out
  EXPECT_EQ((*rec)->suppressed_until, 0);
  EXPECT_EQ((*rec)->first_bounce, kT0 - 20 * kDay);
  EXPECT_EQ((*rec)->soft_count, 3u);
  EXPECT_EQ((*rec)->last_diagnostic, "452 mailbox full");
  EXPECT_FALSE(Look("past@example.com").suppressed);
  Result<std::vector<StoredEvent>> history = store_->History("past@example.com", 10);
  ASSERT_TRUE(history.ok());
  ASSERT_EQ(history->size(), 1u);
  EXPECT_EQ((*history)[0].type, EventType::kImport);
  // The same row again changes nothing; for a known address it only merges
  // the counters.
  ASSERT_TRUE(store_->Import({past}, "import:test", kT0 + 1).ok());
  EXPECT_EQ(store_->History("past@example.com", 10)->size(), 1u);
  Rec({Bounce("hard@example.com", "userunknown", true, kT0)});
  past.address = "hard@example.com";
  ASSERT_TRUE(store_->Import({past}, "import:test", kT0).ok());
  rec = store_->GetRecord("hard@example.com");
  EXPECT_EQ((*rec)->state, AddressState::kSuppressed);
  EXPECT_EQ((*rec)->reason, "userunknown");
  EXPECT_EQ((*rec)->soft_count, 3u);
  ExpectConsistent();
}

TEST_F(StoreTest, SentLedgerAndCounters) {
  store_->RecordSent("<m1@example.org>", {"A@x.example", "b@y.example"}, 3600, kT0);
  store_->CountSent("X.example", 2);
  store_->CountSent("x.example", 3);
  ASSERT_TRUE(store_->Flush().ok());
  Result<std::optional<std::vector<std::string>>> sent = store_->LookupSent("m1@example.org", kT0 + 1);
  ASSERT_TRUE(sent.ok() && sent->has_value());
  EXPECT_EQ(**sent, (std::vector<std::string>{"a@x.example", "b@y.example"}));
  EXPECT_FALSE(store_->LookupSent("m1@example.org", kT0 + 3600)->has_value());
  EXPECT_FALSE(store_->LookupSent("other@example.org", kT0)->has_value());
  EXPECT_EQ((*store_->GetDomain("x.example"))->sent, 5u);
  ASSERT_TRUE(store_->ExpireNow(kT0 + 3600).ok());
  EXPECT_EQ(store_->Stats(kT0)->sent_ledger_entries, 0u);
  ExpectConsistent();
}

// The counters and the ledger queued before a batch are committed even when
// every request of the batch fails: alone, or several at once.
TEST_F(StoreTest, SentLedgerAndCountersSurviveABatchWhoseRequestsAllFail) {
  Rec({Bounce("victim@x.example", "userunknown", true, kT0)});
  Damage("addresses", "");
  Reopen(NoPeriodicFlush());
  store_->RecordSent("<m1@ours.example>", {"alice@y.example"}, kDay, kT0);
  store_->CountSent("y.example", 5);
  EXPECT_EQ(store_->Record({Bounce("victim@x.example", "userunknown", true, kT0)}).code(),
            Status::Code::kCorruption);
  store_->RecordSent("<m2@ours.example>", {"bob@y.example"}, kDay, kT0);
  store_->CountSent("y.example", 2);
  std::vector<std::thread> threads;
  for (int i = 0; i < 4; ++i) {
    threads.emplace_back([&] {
      EXPECT_FALSE(store_->Record({Bounce("victim@x.example", "userunknown", true, kT0)}).ok());
    });
  }
  for (std::thread& t : threads) t.join();
  ASSERT_TRUE(store_->Flush().ok());
  EXPECT_TRUE(InLedger("m1@ours.example"));
  EXPECT_TRUE(InLedger("m2@ours.example"));
  EXPECT_EQ(SentTo("y.example"), 7u);
}

// The periodic expiry runs alone when nothing else is queued; its failure
// (a damaged temporary suppression) takes no ledger entry along.
TEST_F(StoreTest, SentLedgerSurvivesAFailingPeriodicExpiry) {
  for (int i = 0; i < 3; ++i) Rec({Bounce("full@example.com", "mailboxfull", false, kT0 + i * kDay)});
  ASSERT_TRUE(Look("full@example.com", kT0 + 3 * kDay).temporary);  // long past by the clock
  Damage("addresses", "");
  StoreOptions o;
  o.path = dir_.Sub("db");
  o.expire_interval_s = 1;
  o.flush_interval_ms = 1500;  // the first wake-up finds the expiry due
  Result<std::unique_ptr<Store>> s = Store::Open(o);
  ASSERT_TRUE(s.ok()) << s.status().ToString();
  store_ = std::move(*s);
  store_->RecordSent("<m1@ours.example>", {"alice@y.example"}, kDay, kT0);
  store_->CountSent("y.example", 3);
  std::this_thread::sleep_for(std::chrono::milliseconds(2500));
  ASSERT_TRUE(store_->Flush().ok());
  EXPECT_TRUE(InLedger("m1@ours.example"));
  EXPECT_EQ(SentTo("y.example"), 3u);
}

// A damaged domain entry loses the count sent to that domain, logged once
// with the domain and the error; the bounces, the other counters and the
// ledger of the same transaction are committed.
TEST_F(StoreTest, DamagedDomainEntryLosesItsCountButFailsNoBounce) {
  store_->CountSent("y.example", 1);
  ASSERT_TRUE(store_->Flush().ok());
  Damage("domains", "y.example");
  Reopen(NoPeriodicFlush());

  std::string lines;
  Status recorded;
  {
    LogCapture log;
    store_->RecordSent("<m1@ours.example>", {"alice@z.example"}, kDay, kT0);
    store_->CountSent("y.example", 1);  // outbound mail to the damaged domain
    store_->CountSent("z.example", 2);
    recorded = store_->Record({Bounce("bob@other.example", "userunknown", true, kT0)});
    lines = log.Text();
  }

  EXPECT_TRUE(recorded.ok()) << recorded.ToString();
  EXPECT_TRUE(Look("bob@other.example").suppressed);
  EXPECT_TRUE(InLedger("m1@ours.example"));
  EXPECT_EQ(SentTo("z.example"), 2u);
  EXPECT_EQ(store_->GetDomain("y.example").status().code(), Status::Code::kCorruption);
  EXPECT_NE(lines.find("y.example"), std::string::npos) << lines;
  EXPECT_NE(lines.find("corruption"), std::string::npos) << lines;
  EXPECT_EQ(std::count(lines.begin(), lines.end(), '\n'), 1) << lines;
}

TEST_F(StoreTest, RetentionDeletesOldEventsAndTooOldCursorsAreRefused) {
  StoreOptions o;
  o.event_retention_days = 30;
  Reopen(o);
  Rec({Bounce("old@example.com", "userunknown", true, kT0)});
  Rec({Bounce("new@example.com", "userunknown", true, kT0 + 40 * kDay)});
  ASSERT_TRUE(store_->ExpireNow(kT0 + 41 * kDay).ok());
  EXPECT_EQ(store_->Stats(kT0)->events, 1u);
  EXPECT_TRUE(Look("old@example.com").suppressed);  // records are kept
  EXPECT_FALSE(store_->ForEachChangedSince(0, {}, [](const AddressRecord&) { return true; }).ok());
  std::uint64_t cursor = 0;
  EXPECT_EQ(ExportSince(*store_, 1, &cursor), std::vector<std::string>{"new@example.com"});
  ExpectConsistent();
}

TEST_F(StoreTest, MapGrowsWhenFull) {
  StoreOptions o;
  o.initial_map_bytes = 1 << 20;
  Reopen(o);
  std::string diag(400, 'd');
  for (int round = 0; round < 20; ++round) {
    std::vector<BounceEvent> evs;
    for (int i = 0; i < 500; ++i) {
      BounceEvent ev = Bounce("g" + std::to_string(round * 500 + i) + "@example.com", "userunknown",
                              true, kT0);
      ev.diagnostic = diag;
      evs.push_back(ev);
    }
    Rec(evs);
  }
  Result<StoreStats> st = store_->Stats(kT0);
  ASSERT_TRUE(st.ok());
  EXPECT_EQ(st->addresses, 10000u);
  EXPECT_GT(st->map_bytes, std::size_t{1} << 20);
  ExpectConsistent();
  Reopen(o);  // reopening with the smaller configured size adopts the grown one
  EXPECT_TRUE(Look("g9999@example.com").suppressed);
}

TEST_F(StoreTest, StatsCountByStateReasonAndRecentBounces) {
  Rec({Bounce("a@example.com", "userunknown", true, kT0), Bounce("b@example.com", "hostunknown", true, kT0 - 3 * kDay),
       Bounce("c@example.com", "mailboxfull", false, kT0 - 30 * kDay)});
  Result<StoreStats> st = store_->Stats(kT0);
  ASSERT_TRUE(st.ok());
  EXPECT_EQ(st->addresses, 3u);
  EXPECT_EQ(st->bounces_last_day, 1u);
  EXPECT_EQ(st->bounces_last_week, 2u);
  EXPECT_EQ(st->by_reason.size(), 2u);
}

TEST_F(StoreTest, ReadOnlyOpenSeesDataAndRefusesWrites) {
  Rec({Bounce("ro@example.com", "userunknown", true, kT0)});
  store_.reset();  // one process may not open the environment twice
  StoreOptions o;
  o.path = dir_.Sub("db");
  o.read_only = true;
  Result<std::unique_ptr<Store>> ro = Store::Open(o);
  ASSERT_TRUE(ro.ok()) << ro.status().ToString();
  EXPECT_TRUE((*ro)->Lookup("ro@example.com", kT0)->suppressed);
  EXPECT_FALSE((*ro)->Record({Bounce("x@example.com", "userunknown", true, kT0)}).ok());
  o.path = dir_.Sub("missing");
  EXPECT_FALSE(Store::Open(o).ok());
}

}  // namespace
}  // namespace bm
