// The lookup index: the table itself, and a differential test of
// Store::Lookup with the index against Lookup without it (in another
// process, which also writes to the store) over random operation sequences.
#include "store/lookup_index.h"

#include <sys/wait.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <chrono>
#include <cstdio>
#include <random>
#include <sstream>
#include <thread>

#include "common/test_child.h"
#include "store/store.h"
#include "store/store_test_util.h"

namespace bm {
namespace {

// --- LookupTable ---------------------------------------------------------------

LookupHead Head(AddressState state, std::string_view reason, std::int64_t since,
                std::int64_t until = 0) {
  LookupHead h;
  h.state = state;
  h.source = RecordSource::kManual;
  h.reason = reason;
  h.state_since = since;
  h.suppressed_until = until;
  return h;
}

TEST(LookupTable, PutFindReplace) {
  LookupTable t;
  LookupHead out;
  EXPECT_EQ(t.Find("k", LookupTable::Hash("k"), &out), LookupTable::Found::kAbsent);
  t.Put("k", LookupTable::Hash("k"), Head(AddressState::kSuppressedTemporary, "mailboxfull", 10, 20));
  ASSERT_EQ(t.Find("k", LookupTable::Hash("k"), &out), LookupTable::Found::kHead);
  EXPECT_EQ(out.state, AddressState::kSuppressedTemporary);
  EXPECT_EQ(out.source, RecordSource::kManual);
  EXPECT_EQ(out.reason, "mailboxfull");
  EXPECT_EQ(out.state_since, 10);
  EXPECT_EQ(out.suppressed_until, 20);
  t.Put("k", LookupTable::Hash("k"), Head(AddressState::kUnblocked, "userunknown", 30));
  ASSERT_EQ(t.Find("k", LookupTable::Hash("k"), &out), LookupTable::Found::kHead);
  EXPECT_EQ(out.state, AddressState::kUnblocked);
  EXPECT_EQ(out.reason, "userunknown");
  EXPECT_EQ(out.suppressed_until, 0);
  EXPECT_EQ(t.size(), 1u);
}

TEST(LookupTable, EqualHashesAreToldApartByTheKey) {
  LookupTable t;
  LookupHead out;
  for (int i = 0; i < 100; ++i) {
    t.Put("key" + std::to_string(i), 42, Head(AddressState::kSuppressed, "r", i));
  }
  for (int i = 0; i < 100; ++i) {
    ASSERT_EQ(t.Find("key" + std::to_string(i), 42, &out), LookupTable::Found::kHead);
    EXPECT_EQ(out.state_since, i);
  }
  EXPECT_EQ(t.Find("key100", 42, &out), LookupTable::Found::kAbsent);
  EXPECT_EQ(t.Find("key1", 43, &out), LookupTable::Found::kAbsent);
}

TEST(LookupTable, GrowsAndKeepsEverything) {
  LookupTable t;
  LookupHead out;
  for (int i = 0; i < 100000; ++i) {
    const std::string k = "k" + std::to_string(i);
    t.Put(k, LookupTable::Hash(k), Head(AddressState::kSuppressed, i % 2 ? "a" : "b", i));
  }
  EXPECT_EQ(t.size(), 100000u);
  for (int i = 0; i < 100000; i += 7) {
    const std::string k = "k" + std::to_string(i);
    ASSERT_EQ(t.Find(k, LookupTable::Hash(k), &out), LookupTable::Found::kHead);
    EXPECT_EQ(out.state_since, i);
    EXPECT_EQ(out.reason, i % 2 ? "a" : "b");
  }
  EXPECT_LT(t.MemoryBytes(), 100000u * 48 + (4u << 20));  // + the last huge page of each region
}

TEST(LookupTable, WhatItCannotHoldIsLeftToTheStore) {
  LookupTable t;
  LookupHead out;
  t.Put("neg", LookupTable::Hash("neg"), Head(AddressState::kSuppressed, "r", -1));
  t.Put("big", LookupTable::Hash("big"), Head(AddressState::kSuppressedTemporary, "r", 1, 1LL << 33));
  t.PutAskStore("bad", LookupTable::Hash("bad"));
  EXPECT_EQ(t.Find("neg", LookupTable::Hash("neg"), &out), LookupTable::Found::kAskStore);
  EXPECT_EQ(t.Find("big", LookupTable::Hash("big"), &out), LookupTable::Found::kAskStore);
  EXPECT_EQ(t.Find("bad", LookupTable::Hash("bad"), &out), LookupTable::Found::kAskStore);
  // A later head that fits is held again.
  t.Put("neg", LookupTable::Hash("neg"), Head(AddressState::kSuppressed, "r", 5));
  EXPECT_EQ(t.Find("neg", LookupTable::Hash("neg"), &out), LookupTable::Found::kHead);
  // The 65,536th distinct reason has no id ("r" was the first).
  for (int i = 0; i < 65534; ++i) {
    t.Put("x", LookupTable::Hash("x"), Head(AddressState::kSuppressed, std::to_string(i), 1));
  }
  EXPECT_EQ(t.Find("x", LookupTable::Hash("x"), &out), LookupTable::Found::kHead);
  t.Put("y", LookupTable::Hash("y"), Head(AddressState::kSuppressed, "one too many", 1));
  EXPECT_EQ(t.Find("y", LookupTable::Hash("y"), &out), LookupTable::Found::kAskStore);
}

TEST(LookupTable, LongReasonsAreLeftToTheStoreAndTakeNoMemory) {
  LookupTable t;
  LookupHead out;
  t.Put("short", LookupTable::Hash("short"), Head(AddressState::kSuppressed, std::string(64, 'r'), 1));
  EXPECT_EQ(t.Find("short", LookupTable::Hash("short"), &out), LookupTable::Found::kHead);
  EXPECT_EQ(out.reason, std::string(64, 'r'));
  const std::size_t before = t.MemoryBytes();
  for (int i = 0; i < 1000; ++i) {  // 8 MB of distinct reasons, were they held
    const std::string key = "k" + std::to_string(i);
    t.Put(key, LookupTable::Hash(key),
          Head(AddressState::kSuppressed, std::to_string(i) + std::string(8192, 'x'), 1));
    ASSERT_EQ(t.Find(key, LookupTable::Hash(key), &out), LookupTable::Found::kAskStore);
  }
  EXPECT_LT(t.MemoryBytes(), before + (1u << 20));
}

// --- Differential test -----------------------------------------------------------

constexpr std::int64_t kStart = 1700000000;
constexpr std::int64_t kDay = 86400;

std::string Describe(const LookupResult& r) {
  std::ostringstream o;
  o << r.suppressed << ' ' << r.temporary << ' ' << r.domain_level << ' '
    << static_cast<int>(r.state) << ' ' << r.known << ' ' << r.reason << ' '
    << static_cast<int>(r.source) << ' ' << r.since << ' ' << r.until;
  return o.str();
}

std::string DescribeLookup(Store& store, const std::string& address, std::int64_t now) {
  Result<LookupResult> r = store.Lookup(address, now);
  return r.ok() ? Describe(*r) : "error " + r.status().ToString();
}

StoreOptions OptionsAt(const std::string& path, bool index) {
  StoreOptions o;
  o.path = path;
  o.expire_interval_s = 0;
  o.event_retention_days = 3;  // ExpireNow deletes events the index may not have seen
  o.lookup_index = index;
  return o;
}

// Applies one operation line to store; the same lines run in either process.
//   B time address reason hard | C time address | S now address reason until
//   U now address force | I now address state until since | E now | D now domain |
//   d now domain | O now n (n old bounces then an expiry: removes events at once)
std::string Apply(Store& store, const std::string& line) {
  std::istringstream in(line);
  char op;
  std::int64_t now;
  in >> op >> now;
  std::string a, b;
  Status s;
  switch (op) {
    case 'B': {
      int hard;
      in >> a >> b >> hard;
      s = store.Record({Bounce(a, b, hard != 0, now)});
      break;
    }
    case 'C': {
      in >> a;
      BounceEvent ev;
      ev.type = EventType::kComplaint;
      ev.address = a;
      ev.time = now;
      s = store.Record({ev});
      break;
    }
    case 'S': {
      std::int64_t until;
      in >> a >> b >> until;
      s = store.Suppress(a, b, until, "test", now);
      break;
    }
    case 'U': {
      int force;
      in >> a >> force;
      s = store.Unblock(a, force != 0, "test", now).status();
      break;
    }
    case 'I': {
      int state;
      std::int64_t until, since;
      in >> a >> state >> until >> since;
      ImportRow row;
      row.address = a;
      row.state = static_cast<AddressState>(state);
      row.reason = "imported";
      row.until = until;
      row.since = since;
      row.hard_count = 1;
      s = store.Import({row}, "import:test", now);
      break;
    }
    case 'E':
      s = store.ExpireNow(now).status();
      break;
    case 'D':
      in >> a;
      s = store.SuppressDomain(a, "admin", "test", now);
      break;
    case 'd':
      in >> a;
      s = store.UnblockDomain(a, "test", now).status();
      break;
    case 'O': {
      int n;
      in >> n;
      for (int i = 0; i < n && s.ok(); ++i) {
        s = store.Record({Bounce("old" + std::to_string(i) + "@d0.test", "userunknown", true,
                                 now - 10 * kDay)});
      }
      if (s.ok()) s = store.ExpireNow(now).status();
      break;
    }
    default:
      return "bad op";
  }
  return s.ok() ? "ok" : s.ToString();
}

// A process of its own with a Store on the same directory, without the index:
// it answers lookups (the reference) and makes writes (another process's).
class OtherProcess {
 public:
  explicit OtherProcess(const std::string& path) {
    int to_child[2], to_parent[2];
    if (pipe(to_child) != 0 || pipe(to_parent) != 0) std::abort();
    pid_ = fork();
    if (pid_ == 0) {
      close(to_child[1]);
      close(to_parent[0]);
      Serve(path, fdopen(to_child[0], "r"), fdopen(to_parent[1], "w"));
      _exit(0);
    }
    close(to_child[0]);
    close(to_parent[1]);
    to_ = fdopen(to_child[1], "w");
    from_ = fdopen(to_parent[0], "r");
  }
  ~OtherProcess() {
    std::fclose(to_);
    std::fclose(from_);
    int status = 0;
    waitpid(pid_, &status, 0);
  }

  // "L now address" -> Describe(Lookup), else Apply.
  std::string Call(const std::string& line) {
    std::fprintf(to_, "%s\n", line.c_str());
    std::fflush(to_);
    char buf[512];
    if (std::fgets(buf, sizeof buf, from_) == nullptr) return "no answer";
    std::string answer(buf);
    if (!answer.empty() && answer.back() == '\n') answer.pop_back();
    return answer;
  }

 private:
  static void Serve(const std::string& path, FILE* in, FILE* out) {
    Result<std::unique_ptr<Store>> store = Store::Open(OptionsAt(path, false));
    if (!store.ok()) _exit(2);
    char buf[512];
    while (std::fgets(buf, sizeof buf, in) != nullptr) {
      std::string line(buf);
      line.pop_back();
      std::string answer;
      if (line[0] == 'L') {
        std::istringstream ls(line.substr(1));
        std::int64_t now;
        std::string address;
        ls >> now >> address;
        answer = DescribeLookup(**store, address, now);
      } else {
        answer = Apply(**store, line);
      }
      std::fprintf(out, "%s\n", answer.c_str());
      std::fflush(out);
    }
  }

  pid_t pid_;
  FILE* to_ = nullptr;
  FILE* from_ = nullptr;
};

// Waits until the index is exact for the store's current snapshot.
bool WaitCurrent(Store& store, const std::vector<std::string>& wake) {
  for (int i = 0; i < 2000; ++i) {
    Result<std::uint64_t> last = store.LastSequence();
    if (!last.ok()) return false;
    // A lookup in a known domain wakes the maintainer when the index is behind.
    for (const std::string& a : wake) (void)store.Lookup(a, kStart);
    LookupIndexStats st = store.IndexStats();
    if (st.ready && st.seq == *last + 1) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  return false;
}

TEST(LookupIndex, AnswersAsTheDatabaseThroughRandomWritesOfTwoProcesses) {
  TempDir dir;
  const std::string path = dir.Sub("db");
  { ASSERT_TRUE(Store::Open(OptionsAt(path, false)).ok()); }  // created before the fork
  // The child of a fork runs a Store: safe only while no other thread could
  // hold a lock it needs (common/test_child.h).
  ASSERT_EQ(ThreadCount(), 1u);
  OtherProcess other(path);
  Result<std::unique_ptr<Store>> opened = Store::Open(OptionsAt(path, true));
  ASSERT_TRUE(opened.ok());
  Store& store = **opened;

  std::vector<std::string> domains = {"d0.test", "d1.test", "d2.test", "d3.test"};
  std::vector<std::string> addresses;
  for (int i = 0; i < 24; ++i) addresses.push_back("u" + std::to_string(i) + "@" + domains[i % 4]);
  std::vector<std::string> probes = addresses;
  probes.push_back("U3@D3.TEST");                   // normalises to a stored one
  probes.push_back("nobody@d1.test");               // unknown, known domain
  probes.push_back("nobody@unknown.test");          // unknown domain
  probes.push_back("old0@d0.test");                 // written by the 'O' operation
  const char* reasons[] = {"userunknown", "mailboxfull", "hostunknown", "spamdetected"};

  std::mt19937 rng(20261123);
  std::int64_t now = kStart;
  int other_writes = 0, compared = 0;
  for (int step = 0; step < 300; ++step) {
    // 1 to 3 operations before the next comparison: the index is then behind
    // by several events, of either process.
    const int ops = 1 + static_cast<int>(rng() % 3);
    for (int k = 0; k < ops; ++k) {
      now += static_cast<std::int64_t>(rng() % (kDay / 2));
      const std::string& a = addresses[rng() % addresses.size()];
      const std::string& d = domains[rng() % domains.size()];
      std::ostringstream line;
      switch (rng() % 12) {
        case 0: case 1: case 2:  // soft bounces: cross the threshold often
          line << "B " << now << ' ' << a << " mailboxfull 0";
          break;
        case 3:
          line << "B " << now << ' ' << a << ' ' << reasons[rng() % 4] << " 1";
          break;
        case 4:
          line << "C " << now << ' ' << a;
          break;
        case 5:
          line << "U " << now << ' ' << a << ' ' << rng() % 2;
          break;
        case 6:
          line << "S " << now << ' ' << a << " manual" << rng() % 3 << ' '
               << (rng() % 2 ? 0 : now + static_cast<std::int64_t>(rng() % (5 * kDay)) + 1);
          break;
        case 7:
          // Now and then a start past 2106, which the index leaves to the store.
          line << "I " << now << ' ' << a << ' ' << rng() % 4 << ' '
               << now + static_cast<std::int64_t>(rng() % (4 * kDay)) - kDay << ' '
               << (rng() % 4 == 0 ? std::int64_t{5'000'000'000} : 0);
          break;
        case 8:
          now += static_cast<std::int64_t>(rng() % (10 * kDay));  // time moves on
          line << "E " << now;
          break;
        case 9:
          line << "D " << now << ' ' << d;
          break;
        case 10:
          line << "d " << now << ' ' << d;
          break;
        case 11:
          line << "O " << now << ' ' << 1 + rng() % 3;
          break;
      }
      std::string result;
      if (rng() % 3 == 0) {
        result = other.Call(line.str());
        ++other_writes;
      } else {
        result = Apply(store, line.str());
      }
      ASSERT_EQ(result.substr(0, 2), "ok") << line.str() << ": " << result;
    }
    // Right after the writes (the index is behind: the LMDB path) and once
    // the index has caught up (the index path), at several times.
    for (bool caught_up : {false, true}) {
      if (caught_up) {
        ASSERT_TRUE(WaitCurrent(store, {addresses.begin(), addresses.begin() + 4}))
            << "step " << step;
      }
      for (const std::string& p : probes) {
        for (std::int64_t t : {now, now + kDay, now + 30 * kDay}) {
          const std::string want = other.Call("L " + std::to_string(t) + " " + p);
          ASSERT_EQ(DescribeLookup(store, p, t), want)
              << "step " << step << ", " << p << " at " << t << (caught_up ? " (index)" : "");
          ++compared;
        }
      }
    }
  }
  EXPECT_GT(other_writes, 50);
  // 'O' removed events the index had not seen yet at least once: rebuilt.
  EXPECT_GT(store.IndexStats().builds, 1u);
  Result<VerifyReport> v = store.Verify();
  ASSERT_TRUE(v.ok());
  EXPECT_EQ(store.IndexStats().addresses, v->addresses);
  std::printf("%d lookups compared, %d writes by the other process, %llu index builds\n", compared,
              other_writes, static_cast<unsigned long long>(store.IndexStats().builds));
}

TEST(LookupIndex, NotBuiltPastItsBound) {
  TempDir dir;
  StoreOptions options = OptionsAt(dir.Sub("db"), true);
  options.lookup_index_max_addresses = 5;
  Result<std::unique_ptr<Store>> opened = Store::Open(options);
  ASSERT_TRUE(opened.ok());
  Store& store = **opened;
  ASSERT_TRUE(WaitCurrent(store, {"a1@x.test"}));
  for (int i = 0; i < 10; ++i) {
    ASSERT_TRUE(store.Record({Bounce("a" + std::to_string(i) + "@x.test", "userunknown", true,
                                     kStart)}).ok());
  }
  for (int i = 0; i < 200 && store.IndexStats().ready; ++i) {
    (void)store.Lookup("a1@x.test", kStart);
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  EXPECT_FALSE(store.IndexStats().ready);
  EXPECT_EQ(store.IndexStats().addresses, 0u);
  Result<LookupResult> r = store.Lookup("a9@x.test", kStart);
  ASSERT_TRUE(r.ok());
  EXPECT_TRUE(r->suppressed);
}

}  // namespace
}  // namespace bm
