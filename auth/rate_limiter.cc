#include "auth/rate_limiter.h"

#include <algorithm>

namespace bm {

RateLimiter::RateLimiter(RateLimitOptions options) : options_(options) {}

bool RateLimiter::Admit(std::string_view key, Clock::time_point now) {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = buckets_.find(std::string(key));
  if (it == buckets_.end()) {
    if (buckets_.size() >= options_.max_keys) {
      buckets_.erase(lru_.back());
      lru_.pop_back();
    }
    lru_.emplace_front(key);
    it = buckets_.emplace(lru_.front(), Bucket{options_.burst, now, lru_.begin()}).first;
  } else {
    lru_.splice(lru_.begin(), lru_, it->second.lru);
    Bucket& b = it->second;
    if (now > b.refilled) {
      std::chrono::duration<double> elapsed = now - b.refilled;
      b.tokens = std::min(options_.burst, b.tokens + elapsed.count() * options_.per_second);
      b.refilled = now;
    }
  }
  Bucket& b = it->second;
  if (b.tokens < 1.0) return false;
  b.tokens -= 1.0;
  return true;
}

std::size_t RateLimiter::tracked_keys() const {
  std::lock_guard<std::mutex> lock(mu_);
  return buckets_.size();
}

}  // namespace bm
