// The per-thread domain cache of Store::Lookup (store/domain_cache.h): a
// change made by another process or through the same handle is seen by the
// next lookup, and a store never answers from another store's cache.
#include "store/domain_cache.h"

#include <gtest/gtest.h>

#include <optional>
#include <string>
#include <vector>

#include "common/test_child.h"
#include "store/store.h"
#include "store/store_test_util.h"

namespace bm {
namespace {

constexpr std::int64_t kT0 = 1700000000;

BounceEvent Hard(std::string address) {
  BounceEvent ev;
  ev.address = std::move(address);
  ev.reason = "userunknown";
  ev.bounce_class = "permanent";
  ev.hard = true;
  ev.time = kT0;
  return ev;
}

std::unique_ptr<Store> OpenAt(const std::string& path) {
  StoreOptions options;
  options.path = path;
  options.expire_interval_s = 0;
  Result<std::unique_ptr<Store>> s = Store::Open(options);
  EXPECT_TRUE(s.ok()) << s.status().ToString();
  return s.ok() ? std::move(*s) : nullptr;
}

LookupResult Look(const Store& store, std::string_view address) {
  Result<LookupResult> r = store.Lookup(address, kT0 + 10);
  EXPECT_TRUE(r.ok()) << r.status().ToString();
  return r.ok() ? *r : LookupResult{};
}

// The child of InChildProcess: its own handle of the store at args[0] makes
// the changes args[1...] name, in order: "record:ADDRESS" (a hard bounce),
// "suppress:DOMAIN", "lift:DOMAIN" (a domain suppression there). Exits 0 when
// done, 2 when the store did not open, 3 when a change failed, 4 when one is
// unknown.
int ChangeInChild(const std::vector<std::string>& args) {
  if (args.empty()) return 4;
  StoreOptions options;
  options.path = args[0];
  options.expire_interval_s = 0;
  Result<std::unique_ptr<Store>> opened = Store::Open(options);
  if (!opened.ok()) return 2;
  Store& s = **opened;
  for (std::size_t i = 1; i < args.size(); ++i) {
    const std::size_t colon = args[i].find(':');
    if (colon == std::string::npos) return 4;
    const std::string verb = args[i].substr(0, colon), what = args[i].substr(colon + 1);
    bool ok;
    if (verb == "record") {
      ok = s.Record({Hard(what)}).ok();
    } else if (verb == "suppress") {
      ok = s.SuppressDomain(what, "notaccept", "admin", kT0 + 1).ok();
    } else if (verb == "lift") {
      Result<bool> lifted = s.UnblockDomain(what, "admin", kT0 + 2);
      ok = lifted.ok() && *lifted;
    } else {
      return 4;
    }
    if (!ok) return 3;
  }
  return 0;
}
const ChildRole kChangeInChild("domain_cache.change", &ChangeInChild);

// Makes `changes` (see ChangeInChild) in another process, on its own handle
// of the store at path. A fresh process, not a fork: this one has the writer
// thread of its own store running.
void InChildProcess(const std::string& path, const std::vector<std::string>& changes) {
  std::vector<std::string> args = {path};
  args.insert(args.end(), changes.begin(), changes.end());
  EXPECT_EQ(RunChild("domain_cache.change", args), 0);
}

// The handle that changes the domain entry is another process's, like
// bouncectl beside the milter: one process may not open the environment twice.
TEST(DomainCache, DomainSuppressionAndLiftOfAnotherProcessAreSeen) {
  TempDir dir;
  const std::string path = dir.Sub("db");
  std::unique_ptr<Store> store = OpenAt(path);
  ASSERT_TRUE(store->Record({Hard("a@dom.example")}).ok());
  EXPECT_FALSE(Look(*store, "b@dom.example").suppressed);  // the domain is now cached

  InChildProcess(path, {"suppress:dom.example"});
  LookupResult r = Look(*store, "b@dom.example");
  EXPECT_TRUE(r.suppressed);
  EXPECT_TRUE(r.domain_level);
  EXPECT_EQ(r.reason, "notaccept");

  InChildProcess(path, {"lift:dom.example"});
  EXPECT_FALSE(Look(*store, "b@dom.example").suppressed);
  EXPECT_TRUE(Look(*store, "a@dom.example").suppressed);  // its own record
}

TEST(DomainCache, ChangesOfAnotherProcessAreSeen) {
  TempDir dir;
  const std::string path = dir.Sub("db");
  std::unique_ptr<Store> store = OpenAt(path);
  ASSERT_TRUE(store->Record({Hard("a@known.example")}).ok());
  EXPECT_FALSE(Look(*store, "b@known.example").suppressed);
  EXPECT_FALSE(Look(*store, "new@fresh.example").known);  // cached: no such domain

  // Like bouncectl while the milter runs: a new domain with a record, and a
  // domain suppression.
  InChildProcess(path, {"record:new@fresh.example", "suppress:known.example"});
  EXPECT_TRUE(Look(*store, "new@fresh.example").suppressed);
  EXPECT_TRUE(Look(*store, "b@known.example").domain_level);
}

TEST(DomainCache, NewDomainAfterANoSuchDomainAnswerIsSeen) {
  TempDir dir;
  std::unique_ptr<Store> store = OpenAt(dir.Sub("db"));
  ASSERT_TRUE(store->Record({Hard("a@known.example")}).ok());
  EXPECT_FALSE(Look(*store, "x@later.example").known);
  EXPECT_FALSE(Look(*store, "b@known.example").known);
  ASSERT_TRUE(store->Record({Hard("x@later.example")}).ok());
  EXPECT_TRUE(Look(*store, "x@later.example").suppressed);
  EXPECT_FALSE(Look(*store, "b@known.example").suppressed);
}

TEST(DomainCache, StoreWithoutTheGenerationKeyWorksAndGetsIt) {
  TempDir dir;
  const std::string path = dir.Sub("db");
  {
    std::unique_ptr<Store> store = OpenAt(path);
    ASSERT_TRUE(store->Record({Hard("a@old.example")}).ok());
  }
  auto generation = [&]() -> std::optional<DomainGeneration> {
    lmdb::Env env;
    EXPECT_TRUE(env.Open(path, 64 << 20, 16, 126, false).ok());
    lmdb::Txn txn;
    EXPECT_EQ(lmdb::Txn::Begin(env, false, &txn), 0);
    MDB_dbi meta;
    EXPECT_EQ(lmdb::OpenDbi(txn, "meta", false, &meta), 0);
    std::string_view value;
    if (txn.Get(meta, kDomainGenKey, &value) != 0) return std::nullopt;
    Result<DomainGeneration> g = ReadDomainGeneration(txn, meta);
    EXPECT_TRUE(g.ok());
    return *g;
  };
  {
    // Make it a store written before the key existed.
    lmdb::Env env;
    ASSERT_TRUE(env.Open(path, 64 << 20, 16, 126, false).ok());
    lmdb::Txn txn;
    ASSERT_EQ(lmdb::Txn::Begin(env, false, &txn), 0);
    MDB_dbi meta;
    ASSERT_EQ(lmdb::OpenDbi(txn, "meta", false, &meta), 0);
    ASSERT_EQ(txn.Del(meta, kDomainGenKey), 0);
    ASSERT_EQ(txn.Commit(), 0);
  }
  ASSERT_FALSE(generation());

  std::unique_ptr<Store> store = OpenAt(path);
  EXPECT_TRUE(Look(*store, "a@old.example").suppressed);
  EXPECT_FALSE(Look(*store, "b@old.example").suppressed);
  InChildProcess(path, {"suppress:old.example"});
  EXPECT_TRUE(Look(*store, "b@old.example").domain_level);
  store.reset();
  EXPECT_EQ(generation(), (DomainGeneration{1, 0}));
}

TEST(DomainCache, AStoreOpenedAfterAnotherDoesNotUseItsEntries) {
  // Two stores with the same history (same transaction ids and generations)
  // where the same domain has different ids: only the store instance tells
  // their caches apart.
  TempDir dir;
  {
    std::unique_ptr<Store> first = OpenAt(dir.Sub("one"));
    ASSERT_TRUE(first->Record({Hard("a@x.example"), Hard("b@y.example")}).ok());
    EXPECT_TRUE(Look(*first, "a@x.example").suppressed);  // caches x.example = id 1
  }
  std::unique_ptr<Store> second = OpenAt(dir.Sub("two"));
  ASSERT_TRUE(second->Record({Hard("b@y.example"), Hard("a@x.example")}).ok());
  EXPECT_TRUE(Look(*second, "a@x.example").suppressed);  // x.example is id 2 here
}

TEST(DomainCache, ManyDomainsShortAndLongNamesAreAnsweredRight) {
  // Enough domains for the table to grow several times; every other name is
  // longer than the 22 bytes a slot holds.
  TempDir dir;
  std::unique_ptr<Store> store = OpenAt(dir.Sub("db"));
  auto domain = [](int i) {
    return "d" + std::to_string(i) + (i % 2 ? ".a-rather-long-domain-name.example" : ".ex");
  };
  std::vector<BounceEvent> evs;
  for (int i = 0; i < 300; ++i) evs.push_back(Hard("in" + std::to_string(i) + "@" + domain(i)));
  ASSERT_TRUE(store->Record(std::move(evs)).ok());
  for (int round = 0; round < 2; ++round) {  // the first fills the cache, the second reads it
    for (int i = 0; i < 300; ++i) {
      EXPECT_TRUE(Look(*store, "in" + std::to_string(i) + "@" + domain(i)).suppressed) << i;
      EXPECT_FALSE(Look(*store, "in" + std::to_string(i + 1) + "@" + domain(i)).known) << i;
      EXPECT_FALSE(Look(*store, "in" + std::to_string(i) + "@x" + domain(i)).known) << i;
    }
  }
}

TEST(DomainCache, ReadGenerationRejectsAMalformedValue) {
  TempDir dir;
  const std::string path = dir.Sub("db");
  OpenAt(path).reset();
  lmdb::Env env;
  ASSERT_TRUE(env.Open(path, 64 << 20, 16, 126, false).ok());
  lmdb::Txn txn;
  ASSERT_EQ(lmdb::Txn::Begin(env, false, &txn), 0);
  MDB_dbi meta;
  ASSERT_EQ(lmdb::OpenDbi(txn, "meta", false, &meta), 0);
  EXPECT_EQ(*ReadDomainGeneration(txn, meta), DomainGeneration{});
  ASSERT_EQ(txn.Put(meta, kDomainGenKey, "short"), 0);
  EXPECT_EQ(ReadDomainGeneration(txn, meta).status().code(), Status::Code::kCorruption);
}

}  // namespace
}  // namespace bm
