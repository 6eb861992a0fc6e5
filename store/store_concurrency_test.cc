// Concurrency: 8 reader threads look up while the writer ingests (with and
// without the lookup index), and keep completing lookups while another
// process holds the LMDB write lock.
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <thread>

#include "common/test_child.h"
#include "store/lmdb.h"
#include "store/store.h"
#include "store/store_test_util.h"

namespace bm {
namespace {

constexpr int kReaders = 8;
constexpr std::int64_t kNow = 1700000000;

std::string AddressOf(int i) { return "r" + std::to_string(i) + "@conc.example"; }

BounceEvent Hard(int i) {
  BounceEvent ev;
  ev.address = AddressOf(i);
  ev.reason = "userunknown";
  ev.hard = true;
  ev.time = kNow;
  return ev;
}

// With the lookup index, the readers' lookups wake its catch-up over and
// over while the writer commits; each must still see every committed bounce.
void ReadersRunWhileTheWriterIngests(bool lookup_index) {
  TempDir dir;
  StoreOptions options;
  options.path = dir.Sub("db");
  options.initial_map_bytes = 1 << 20;  // growth (remap) happens while readers run
  options.lookup_index = lookup_index;
  Result<std::unique_ptr<Store>> opened = Store::Open(options);
  ASSERT_TRUE(opened.ok());
  Store& store = **opened;

  std::atomic<bool> stop{false};
  std::atomic<int> written{0};
  std::atomic<std::uint64_t> lookups{0}, errors{0}, inconsistent{0};
  std::vector<std::thread> readers;
  for (int t = 0; t < kReaders; ++t) {
    readers.emplace_back([&, t] {
      for (unsigned i = t; !stop.load(); i += 7) {
        const int done = written.load();
        if (done == 0) continue;
        const int target = static_cast<int>(i % static_cast<unsigned>(done));
        Result<LookupResult> r = store.Lookup(AddressOf(target), kNow);
        lookups.fetch_add(1);
        if (!r.ok()) {
          errors.fetch_add(1);
        } else if (!r->suppressed) {
          inconsistent.fetch_add(1);  // committed before `written` moved: must be visible
        }
      }
    });
  }
  // Writer: several callers at once, so group commit batches them.
  std::vector<std::thread> writers;
  std::atomic<int> next{0};
  std::atomic<int> write_errors{0};
  for (int w = 0; w < 4; ++w) {
    writers.emplace_back([&] {
      for (;;) {
        int start = next.fetch_add(50);
        if (start >= 20000) return;
        std::vector<BounceEvent> evs;
        for (int i = start; i < start + 50; ++i) evs.push_back(Hard(i));
        if (!store.Record(std::move(evs)).ok()) write_errors.fetch_add(1);
        // Publish a prefix that is fully committed.
        int expected = start;
        while (!written.compare_exchange_weak(expected, start + 50)) {
          if (expected > start) break;  // a later batch already published
          std::this_thread::yield();
          expected = start;
        }
      }
    });
  }
  for (auto& w : writers) w.join();
  stop.store(true);
  for (auto& r : readers) r.join();
  EXPECT_EQ(write_errors.load(), 0);
  EXPECT_EQ(errors.load(), 0u);
  EXPECT_EQ(inconsistent.load(), 0u);
  EXPECT_GT(lookups.load(), 0u);
  Result<VerifyReport> v = store.Verify();
  ASSERT_TRUE(v.ok());
  EXPECT_TRUE(v->problems.empty());
  EXPECT_EQ(v->addresses, 20000u);
  if (!lookup_index) return;
  // Once caught up, the index answers for every address.
  for (int i = 0; i < 2000; ++i) {
    (void)store.Lookup(AddressOf(0), kNow);
    LookupIndexStats st = store.IndexStats();
    if (st.ready && st.seq == *store.LastSequence() + 1) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  EXPECT_EQ(store.IndexStats().addresses, 20000u);
  for (int i = 0; i < 20000; ++i) {
    Result<LookupResult> r = store.Lookup(AddressOf(i), kNow);
    ASSERT_TRUE(r.ok() && r->suppressed) << AddressOf(i);
  }
}

TEST(StoreConcurrency, ReadersRunWhileTheWriterIngests) { ReadersRunWhileTheWriterIngests(false); }

TEST(StoreConcurrency, IndexedReadersRunWhileTheWriterIngests) {
  ReadersRunWhileTheWriterIngests(true);
}

TEST(StoreConcurrency, LookupsCompleteWhileAWriteTransactionIsHeld) {
  TempDir dir;
  StoreOptions options;
  options.path = dir.Sub("db");
  options.lookup_index = true;  // neither path waits for the writer
  {
    Result<std::unique_ptr<Store>> s = Store::Open(options);
    ASSERT_TRUE(s.ok());
    ASSERT_TRUE((*s)->Record({Hard(1)}).ok());
  }
  int to_parent[2], to_child[2];
  ASSERT_EQ(pipe(to_parent), 0);
  ASSERT_EQ(pipe(to_child), 0);
  // The child runs LMDB: forked while this process has no other thread
  // (common/test_child.h), before it opens its store.
  ASSERT_EQ(ThreadCount(), 1u);
  pid_t pid = fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    // Another process (like bouncectl) holds the write lock until told to stop.
    lmdb::Env env;
    if (!env.Open(options.path, 64 << 20, 8, 126, false).ok()) _exit(2);
    char c;
    if (read(to_child[0], &c, 1) != 1) _exit(6);  // the parent has opened its store
    lmdb::Txn txn;
    if (lmdb::Txn::Begin(env, false, &txn) != 0) _exit(3);
    c = 'h';
    if (write(to_parent[1], &c, 1) != 1) _exit(4);
    if (read(to_child[0], &c, 1) != 1) _exit(5);
    txn.Abort();
    _exit(0);
  }
  Result<std::unique_ptr<Store>> opened = Store::Open(options);
  ASSERT_TRUE(opened.ok());
  Store& store = **opened;
  char c = 'g';
  ASSERT_EQ(write(to_child[1], &c, 1), 1);
  ASSERT_EQ(read(to_parent[0], &c, 1), 1);
  // A write now waits for the other process's lock...
  std::atomic<bool> write_done{false};
  std::thread writer([&] {
    EXPECT_TRUE(store.Record({Hard(2)}).ok());
    write_done.store(true);
  });
  // ...while 8 readers keep completing lookups.
  std::atomic<std::uint64_t> lookups{0}, errors{0};
  std::atomic<bool> stop{false};
  std::vector<std::thread> readers;
  for (int t = 0; t < kReaders; ++t) {
    readers.emplace_back([&] {
      while (!stop.load()) {
        Result<LookupResult> r = store.Lookup(AddressOf(1), kNow);
        if (!r.ok() || !r->suppressed) errors.fetch_add(1);
        lookups.fetch_add(1);
      }
    });
  }
  while (lookups.load() < 10000) std::this_thread::yield();
  EXPECT_FALSE(write_done.load()) << "the write did not wait for the held lock";
  stop.store(true);
  for (auto& r : readers) r.join();
  EXPECT_EQ(errors.load(), 0u);

  c = 'r';
  ASSERT_EQ(write(to_child[1], &c, 1), 1);
  int status = 0;
  waitpid(pid, &status, 0);
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);
  writer.join();
  EXPECT_TRUE(write_done.load());
  EXPECT_TRUE(store.Lookup(AddressOf(2), kNow)->suppressed);
}

}  // namespace
}  // namespace bm
