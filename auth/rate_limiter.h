// RateLimiter: token buckets keyed by a string (a client IP address, a
// claimed reporting domain), with a bounded number of keys.
//
// Each key has a bucket of `burst` tokens refilled at `per_second` tokens a
// second; Admit() takes one token or says no. When max_keys keys are
// tracked, the least recently used one is forgotten (it starts again with a
// full bucket if it comes back), so memory stays bounded whatever a flood of
// distinct keys does. The milter keeps one limiter per client IP and one per
// claimed reporting domain, and consults them before parsing a bounce whose
// return-path tag did not verify (verified bounces bypass them, so a flood
// of forgeries cannot crowd out real bounces); see docs/security.md.
//
// Thread safety: all methods may be called from any number of threads.
#ifndef BM_AUTH_RATE_LIMITER_H_
#define BM_AUTH_RATE_LIMITER_H_

#include <chrono>
#include <cstddef>
#include <list>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>

namespace bm {

struct RateLimitOptions {
  double per_second = 1.0;       // sustained rate per key; REQUIRES: > 0
  double burst = 60.0;           // bucket size; REQUIRES: >= 1
  std::size_t max_keys = 100000; // keys tracked at once (~150 bytes each); REQUIRES: >= 1
};

class RateLimiter {
 public:
  using Clock = std::chrono::steady_clock;

  explicit RateLimiter(RateLimitOptions options);
  RateLimiter(const RateLimiter&) = delete;
  RateLimiter& operator=(const RateLimiter&) = delete;

  // True when `key` may pass now (one token taken), false when its bucket
  // is empty. Time must not go backwards between calls for one key (a
  // steady clock); a time in the past of a key's last refill adds nothing.
  bool Admit(std::string_view key, Clock::time_point now);

  std::size_t tracked_keys() const;
  const RateLimitOptions& options() const { return options_; }

 private:
  struct Bucket {
    double tokens;
    Clock::time_point refilled;
    std::list<std::string>::iterator lru;  // position in lru_
  };

  const RateLimitOptions options_;
  mutable std::mutex mu_;
  std::list<std::string> lru_;  // most recently used first
  std::unordered_map<std::string, Bucket> buckets_;
};

}  // namespace bm

#endif  // BM_AUTH_RATE_LIMITER_H_
