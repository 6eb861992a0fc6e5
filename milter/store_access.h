// StoreAccess: the daemon's one door to the suppression store (store/).
//
// Opens the store lazily, with the StorePath and policy keys of the
// configuration (milter/config_store.h), and keeps the daemon serving while
// it cannot be opened: every call then fails with kUnavailable, and another
// open is tried at most once per retry interval. Once open, the store stays
// open until Reopen() or Close().
//
// Thread safety: all methods may be called from any number of threads. Each
// call holds a shared lock for its duration; Reopen() and Close() take it
// exclusively, and so does the call that opens the store: a call may then
// wait for the store to be closed and opened (disk I/O), which MayWait()
// tells in advance.
#ifndef BM_MILTER_STORE_ACCESS_H_
#define BM_MILTER_STORE_ACCESS_H_

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <shared_mutex>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"
#include "milter/config.h"
#include "parser/bounce_report.h"
#include "rules/rule_table.h"

namespace bm {

class Store;
struct StoreOptions;  // store/store.h, kept out of this header (milter/config_store.h says why)

// What outbound mail needs to know about one recipient.
struct RecipientStatus {
  bool refused = false;    // suppressed now (permanently or temporarily)
  bool temporary = false;  // a temporary suppression (suppressed_until in the future)
  std::string state;       // store state name, e.g. "suppressed"
  std::string reason;
  std::int64_t since = 0;  // first time it was suppressed / first bounce, unix seconds
  std::int64_t until = 0;  // end of a temporary suppression, unix seconds
};

class StoreAccess {
 public:
  // The store as the configuration describes it (StorePath, the policy
  // keys, LookupIndex, LookupIndexMaxAddresses, StoreRetryInterval).
  explicit StoreAccess(const Config& config);
  // For tests that must tell the store writer's periodic commit of
  // RecordSent/CountSent from another: it runs every flush_interval_ms
  // (StoreOptions::flush_interval_ms) instead of the store's default, also
  // after Reopen.
  StoreAccess(const Config& config, int flush_interval_ms);
  // The store at `path` with the default policy.
  StoreAccess(std::string path, int retry_seconds);
  ~StoreAccess();
  StoreAccess(const StoreAccess&) = delete;
  StoreAccess& operator=(const StoreAccess&) = delete;

  // Tries to open now (at start-up, so a problem is logged at once).
  Status Open();
  // For a reload that changed StorePath or a store policy key: waits for the
  // calls in progress, closes the store and opens it with the options of
  // `config` (one process may not hold the store open twice, so the calls
  // that arrive meanwhile wait a few milliseconds). When the new open
  // fails, the error is returned and the daemon goes on as with a store
  // that cannot be opened (On-StoreError; retried every StoreRetryInterval).
  Status Reopen(const Config& config);
  // For shutdown: waits for the calls in progress, then closes the store
  // (its writer commits what is queued). Later calls fail with kUnavailable.
  void Close();

  // True when a call may wait for the store to be opened: it is not open
  // (not yet, during an outage, after Close()), or a Reopen(), a Close() or
  // an open holds or waits for the exclusive lock. Cheap (two atomic
  // loads). Otherwise calls wait only for what the store's own contract
  // says (store/store.h: reads take no lock the writer holds; RecordReport
  // and LookupSent's flush wait for a commit). A hint: a Reopen() may begin
  // just after it answered false.
  bool MayWait() const { return exclusive_.load() > 0 || !open_.load(); }

  Result<RecipientStatus> Check(std::string_view address, std::int64_t now);
  // Durable when it returns OK (the store's group commit).
  Status RecordReport(const BounceReport& report,
                      const std::vector<ClassifiedRecipient>& classified, std::int64_t now);
  Status CountSent(std::string_view domain, std::uint64_t recipients);
  // The sent-message ledger, keyed by Message-ID or queue id. RecordSent is
  // asynchronous (the store commits it within its flush interval).
  // LookupSent answers, for each of `keys` in order, the recipients of its
  // entry, or nullopt when the store has none. When no entry found is
  // `wanted` (without `wanted`, any entry is), it commits the pending entries
  // once and looks again, so a bounce that comes back within a second still
  // finds its message.
  using SentEntries = std::vector<std::optional<std::vector<std::string>>>;
  using SentWanted = std::function<bool(const std::vector<std::string>& recipients)>;
  Status RecordSent(std::string_view key, const std::vector<std::string>& recipients,
                    std::int64_t ttl_seconds, std::int64_t now);
  Result<SentEntries> LookupSent(const std::vector<std::string>& keys, std::int64_t now,
                                 const SentWanted& wanted = nullptr);

 private:
  StoreAccess(std::unique_ptr<const StoreOptions> options, int retry_seconds,
              std::optional<int> flush_interval_ms);
  class ExclusiveLock;  // mu_ held exclusively, counted in exclusive_

  // Runs fn(Store&) under the shared lock, opening the store first if it is
  // not open; returns kUnavailable (as fn's return type) when it cannot be.
  template <typename Fn>
  auto WithStore(Fn&& fn);
  // Opens the store unless it is open, closed for good, or the last attempt
  // is younger than the retry interval. Takes the lock exclusively.
  Status OpenIfDue();
  // OpenIfDue's work. REQUIRES: mu_ held exclusively.
  Status OpenLocked();
  // Why no open may be attempted at `now` (closed for good, or the last
  // attempt is younger than the retry interval); OK when one may.
  // REQUIRES: mu_ held, shared or exclusively.
  Status WhyNoAttempt(std::int64_t now) const;

  std::unique_ptr<const StoreOptions> options_;  // guarded by mu_ (replaced by Reopen)
  const int retry_seconds_;
  const std::optional<int> flush_interval_ms_;  // the store's default when unset
  std::shared_mutex mu_;
  std::unique_ptr<Store> store_;   // guarded by mu_
  bool closed_ = false;            // guarded by mu_
  std::int64_t last_attempt_ = 0;  // guarded by mu_
  std::atomic<bool> open_{false};  // store_ is set; written under mu_
  // Threads that hold mu_ exclusively or wait for it (Reopen, Close, an
  // open): a call may wait for them even while open_ is set, as when an
  // open completes while a Reopen waits to close that store again.
  std::atomic<int> exclusive_{0};
};

}  // namespace bm

#endif  // BM_MILTER_STORE_ACCESS_H_
