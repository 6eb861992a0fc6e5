#include "auth/rate_limiter.h"

#include <atomic>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

namespace bm {
namespace {

using Clock = RateLimiter::Clock;
using std::chrono::milliseconds;
using std::chrono::seconds;

int AdmittedOf(RateLimiter& limiter, const std::string& key, int attempts, Clock::time_point t) {
  int admitted = 0;
  for (int i = 0; i < attempts; ++i) admitted += limiter.Admit(key, t);
  return admitted;
}

TEST(RateLimiterTest, BurstThenRefillAtTheConfiguredRate) {
  RateLimiter limiter({.per_second = 2.0, .burst = 5.0, .max_keys = 10});
  Clock::time_point t0{};
  EXPECT_EQ(AdmittedOf(limiter, "192.0.2.1", 100, t0), 5);
  EXPECT_EQ(AdmittedOf(limiter, "192.0.2.1", 100, t0 + milliseconds(499)), 0);
  EXPECT_EQ(AdmittedOf(limiter, "192.0.2.1", 100, t0 + milliseconds(500)), 1);
  EXPECT_EQ(AdmittedOf(limiter, "192.0.2.1", 100, t0 + seconds(2)), 3);
  // A long pause refills to the burst, not beyond.
  EXPECT_EQ(AdmittedOf(limiter, "192.0.2.1", 100, t0 + seconds(3600)), 5);
}

TEST(RateLimiterTest, KeysAreIndependent) {
  RateLimiter limiter({.per_second = 1.0, .burst = 3.0, .max_keys = 10});
  Clock::time_point t0{};
  EXPECT_EQ(AdmittedOf(limiter, "192.0.2.1", 10, t0), 3);
  EXPECT_EQ(AdmittedOf(limiter, "192.0.2.2", 10, t0), 3);
  EXPECT_EQ(AdmittedOf(limiter, "example.net", 10, t0), 3);
  EXPECT_EQ(limiter.tracked_keys(), 3u);
}

TEST(RateLimiterTest, TimeGoingBackwardsAddsNothing) {
  RateLimiter limiter({.per_second = 1.0, .burst = 2.0, .max_keys = 10});
  Clock::time_point t0 = Clock::time_point{} + seconds(100);
  EXPECT_EQ(AdmittedOf(limiter, "k", 5, t0), 2);
  EXPECT_EQ(AdmittedOf(limiter, "k", 5, t0 - seconds(50)), 0);
  EXPECT_EQ(AdmittedOf(limiter, "k", 5, t0 + seconds(1)), 1);
}

TEST(RateLimiterTest, TrackedKeysAreBoundedLeastRecentlyUsedFirst) {
  RateLimiter limiter({.per_second = 0.001, .burst = 1.0, .max_keys = 3});
  Clock::time_point t0{};
  EXPECT_TRUE(limiter.Admit("a", t0));
  EXPECT_TRUE(limiter.Admit("b", t0));
  EXPECT_TRUE(limiter.Admit("c", t0));
  EXPECT_FALSE(limiter.Admit("a", t0));  // "a" is now the most recently used
  EXPECT_TRUE(limiter.Admit("d", t0));   // evicts "b"
  EXPECT_EQ(limiter.tracked_keys(), 3u);
  EXPECT_FALSE(limiter.Admit("a", t0));  // still tracked, still empty
  EXPECT_FALSE(limiter.Admit("c", t0));
  EXPECT_TRUE(limiter.Admit("b", t0));   // forgotten, so a full bucket again
  for (int i = 0; i < 10000; ++i) limiter.Admit("flood-" + std::to_string(i), t0);
  EXPECT_EQ(limiter.tracked_keys(), 3u);
}

TEST(RateLimiterTest, ConcurrentCallersNeverExceedTheBurst) {
  RateLimiter limiter({.per_second = 0.001, .burst = 500.0, .max_keys = 100});
  Clock::time_point t0{};
  std::atomic<int> admitted{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < 1000; ++i) {
        admitted += limiter.Admit("203.0.113.7", t0);
        limiter.Admit("other-" + std::to_string(i % 50), t0);
      }
    });
  }
  for (std::thread& t : threads) t.join();
  EXPECT_EQ(admitted.load(), 500);
}

}  // namespace
}  // namespace bm
