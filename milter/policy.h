// Policy: the configuration and rule table one connection works with, and the
// holder that swaps them atomically on SIGHUP.
//
// A connection takes a snapshot (shared_ptr<const Policy>) when it opens and
// keeps it to the end, so a reload never changes the rules under a running
// transaction; the old snapshot is freed when its last connection closes.
#ifndef BM_MILTER_POLICY_H_
#define BM_MILTER_POLICY_H_

#include <memory>
#include <mutex>
#include <string>

#include "auth/bounce_verifier.h"
#include "common/status.h"
#include "milter/config.h"
#include "rules/rule_table.h"

namespace bm {

// Named ServingPolicy so that its implicit constructors and destructor do
// not share mangled names with the store's bm::Policy (store/policy.h): both
// types live in the daemon, and the linker keeps one definition per name.
// Code in milter/ calls it Policy (the alias), so no file may include both
// this header and store/policy.h.
struct ServingPolicy {
  std::shared_ptr<const Config> config;
  std::shared_ptr<const RuleTable> rules;
  std::shared_ptr<const BounceVerifier> verifier;  // never null after LoadPolicy
};
using Policy = ServingPolicy;

// Loads the config file (or the defaults when config_path is empty) and the
// rules it names (or the embedded rules). All or nothing: any error returns
// the error and no policy.
Result<std::shared_ptr<const Policy>> LoadPolicy(const std::string& config_path);

// Thread-safe: Current() and Replace() may be called from any thread.
class PolicyHolder {
 public:
  explicit PolicyHolder(std::shared_ptr<const Policy> initial) : current_(std::move(initial)) {}
  PolicyHolder(const PolicyHolder&) = delete;
  PolicyHolder& operator=(const PolicyHolder&) = delete;

  std::shared_ptr<const Policy> Current() const {
    std::lock_guard<std::mutex> lock(mu_);
    return current_;
  }
  void Replace(std::shared_ptr<const Policy> next) {
    std::lock_guard<std::mutex> lock(mu_);
    current_.swap(next);
    // The old policy is released outside the lock, when `next` goes out of scope.
  }

 private:
  mutable std::mutex mu_;
  std::shared_ptr<const Policy> current_;
};

}  // namespace bm

#endif  // BM_MILTER_POLICY_H_
