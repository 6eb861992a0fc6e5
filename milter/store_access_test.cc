// StoreAccess over a real store in a temporary directory: the configuration's
// policy reaches the store, a reload's Reopen applies a changed policy,
// MayWait() tells while a Reopen is under way, and Close() leaves later
// calls unavailable.
#include "milter/store_access.h"

#include <gtest/gtest.h>

#include <fcntl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <filesystem>
#include <mutex>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "common/test_child.h"
#include "common/test_log_capture.h"
#include "milter/config_store.h"
#include "milter/config_test_util.h"
#include "store/lmdb.h"
#include "store/store.h"
#include "store/store_test_util.h"

namespace bm {
namespace {

constexpr std::int64_t kDay = 86400;
constexpr std::int64_t kT0 = 1700000000;
// A store writer flush interval no test lasts: only an explicit commit writes.
constexpr int kNoPeriodicFlushMs = 3600 * 1000;

// A DSN with one transient failure (mailbox full) for `address`.
Status RecordSoftBounce(StoreAccess& store, const std::string& address, std::int64_t now) {
  BounceReport report;
  report.kind = ReportKind::kDsn;
  ClassifiedRecipient r;
  r.facts.address = address;
  r.facts.action = "failed";
  r.facts.status = "4.2.2";
  r.classification.reason = "mailboxfull";
  r.classification.bounce_class = BounceClass::kTransient;
  r.classification.hard = false;
  report.recipients.push_back(r.facts);
  return store.RecordReport(report, {r}, now);
}

class StoreAccessTest : public ::testing::Test {
 protected:
  Config WithStore(const std::string& text) {
    return LoadTestConfig(text + "StorePath " + dir_.Sub("store") + "\n");
  }
  TempDir dir_;
};

TEST_F(StoreAccessTest, ConfiguredThresholdAndReopenWithANewOne) {
  StoreAccess store(WithStore("SoftBounceThreshold 2\n"));
  ASSERT_TRUE(store.Open().ok());
  ASSERT_TRUE(RecordSoftBounce(store, "kim@example.org", kT0).ok());
  EXPECT_FALSE(store.Check("kim@example.org", kT0)->refused);
  ASSERT_TRUE(RecordSoftBounce(store, "kim@example.org", kT0 + kDay).ok());
  Result<RecipientStatus> kim = store.Check("kim@example.org", kT0 + kDay);
  ASSERT_TRUE(kim.ok());
  EXPECT_TRUE(kim->refused);
  EXPECT_TRUE(kim->temporary);

  // A reload raises the threshold to 3: the next address needs three.
  ASSERT_TRUE(store.Reopen(WithStore("SoftBounceThreshold 3\n")).ok());
  ASSERT_TRUE(RecordSoftBounce(store, "lee@example.org", kT0).ok());
  ASSERT_TRUE(RecordSoftBounce(store, "lee@example.org", kT0 + kDay).ok());
  EXPECT_FALSE(store.Check("lee@example.org", kT0 + kDay)->refused);
  ASSERT_TRUE(RecordSoftBounce(store, "lee@example.org", kT0 + 2 * kDay).ok());
  EXPECT_TRUE(store.Check("lee@example.org", kT0 + 2 * kDay)->refused);
  // What was recorded before the reopen is still there.
  EXPECT_TRUE(store.Check("kim@example.org", kT0 + kDay)->refused);
}

TEST_F(StoreAccessTest, ClosedStaysClosed) {
  StoreAccess store(WithStore(""));
  ASSERT_TRUE(store.Open().ok());
  store.Close();
  Result<RecipientStatus> status = store.Check("kim@example.org", kT0);
  ASSERT_FALSE(status.ok());
  EXPECT_EQ(status.status().code(), Status::Code::kUnavailable);
  EXPECT_EQ(RecordSoftBounce(store, "kim@example.org", kT0).code(),
            Status::Code::kUnavailable);
  EXPECT_FALSE(store.Reopen(WithStore("")).ok());
}

// A recipient the store cannot key (a local part over 64 bytes, as long SRS
// and VERP addresses have) is logged and skipped, never a store error: the
// MTA would retry the bounce forever. Alone or beside a good recipient.
TEST_F(StoreAccessTest, UnkeyableRecipientDoesNotFailTheBounce) {
  StoreAccess store(WithStore("SoftBounceThreshold 1\n"));
  ASSERT_TRUE(store.Open().ok());
  const std::string too_long = "SRS0=" + std::string(70, 'x') + "@example.org";
  EXPECT_TRUE(RecordSoftBounce(store, too_long, kT0).ok());

  BounceReport report;
  report.kind = ReportKind::kDsn;
  std::vector<ClassifiedRecipient> classified;
  for (const std::string& address : {too_long, std::string("kim@example.org")}) {
    ClassifiedRecipient r;
    r.facts.address = address;
    r.facts.action = "failed";
    r.classification.reason = "mailboxfull";
    r.classification.bounce_class = BounceClass::kTransient;
    report.recipients.push_back(r.facts);
    classified.push_back(r);
  }
  EXPECT_TRUE(store.RecordReport(report, classified, kT0).ok());
  EXPECT_TRUE(store.Check("kim@example.org", kT0)->refused);
}

using Recipients = std::vector<std::string>;

TEST_F(StoreAccessTest, LookupSentAnswersEachKeyInOrder) {
  StoreAccess store(WithStore(""));
  ASSERT_TRUE(store.Open().ok());
  ASSERT_TRUE(store.RecordSent("m1@example.org", {"a@example.org"}, kDay, kT0).ok());
  ASSERT_TRUE(store.RecordSent("m2@example.org", {"b@example.org"}, kDay, kT0).ok());
  // Pending entries are committed once when no key has one.
  Result<StoreAccess::SentEntries> sent =
      store.LookupSent({"m2@example.org", "none@example.org", "m1@example.org"}, kT0);
  ASSERT_TRUE(sent.ok()) << sent.status().ToString();
  EXPECT_EQ(*sent, (StoreAccess::SentEntries{Recipients{"b@example.org"}, std::nullopt,
                                             Recipients{"a@example.org"}}));
  sent = store.LookupSent({}, kT0);
  ASSERT_TRUE(sent.ok());
  EXPECT_TRUE(sent->empty());
}

// An entry found that is not the one wanted (a reused Message-ID) does not
// stop the one commit of pending entries that a wanted one may be among.
// The store's writer also commits pending entries once its flush interval has
// passed: an hour here, so the commit that finds Q1 can only be LookupSent's.
TEST_F(StoreAccessTest, LookupSentCommitsWhenNoEntryFoundIsWanted) {
  StoreAccess store(WithStore(""), kNoPeriodicFlushMs);
  ASSERT_TRUE(store.Open().ok());
  ASSERT_TRUE(store.RecordSent("reused@example.org", {"a@example.org"}, kDay, kT0).ok());
  ASSERT_TRUE(store.LookupSent({"none@example.org"}, kT0).ok());  // commits it
  ASSERT_TRUE(store.RecordSent(" queue-id:Q1@mx.example.org", {"b@example.org"}, kDay, kT0).ok());
  auto lists_b = [](const Recipients& r) { return r == Recipients{"b@example.org"}; };
  Result<StoreAccess::SentEntries> sent =
      store.LookupSent({"reused@example.org", " queue-id:Q1@mx.example.org"}, kT0, lists_b);
  ASSERT_TRUE(sent.ok()) << sent.status().ToString();
  EXPECT_EQ(*sent, (StoreAccess::SentEntries{Recipients{"a@example.org"},
                                             Recipients{"b@example.org"}}));
}

// The flush interval a test sets outlives a reload's Reopen: an entry recorded
// after it stays queued past the store's default interval. Nothing else
// writes meanwhile, so data.mdb changes only if the writer commits it.
TEST_F(StoreAccessTest, FlushIntervalIsKeptAcrossReopen) {
  StoreAccess store(WithStore(""), kNoPeriodicFlushMs);
  ASSERT_TRUE(store.Open().ok());
  ASSERT_TRUE(store.Reopen(WithStore("SoftBounceThreshold 2\n")).ok());
  const std::filesystem::path data = std::filesystem::path(dir_.Sub("store")) / "data.mdb";
  const auto before = std::filesystem::last_write_time(data);
  ASSERT_TRUE(store.RecordSent("m@example.org", {"a@example.org"}, kDay, kT0).ok());
  std::this_thread::sleep_for(std::chrono::milliseconds(StoreOptions().flush_interval_ms * 3 / 2));
  EXPECT_EQ(std::filesystem::last_write_time(data), before) << "committed by the periodic flush";
  // LookupSent's own commit still finds it.
  Result<StoreAccess::SentEntries> sent = store.LookupSent({"m@example.org"}, kT0);
  ASSERT_TRUE(sent.ok()) << sent.status().ToString();
  EXPECT_EQ(*sent, (StoreAccess::SentEntries{Recipients{"a@example.org"}}));
  EXPECT_NE(std::filesystem::last_write_time(data), before);
}

// Each milter worker thread holds an LMDB reader slot while it lives, and
// the workers stay within twice MaxConnections (docs/store.md, Reader
// slots). With that many threads holding one at the highest MaxConnections,
// another process (bouncectl) still reads the store.
TEST_F(StoreAccessTest, ReaderSlotsServeTwiceMaxConnectionsThreadsAndBouncectl) {
  const Config config = WithStore("MaxConnections 1000\nSoftBounceThreshold 1\n");
  const std::size_t threads = 2 * config.max_connections;
  int go[2];
  ASSERT_EQ(pipe(go), 0);
  // Forked before any thread starts (its Store after fork() would otherwise
  // risk a lock held by a vanished thread); waits until every worker holds a slot.
  ASSERT_EQ(ThreadCount(), 1u);
  const pid_t pid = fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    close(go[1]);
    char c;
    if (read(go[0], &c, 1) != 1) _exit(2);
    // As bouncectl opens it: read-only, with the configuration's options.
    StoreOptions options = StoreOptionsFromConfig(config);
    options.read_only = true;
    Result<std::unique_ptr<Store>> store = Store::Open(options);
    if (!store.ok()) _exit(3);
    Result<LookupResult> kim = (*store)->Lookup("kim@example.org", kT0);
    _exit(!kim.ok() ? 4 : kim->suppressed ? 0 : 5);
  }
  close(go[0]);

  StoreAccess store(config);
  ASSERT_TRUE(store.Open().ok());
  ASSERT_TRUE(RecordSoftBounce(store, "kim@example.org", kT0).ok());
  std::atomic<std::size_t> refused{0}, failed{0};
  std::mutex mu;
  std::condition_variable cv;
  std::size_t looked = 0;
  bool release = false;
  std::vector<std::thread> workers;
  for (std::size_t i = 0; i < threads; ++i) {
    workers.emplace_back([&] {
      Result<RecipientStatus> kim = store.Check("kim@example.org", kT0);
      if (!kim.ok()) {
        failed.fetch_add(1);
      } else if (kim->refused) {
        refused.fetch_add(1);
      }
      // Alive, so keeping the slot, until the other process has read.
      std::unique_lock lock(mu);
      ++looked;
      cv.notify_all();
      cv.wait(lock, [&] { return release; });
    });
  }
  {
    std::unique_lock lock(mu);
    cv.wait(lock, [&] { return looked == threads; });
  }
  // No ASSERT until the workers are released: a joinable thread must not be destroyed.
  EXPECT_EQ(write(go[1], "g", 1), 1);
  close(go[1]);
  int status = 0;
  const bool waited = waitpid(pid, &status, 0) == pid;
  {
    std::lock_guard lock(mu);
    release = true;
  }
  cv.notify_all();
  for (std::thread& t : workers) t.join();
  EXPECT_EQ(failed.load(), 0u);
  EXPECT_EQ(refused.load(), threads);
  ASSERT_TRUE(waited);
  ASSERT_TRUE(WIFEXITED(status));
  EXPECT_EQ(WEXITSTATUS(status), 0) << "2: no go, 3: open failed, 4: lookup failed, 5: not suppressed";
}

// A child process (like bouncectl in a long write): holds the write lock of
// the store at args[0] after writing a byte to descriptor args[1], until
// descriptor args[2] reaches end of file. Exits 0, or 2 when it could not
// take the lock, 3 when a descriptor failed.
int HoldWriteLock(const std::vector<std::string>& args) {
  if (args.size() != 3) return 2;
  lmdb::Env env;
  if (!env.Open(args[0], StoreOptions().initial_map_bytes, 16, kStoreMaxReaders, false).ok()) {
    return 2;
  }
  lmdb::Txn txn;
  if (lmdb::Txn::Begin(env, false, &txn) != 0) return 2;
  char c = 'h';
  if (write(std::stoi(args[1]), &c, 1) != 1) return 3;
  return read(std::stoi(args[2]), &c, 1) == 0 ? 0 : 3;
}
const ChildRole kHoldWriteLock("store_access.hold_write_lock", &HoldWriteLock);

// Runs HoldWriteLock for the store at `path` until Release(). Start it
// while this process has no other thread, which could start a process of
// its own that inherits the pipes.
class WriteLockHolder {
 public:
  explicit WriteLockHolder(const std::string& path) {
    int held[2], release[2];
    if (pipe(held) != 0 || pipe(release) != 0) return;  // Holding() is false
    // Only the child's ends are inherited: a later child must not hold
    // this one's release descriptor open.
    fcntl(held[0], F_SETFD, FD_CLOEXEC);
    fcntl(release[1], F_SETFD, FD_CLOEXEC);
    pid_ = StartChild("store_access.hold_write_lock",
                      {path, std::to_string(held[1]), std::to_string(release[0])});
    close(held[1]);
    close(release[0]);
    held_ = held[0];
    release_ = release[1];
  }
  ~WriteLockHolder() {
    Release();
    if (held_ >= 0) close(held_);
  }
  WriteLockHolder(const WriteLockHolder&) = delete;
  WriteLockHolder& operator=(const WriteLockHolder&) = delete;

  // Waits until the child holds the lock; false when it will not.
  bool Holding() {
    char c;
    return pid_ > 0 && read(held_, &c, 1) == 1;
  }
  // Lets the lock go: the child's exit status (0: it held the lock until now).
  int Release() {
    if (release_ < 0) return -1;
    close(release_);
    release_ = -1;
    return pid_ > 0 ? WaitChild(pid_) : -1;
  }

 private:
  pid_t pid_ = -1;
  int held_ = -1, release_ = -1;
};

// MayWait() stays true while a Reopen() waits for or holds the exclusive
// lock, also when an open by another thread completes meanwhile: a call
// made in the milter's event loop would wait for the Reopen's close and
// open (disk I/O), and every connection with it. Another process holds the
// write lock of each store, so that each open waits (for its first write
// transaction) until the test lets it go on.
TEST_F(StoreAccessTest, MayWaitWhileAReopenWaitsBehindAnOpen) {
  using std::chrono::milliseconds;
  const Config first = WithStore("");
  const Config second = LoadTestConfig("StorePath " + dir_.Sub("second") + "\n");
  for (const Config* config : {&first, &second}) {
    StoreAccess store(*config);
    ASSERT_TRUE(store.Open().ok());
    store.Close();
  }
  ASSERT_EQ(ThreadCount(), 1u);
  WriteLockHolder first_lock(first.store_path), second_lock(second.store_path);
  ASSERT_TRUE(first_lock.Holding());
  ASSERT_TRUE(second_lock.Holding());

  StoreAccess store(first);
  // A lookup opens the store (a worker's, the store being down): it holds
  // the exclusive lock, waiting for the first store's write lock.
  std::thread lookup([&] { EXPECT_TRUE(store.Check("kim@example.org", kT0).ok()); });
  std::this_thread::sleep_for(milliseconds(300));
  // A reload's Reopen waits for that open.
  std::thread reopen([&] { EXPECT_TRUE(store.Reopen(second).ok()); });
  std::this_thread::sleep_for(milliseconds(300));
  // The open completes; the Reopen closes that store again and opens the
  // second, which waits.
  EXPECT_EQ(first_lock.Release(), 0);
  std::this_thread::sleep_for(milliseconds(300));
  EXPECT_TRUE(store.MayWait()) << "a Reopen holds the exclusive lock";
  EXPECT_EQ(second_lock.Release(), 0);
  reopen.join();
  lookup.join();
  EXPECT_FALSE(store.MayWait());
}

// Overwrites the domain entries of `domains` in the closed store at `path`
// with bytes no decoder accepts, as a disk fault would.
void DamageDomainEntries(const std::string& path, const std::vector<std::string>& domains) {
  lmdb::Env env;
  ASSERT_TRUE(env.Open(path, std::size_t{64} << 20, 16, 16, /*read_only=*/false).ok());
  lmdb::Txn txn;
  ASSERT_EQ(lmdb::Txn::Begin(env, false, &txn), 0);
  MDB_dbi dbi;
  ASSERT_EQ(lmdb::OpenDbi(txn, "domains", false, &dbi), 0);
  for (const std::string& domain : domains) {
    ASSERT_EQ(txn.Put(dbi, domain, std::string("\x02\xff\xff", 3)), 0);
  }
  ASSERT_EQ(txn.Commit(), 0);
}

// The milter counts the mail sent to a domain at every commit, about once a
// second: a damaged domain entry drops that count each time, logged once per
// 60 flush intervals per domain (a minute in the daemon), the next line
// saying how many drops it held back.
TEST_F(StoreAccessTest, DroppedSentCountsOfADamagedDomainAreLoggedOncePerQuietInterval) {
  constexpr int kFlushMs = 10;  // so the quiet interval is 600 ms
  {
    StoreAccess store(WithStore(""));
    ASSERT_TRUE(store.CountSent("y.example", 1).ok());
    ASSERT_TRUE(store.CountSent("w.example", 1).ok());
    store.Close();  // commits them; the domains have entries now
  }
  DamageDomainEntries(dir_.Sub("store"), {"y.example", "w.example"});

  LogCapture log;
  const auto start = std::chrono::steady_clock::now();
  {
    StoreAccess store(WithStore(""), kFlushMs);
    while (std::chrono::steady_clock::now() - start < std::chrono::milliseconds(2000)) {
      EXPECT_TRUE(store.CountSent("y.example", 1).ok());
      EXPECT_TRUE(store.CountSent("w.example", 2).ok());
      std::this_thread::sleep_for(std::chrono::milliseconds(kFlushMs / 2));
    }
    store.Close();
  }
  const auto elapsed = std::chrono::steady_clock::now() - start;

  for (const std::string domain : {"y.example", "w.example"}) {
    std::vector<std::string> lines;
    std::istringstream in(log.Text());
    for (std::string line; std::getline(in, line);) {
      if (line.find("sent count of " + domain + ":") != std::string::npos) lines.push_back(line);
    }
    // About 200 drops in 2 s; a line at the first and then at most one per 600 ms.
    ASSERT_GE(lines.size(), 2u) << log.Text();
    EXPECT_LE(lines.size(), 1 + static_cast<std::size_t>(elapsed / std::chrono::milliseconds(600)))
        << log.Text();
    EXPECT_NE(lines[0].find("corruption"), std::string::npos) << lines[0];
    EXPECT_EQ(lines[0].find("not logged"), std::string::npos) << lines[0];
    EXPECT_NE(lines[1].find(" more drops of "), std::string::npos) << lines[1];
    EXPECT_NE(lines[1].find("recipients not logged since its previous line"), std::string::npos)
        << lines[1];
  }
}

// With more damaged domains held back than the bound, the quiet ones are
// forgotten to make room, each with a line for the drops held back for it.
TEST_F(StoreAccessTest, ADamagedDomainForgottenForRoomLogsItsHeldBackDrops) {
  constexpr int kFlushMs = 50;  // so the quiet interval is 3 s
  constexpr int kDomains = 1001;  // one more than the writer holds back at once
  auto name = [](int i) { return "d" + std::to_string(i) + ".example"; };
  std::vector<std::string> domains;
  {
    StoreAccess store(WithStore(""));
    for (int i = 0; i < kDomains; ++i) {
      domains.push_back(name(i));
      ASSERT_TRUE(store.CountSent(domains.back(), 1).ok());
    }
    store.Close();
  }
  DamageDomainEntries(dir_.Sub("store"), domains);

  LogCapture log;
  {
    StoreAccess store(WithStore(""), kFlushMs);
    auto count_first = [&](int n) {
      for (int i = 0; i < n; ++i) EXPECT_TRUE(store.CountSent(domains[i], 1).ok());
      std::this_thread::sleep_for(std::chrono::milliseconds(4 * kFlushMs));  // committed
    };
    count_first(kDomains - 1);  // logged; every slot taken
    count_first(kDomains - 1);  // held back, one drop each
    std::this_thread::sleep_for(std::chrono::milliseconds(60 * kFlushMs + 200));
    EXPECT_TRUE(store.CountSent(domains.back(), 1).ok());  // needs room
    store.Close();
  }
  const std::string text = log.Text();
  for (int i : {0, 500, kDomains - 2}) {
    EXPECT_NE(text.find("1 more drops of 1 recipients from the sent count of " + name(i) +
                        " not logged"),
              std::string::npos)
        << name(i) << "\n" << text.substr(0, 2000);
  }
  EXPECT_NE(text.find("sent count of " + domains.back() + ":"), std::string::npos);
}

}  // namespace
}  // namespace bm
