// Crash safety: a child process records bounces continuously and reports each
// committed batch through a pipe; it is killed with SIGKILL at a random
// moment, many times. After every kill the store must open, pass Verify, and
// hold every event the child reported as committed.
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <chrono>
#include <cstring>
#include <random>
#include <thread>

#include "common/test_child.h"
#include "store/store.h"
#include "store/store_test_util.h"

namespace bm {
namespace {

constexpr int kRounds = 25;
constexpr int kBatch = 20;

std::string AddressOf(std::uint64_t id) { return "c" + std::to_string(id) + "@crash.example"; }

// Runs in the child: two threads record batches of hard bounces and write
// the id of each batch's first address to the pipe once Record returned OK.
[[noreturn]] void ChildIngest(const std::string& path, int fd, std::uint64_t base) {
  StoreOptions options;
  options.path = path;
  options.initial_map_bytes = 1 << 20;  // small: growth happens under the kills too
  Result<std::unique_ptr<Store>> store = Store::Open(options);
  if (!store.ok()) _exit(3);
  auto worker = [&](std::uint64_t start) {
    for (std::uint64_t id = start;; id += 2 * kBatch) {
      std::vector<BounceEvent> events;
      for (int i = 0; i < kBatch; ++i) {
        BounceEvent ev;
        ev.address = AddressOf(id + i);
        ev.reason = (id + i) % 3 == 0 ? "mailboxfull" : "userunknown";
        ev.hard = (id + i) % 3 != 0;
        ev.diagnostic = std::string(100 + (id % 200), 'x');
        events.push_back(std::move(ev));
      }
      if (!(*store)->Record(std::move(events)).ok()) _exit(4);
      if (write(fd, &id, sizeof id) != sizeof id) _exit(5);
    }
  };
  std::thread other(worker, base + kBatch);
  worker(base);
  other.join();
  _exit(0);
}

TEST(StoreCrash, EveryReportedCommitSurvivesSigkill) {
  TempDir dir;
  const std::string path = dir.Sub("db");
  std::mt19937 rng(12345);
  std::vector<std::uint64_t> committed;
  for (int round = 0; round < kRounds; ++round) {
    int fds[2];
    ASSERT_EQ(pipe(fds), 0);
    const std::uint64_t base = static_cast<std::uint64_t>(round) * 10'000'000;
    // The child runs a Store after fork(): safe while this process has no
    // other thread; the read-only store of the last round is closed.
    ASSERT_EQ(ThreadCount(), 1u);
    pid_t pid = fork();
    ASSERT_GE(pid, 0);
    if (pid == 0) {
      close(fds[0]);
      ChildIngest(path, fds[1], base);
    }
    close(fds[1]);
    std::this_thread::sleep_for(std::chrono::milliseconds(100 + rng() % 500));
    kill(pid, SIGKILL);
    int status = 0;
    waitpid(pid, &status, 0);
    ASSERT_TRUE(WIFSIGNALED(status)) << "child exited by itself with " << WEXITSTATUS(status);
    std::uint64_t id;
    std::size_t this_round = 0;
    while (read(fds[0], &id, sizeof id) == sizeof id) {
      committed.push_back(id);
      ++this_round;
    }
    close(fds[0]);

    StoreOptions options;
    options.path = path;
    options.read_only = true;
    Result<std::unique_ptr<Store>> store = Store::Open(options);
    ASSERT_TRUE(store.ok()) << "round " << round << ": " << store.status().ToString();
    Result<VerifyReport> report = (*store)->Verify();
    ASSERT_TRUE(report.ok()) << report.status().ToString();
    for (const std::string& p : report->problems) ADD_FAILURE() << "round " << round << ": " << p;
    for (std::uint64_t first : committed) {
      for (int i = 0; i < kBatch; ++i) {
        Result<std::optional<AddressRecord>> rec = (*store)->GetRecord(AddressOf(first + i));
        ASSERT_TRUE(rec.ok() && rec->has_value())
            << "round " << round << ": committed " << AddressOf(first + i) << " is missing";
      }
    }
    EXPECT_GE(report->addresses, committed.size() * kBatch);
    RecordProperty("round" + std::to_string(round), static_cast<int>(this_round));
  }
  EXPECT_GT(committed.size(), static_cast<std::size_t>(kRounds));
}

}  // namespace
}  // namespace bm
