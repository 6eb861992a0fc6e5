// Store: the LMDB suppression store of bounce-milter.
//
// One LMDB environment (a directory holding data.mdb and lock.mdb) with named
// databases for address records, domain entries and counters, the event log,
// the temporary-suppression expiry index, the sent-message ledger and
// metadata. docs/store.md describes the layout, the policy and durability.
//
// Thread safety: a Store is shared by any number of threads.
//  - Reads (Lookup, Get*, LookupSent, ForEach*, Stats, Verify) run in LMDB
//    read transactions in the calling thread: they take no lock the writer
//    holds and never wait for a write transaction or an fsync. The only
//    exclusion is the remap lock (store/remap_lock.h), taken exclusively
//    for the few milliseconds of a map resize (LMDB remaps the file then).
//  - Every write goes through ONE writer thread owned by the Store. Callers
//    enqueue a request and wait for its commit; the writer applies all the
//    requests queued at that moment in one write transaction with one fsync
//    (group commit). When that transaction fails, each request is retried in
//    a transaction of its own so that one bad request fails alone.
//  - CountSent and RecordSent are asynchronous: they queue and return; the
//    writer commits them with the next transaction, at most
//    StoreOptions::flush_interval_ms later, on their own when every request
//    of that transaction fails. A crash may lose those counts or ledger
//    entries, never a recorded bounce. One that cannot be written (a damaged
//    domain entry) is dropped and logged; it fails no request. Flush() waits
//    for them.
//  - With StoreOptions::lookup_index, another thread of the Store builds
//    and maintains the in-memory lookup index (store/lookup_index.h);
//    Lookup uses it without waiting for it.
// Several processes (the milter and bouncectl) may open the same store at
// once; LMDB serialises their write transactions.
//
// A read-only thread that holds its own LMDB read transaction must not call
// Lookup recursively (LMDB allows one read transaction per thread per env).
#ifndef BM_STORE_STORE_H_
#define BM_STORE_STORE_H_

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"
#include "store/address.h"
#include "store/policy.h"
#include "store/records.h"

namespace bm {

// The directory used when no --db / configuration says otherwise.
inline constexpr const char* kDefaultStorePath = "/var/lib/bounce-milter/store";

struct StoreOptions {
  std::string path = kDefaultStorePath;  // directory; created (mode 0750) if missing
  bool read_only = false;                // open without the writer (no writes allowed)
  std::size_t initial_map_bytes = std::size_t{64} << 20;  // first map size (64 MiB)
  std::size_t max_map_bytes = std::size_t{256} << 30;     // growth stops here (256 GiB)
  AddressNormalization normalization;
  Policy policy;
  int event_retention_days = 365;  // ExpireNow deletes older log events; 0 keeps all
  std::size_t max_diagnostic_bytes = 512;  // diagnostics are cut to this when stored
  int flush_interval_ms = 1000;    // CountSent/RecordSent are committed at least this often
  int expire_interval_s = 60;      // the writer runs ExpireNow this often; 0 = never
  unsigned max_readers = 1024;     // LMDB reader slots (threads reading at once, all processes)
  // Lookup answers from an in-memory index of the address records, built
  // by a thread of the Store in the background and kept in step with the
  // event log (docs/store.md, "What the lookup reads"); the answers are the
  // same. For long-running readers (the milter), not one-shot commands.
  bool lookup_index = false;
  // Stores with more addresses are not indexed (logged once): about 40
  // bytes of memory per address (docs/store.md).
  std::size_t lookup_index_max_addresses = 10'000'000;
};

// Answer of the milter's RCPT check.
struct LookupResult {
  bool suppressed = false;
  bool temporary = false;     // suppressed-temporary; `until` says when it ends
  bool domain_level = false;  // the whole domain is suppressed
  AddressState state = AddressState::kActive;  // of the address record (kActive if none)
  bool known = false;         // an address record exists
  std::string reason;
  RecordSource source = RecordSource::kBounce;
  std::int64_t since = 0;
  std::int64_t until = 0;  // temporary only
};

enum class UnblockOutcome {
  kUnblocked,     // the suppression was lifted
  kNotSuppressed, // nothing to lift (unknown, active or already unblocked)
  kNeedsForce,    // permanent suppression and force was false: unchanged
};

// A row of an import: the fields a CRM list carries. Empty/zero = unknown.
struct ImportRow {
  std::string address;
  AddressState state = AddressState::kSuppressed;
  std::string reason;
  std::int64_t since = 0;   // state_since / first_bounce; 0 = now
  std::int64_t until = 0;   // for kSuppressedTemporary
  std::uint32_t hard_count = 0;
  std::uint32_t soft_count = 0;
  std::uint32_t complaint_count = 0;
  std::string diagnostic;
};

// Filters for ForEachRecord / ForEachChangedSince. Empty = any.
struct RecordFilter {
  std::optional<AddressState> state;
  std::string reason;
  std::string domain;  // exact receiving domain (normalised)
  bool Matches(const AddressRecord& r) const;
};

struct StoreStats {
  std::uint64_t addresses = 0;
  std::vector<std::pair<std::string, std::uint64_t>> by_state;   // state name -> count
  std::vector<std::pair<std::string, std::uint64_t>> by_reason;  // suppressed records only
  std::vector<std::pair<std::string, std::uint64_t>> top_domains;  // suppressed, top 20
  std::uint64_t suppressed_domains = 0;
  std::uint64_t bounces_last_day = 0;  // bounce + complaint events
  std::uint64_t bounces_last_week = 0;
  std::uint64_t events = 0;
  std::uint64_t last_seq = 0;
  std::uint64_t sent_ledger_entries = 0;
  std::size_t map_bytes = 0;   // current map size
  std::size_t used_bytes = 0;  // pages in use * page size
};

// State of the lookup index (StoreOptions::lookup_index).
struct LookupIndexStats {
  bool enabled = false;
  bool ready = false;        // exact for the snapshots whose next_seq is `seq`
  std::uint64_t seq = 0;
  std::uint64_t addresses = 0;
  std::size_t memory_bytes = 0;
  std::uint64_t builds = 0;  // full scans completed (the first, then rebuilds)
};

struct VerifyReport {
  std::uint64_t addresses = 0, domains = 0, events = 0, expiry_entries = 0, sent_entries = 0;
  std::vector<std::string> problems;  // empty when consistent
};

class Store {
 public:
  // Opens (creating if needed) the store at options.path and starts the
  // writer thread. A schema 2 store is upgraded to schema 3 in the opening
  // transaction when opened with write access, and read as it is when
  // opened read-only (docs/store.md, UPGRADING). Errors: kInvalidArgument
  // (bad options), kIOError (cannot create/open), kCorruption (any other
  // schema: older, newer or foreign).
  static Result<std::unique_ptr<Store>> Open(const StoreOptions& options);
  // Stops the writer after committing everything queued.
  ~Store();
  Store(const Store&) = delete;
  Store& operator=(const Store&) = delete;

  const StoreOptions& options() const;

  // --- Reads -----------------------------------------------------------------
  // The RCPT check: is mail to `address` suppressed at `now`? Consults the
  // address record and the domain entry. A temporary suppression whose time
  // has passed counts as lifted even before ExpireNow runs. An address that
  // does not normalise is not suppressed (kInvalidArgument is returned so the
  // caller can log it). Errors otherwise: kIOError/kCorruption from LMDB.
  Result<LookupResult> Lookup(std::string_view address, std::int64_t now) const;
  // The record, or nullopt when the address is unknown.
  Result<std::optional<AddressRecord>> GetRecord(std::string_view address) const;
  Result<std::optional<DomainRecord>> GetDomain(std::string_view domain) const;
  // Newest first, at most `limit` events of one address (its history chain).
  Result<std::vector<StoredEvent>> History(std::string_view address, std::size_t limit) const;
  // Recipients of a message recorded with RecordSent, or nullopt when unknown
  // or expired at `now`.
  Result<std::optional<std::vector<std::string>>> LookupSent(std::string_view message_id,
                                                            std::int64_t now) const;
  // Highest event sequence number committed so far (0 = empty log).
  Result<std::uint64_t> LastSequence() const;

  // Calls fn for every record matching filter, in key order, until fn
  // returns false. Key order groups the addresses by receiving domain, the
  // domains in the order the store first saw them, local parts sorted
  // bytewise within one; a domain filter reads that domain's range only.
  // Reads in chunks of short read transactions, so a long
  // listing neither pins old pages nor blocks a map resize; a record changed
  // while the listing runs is seen in either its old or its new version.
  Status ForEachRecord(const RecordFilter& filter,
                       const std::function<bool(const AddressRecord&)>& fn) const;
  // The CRM feed: calls fn once for every record matching filter that changed
  // after event `since` (exclusive) up to the last event at the start of the
  // call, in event order. Returns the cursor to resume from (that last event):
  // successive calls see each change exactly once. Constant memory.
  Result<std::uint64_t> ForEachChangedSince(std::uint64_t since, const RecordFilter& filter,
                                            const std::function<bool(const AddressRecord&)>& fn) const;
  // Domain entries (suppressed domains only when suppressed_only).
  Status ForEachDomain(bool suppressed_only,
                       const std::function<bool(const DomainRecord&)>& fn) const;
  // Counts for `bouncectl stats`; full scan, for the CLI, not the milter.
  Result<StoreStats> Stats(std::int64_t now) const;
  LookupIndexStats IndexStats() const;
  // Decodes every entry and checks the cross-references (mdb_stat-like plus
  // record-level checks). OK with problems listed = inconsistent but readable.
  Result<VerifyReport> Verify() const;

  // --- Writes (all REQUIRE !options().read_only) -------------------------------
  // Records bounces and complaints through the writer (group commit). Returns
  // once they are committed and fsync'd: OK means durable. Errors:
  // kInvalidArgument (an address that does not normalise, a missing reason:
  // nothing of this call is recorded), kIOError/kUnavailable (not recorded;
  // the milter answers TEMPFAIL).
  Status Record(std::vector<BounceEvent> events);
  // Adds n recipients sent to the domain of each call. Asynchronous, see above.
  void CountSent(std::string_view domain, std::uint64_t n);
  // Remembers the recipients of an outgoing message for ttl_seconds from now.
  // Asynchronous, see above. Long inputs are bounded (1000 recipients).
  void RecordSent(std::string_view message_id, std::vector<std::string> recipients,
                  std::int64_t ttl_seconds, std::int64_t now);
  // Waits until everything queued so far (including CountSent/RecordSent) is committed.
  Status Flush();

  // Lifts temporary suppressions that ran out, deletes log events older than
  // the retention and expired sent-ledger entries. Returns the number of
  // suppressions lifted.
  Result<std::uint64_t> ExpireNow(std::int64_t now);
  // Lifts the suppression of an address; a permanent one only when force.
  // actor names who asked (logged in the event).
  Result<UnblockOutcome> Unblock(std::string_view address, bool force, std::string_view actor,
                                 std::int64_t now);
  // Suppresses an address by hand: permanently when until == 0, otherwise
  // temporarily until `until`. Errors: kInvalidArgument (address, empty reason).
  Status Suppress(std::string_view address, std::string_view reason, std::int64_t until,
                  std::string_view actor, std::int64_t now);
  // Suppresses / lifts a whole receiving domain.
  Status SuppressDomain(std::string_view domain, std::string_view reason, std::string_view actor,
                        std::int64_t now);
  Result<bool> UnblockDomain(std::string_view domain, std::string_view actor, std::int64_t now);
  // Merges rows into the store in one transaction (callers batch; a few
  // thousand rows per call). Merging never lifts a suppression: the stronger
  // state wins, counters take the maximum, first time the minimum.
  // Errors: kInvalidArgument naming the first row that does not validate
  // (nothing of this call is applied).
  Status Import(const std::vector<ImportRow>& rows, std::string_view actor, std::int64_t now);

 private:
  class Impl;
  explicit Store(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace bm

#endif  // BM_STORE_STORE_H_
