// Store benchmarks: lookups per second (single thread) over a store holding
// N addresses, without and with the lookup index (the *Indexed variants,
// which also print the index's memory), batched ingest in events per
// second, and the size on disk.
//
//   store_bench [--addresses=N] [--dir=PATH] [google-benchmark flags]
//
// N defaults to 1,000,000; docs/performance.md records N = 1M and 10M.
// The store is built in a temporary directory under --dir (default /tmp)
// and removed at the end. CI does not run this program.
#include <benchmark/benchmark.h>
#include <stdlib.h>
#include <sys/stat.h>

#include <chrono>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <memory>
#include <mutex>
#include <random>
#include <string>
#include <thread>

#include <lmdb.h>

#include "store/store.h"

namespace {

constexpr std::int64_t kNow = 1700000000;
constexpr int kBatch = 1000;

std::size_t g_addresses = 1'000'000;
std::unique_ptr<bm::Store> g_store;  // holds g_addresses records
std::unique_ptr<bm::Store> g_ingest_store;  // BM_IngestBatched's own store
std::string g_root;

// Realistic shapes: ~25-byte addresses over 50,000 domains, a typical diagnostic.
std::string AddressOf(std::size_t i) {
  return "user" + std::to_string(i * 2654435761u % 1000000007u) + "@d" +
         std::to_string(i % 50000) + ".example.com";
}

bm::BounceEvent EventFor(std::size_t i) {
  bm::BounceEvent ev;
  ev.address = AddressOf(i);
  ev.reason = "userunknown";
  ev.bounce_class = "permanent";
  ev.hard = true;
  ev.status = "5.1.1";
  ev.diagnostic = "550 5.1.1 <" + ev.address + ">: Recipient address rejected: User unknown";
  ev.rule_id = "userunknown-511";
  ev.message_id = "20231114221320.ABC" + std::to_string(i) + "@mail.example.org";
  ev.time = kNow;
  return ev;
}

std::unique_ptr<bm::Store> OpenStore(const std::string& name, bool lookup_index = false) {
  bm::StoreOptions options;
  options.path = g_root + "/" + name;
  options.expire_interval_s = 0;
  options.lookup_index = lookup_index;
  auto store = bm::Store::Open(options);
  if (!store.ok()) {
    std::fprintf(stderr, "open: %s\n", store.status().ToString().c_str());
    std::exit(1);
  }
  return std::move(*store);
}

std::uintmax_t DiskBytes(const std::string& dir) {
  struct stat st;
  if (stat((dir + "/data.mdb").c_str(), &st) != 0) return 0;
  return static_cast<std::uintmax_t>(st.st_blocks) * 512;
}

void Populate() {
  g_store = OpenStore("populated");
  auto start = std::chrono::steady_clock::now();
  for (std::size_t i = 0; i < g_addresses; i += kBatch) {
    std::vector<bm::BounceEvent> evs;
    for (std::size_t k = i; k < std::min(g_addresses, i + kBatch); ++k) evs.push_back(EventFor(k));
    bm::Status s = g_store->Record(std::move(evs));
    if (!s.ok()) {
      std::fprintf(stderr, "record: %s\n", s.ToString().c_str());
      std::exit(1);
    }
  }
  double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  // Every domain has counters, as in a store the milter has been feeding.
  for (int d = 0; d < 50000; ++d) g_store->CountSent("d" + std::to_string(d) + ".example.com", 10);
  if (!g_store->Flush().ok()) std::exit(1);
  std::uintmax_t bytes = DiskBytes(g_root + "/populated");
  std::printf("populate: %zu addresses (one hard bounce each, event log included) in %.1f s = "
              "%.0f events/s in batches of %d\n",
              g_addresses, secs, g_addresses / secs, kBatch);
  std::printf("size on disk: %.1f MiB (%.0f bytes per address)\n", bytes / 1048576.0,
              static_cast<double>(bytes) / g_addresses);
}

// Pages per database of the store in `dir`, read through LMDB itself.
// REQUIRES: no Store of this process has it open (LMDB allows one
// environment handle per file and process).
void PrintDatabaseSizes(const std::string& dir) {
  MDB_env* env = nullptr;
  MDB_txn* txn = nullptr;
  if (mdb_env_create(&env) != 0 || mdb_env_set_maxdbs(env, 16) != 0 ||
      mdb_env_open(env, dir.c_str(), MDB_RDONLY, 0) != 0 ||
      mdb_txn_begin(env, nullptr, MDB_RDONLY, &txn) != 0) {
    std::fprintf(stderr, "cannot open %s for its page counts\n", dir.c_str());
    mdb_env_close(env);
    return;
  }
  for (const char* name : {"addresses", "domains", "domain_ids", "texts", "text_ids", "events",
                           "expiry", "sent", "sent_expiry", "meta"}) {
    MDB_dbi dbi;
    MDB_stat st;
    if (mdb_dbi_open(txn, name, 0, &dbi) != 0 || mdb_stat(txn, dbi, &st) != 0) continue;
    const double bytes = static_cast<double>(st.ms_branch_pages + st.ms_leaf_pages +
                                             st.ms_overflow_pages) * st.ms_psize;
    std::printf("  %-11s %10zu entries %9.1f MiB %6.1f bytes/entry\n", name, st.ms_entries,
                bytes / 1048576.0, st.ms_entries ? bytes / st.ms_entries : 0.0);
  }
  MDB_envinfo info;
  MDB_stat env_stat;
  mdb_env_info(env, &info);
  mdb_env_stat(env, &env_stat);
  std::printf("  file: %zu pages in use of %zu bytes each\n", info.me_last_pgno + 1,
              static_cast<std::size_t>(env_stat.ms_psize));
  mdb_txn_abort(txn);
  mdb_env_close(env);
}

void LookupHit(benchmark::State& state, bm::Store& store) {
  std::mt19937_64 rng(42);
  std::vector<std::string> keys(1 << 16);
  for (auto& k : keys) k = AddressOf(rng() % g_addresses);
  std::size_t i = 0;
  for (auto _ : state) {
    auto r = store.Lookup(keys[i++ & (keys.size() - 1)], kNow);
    if (!r.ok() || !r->suppressed) state.SkipWithError("lookup failed");
    benchmark::DoNotOptimize(r);
  }
  state.SetItemsProcessed(state.iterations());
}
void BM_LookupHit(benchmark::State& state) { LookupHit(state, *g_store); }
BENCHMARK(BM_LookupHit)->MinTime(2.0);

// Addresses the store does not hold, spread over all domains (the milter's
// common case: most recipients never bounced).
void LookupMiss(benchmark::State& state, bm::Store& store) {
  std::mt19937_64 rng(7);
  std::size_t i = 0;
  std::vector<std::string> keys(1 << 16);
  for (auto& k : keys) {
    k = "nobody" + std::to_string(rng() % 100000000) + "@d" + std::to_string(rng() % 50000) +
        ".example.com";
  }
  for (auto _ : state) {
    auto r = store.Lookup(keys[i++ & (keys.size() - 1)], kNow);
    if (!r.ok() || r->suppressed) state.SkipWithError("lookup failed");
    benchmark::DoNotOptimize(r);
  }
  state.SetItemsProcessed(state.iterations());
}
void BM_LookupMiss(benchmark::State& state) { LookupMiss(state, *g_store); }
BENCHMARK(BM_LookupMiss)->MinTime(2.0);

void LookupHitThreads(benchmark::State& state, bm::Store& store) {
  std::mt19937_64 rng(state.thread_index());
  for (auto _ : state) {
    auto r = store.Lookup(AddressOf(rng() % g_addresses), kNow);
    benchmark::DoNotOptimize(r);
  }
  state.SetItemsProcessed(state.iterations());
}
void BM_LookupHitThreads(benchmark::State& state) { LookupHitThreads(state, *g_store); }
BENCHMARK(BM_LookupHitThreads)->Threads(2)->Threads(8)->UseRealTime()->MinTime(2.0);

// Batches of state.range(0) new hard bounces (one Record call, one
// transaction, one fsync each) into a store that grows as it runs.
void BM_IngestBatched(benchmark::State& state) {
  if (!g_ingest_store) g_ingest_store = OpenStore("ingest");
  static std::size_t next = 0;
  const int batch = static_cast<int>(state.range(0));
  for (auto _ : state) {
    std::vector<bm::BounceEvent> evs;
    for (int k = 0; k < batch; ++k) evs.push_back(EventFor(next++));
    if (!g_ingest_store->Record(std::move(evs)).ok()) state.SkipWithError("record failed");
  }
  state.SetItemsProcessed(state.iterations() * batch);
}
BENCHMARK(BM_IngestBatched)->Arg(100)->Arg(1000)->Arg(10000)->Unit(benchmark::kMillisecond)
    ->UseRealTime()->MinTime(3.0);

// The same store reopened with the lookup index (StoreOptions::lookup_index),
// once the index has been built. The plain lookup benchmarks are registered
// before, so they run on the store without it.
bm::Store& IndexedStore() {
  static std::once_flag once;
  std::call_once(once, [] {
    g_store.reset();
    auto start = std::chrono::steady_clock::now();
    g_store = OpenStore("populated", /*lookup_index=*/true);
    while (!g_store->IndexStats().ready) {
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    const bm::LookupIndexStats st = g_store->IndexStats();
    std::printf("lookup index: %llu addresses built in %.2f s, %.1f MiB = %.1f bytes per address\n",
                static_cast<unsigned long long>(st.addresses), secs, st.memory_bytes / 1048576.0,
                static_cast<double>(st.memory_bytes) / static_cast<double>(st.addresses));
  });
  return *g_store;
}

void BM_LookupHitIndexed(benchmark::State& state) {
  bm::Store& store = IndexedStore();
  LookupHit(state, store);
}
BENCHMARK(BM_LookupHitIndexed)->MinTime(2.0);

void BM_LookupMissIndexed(benchmark::State& state) {
  bm::Store& store = IndexedStore();
  LookupMiss(state, store);
}
BENCHMARK(BM_LookupMissIndexed)->MinTime(2.0);

void BM_LookupHitThreadsIndexed(benchmark::State& state) {
  bm::Store& store = IndexedStore();
  LookupHitThreads(state, store);
}
BENCHMARK(BM_LookupHitThreadsIndexed)->Threads(2)->Threads(8)->UseRealTime()->MinTime(2.0);

}  // namespace

int main(int argc, char** argv) {
  std::string dir = "/tmp";
  int out = 1;
  for (int i = 1; i < argc; ++i) {
    if (std::strncmp(argv[i], "--addresses=", 12) == 0) {
      g_addresses = std::stoull(argv[i] + 12);
    } else if (std::strncmp(argv[i], "--dir=", 6) == 0) {
      dir = argv[i] + 6;
    } else {
      argv[out++] = argv[i];
    }
  }
  argc = out;
  std::string tmpl = dir + "/bm-store-bench-XXXXXX";
  if (mkdtemp(tmpl.data()) == nullptr) {
    std::perror("mkdtemp");
    return 1;
  }
  g_root = tmpl;
  benchmark::Initialize(&argc, argv);
  Populate();
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  g_store.reset();
  g_ingest_store.reset();
  std::printf("pages by database of the %zu-address store:\n", g_addresses);
  PrintDatabaseSizes(g_root + "/populated");
  if (std::getenv("BM_BENCH_KEEP") == nullptr) std::filesystem::remove_all(g_root);
  return 0;
}
