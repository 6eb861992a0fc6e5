// Internals of Store shared by store.cc (open, reads), store_writer.cc (the
// writer thread and group commit) and store_ops.cc (what each write does).
// Not a public header.
#ifndef BM_STORE_STORE_IMPL_H_
#define BM_STORE_STORE_IMPL_H_

#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "store/codec.h"
#include "store/domain_cache.h"
#include "store/lmdb.h"
#include "store/lookup_index.h"
#include "store/remap_lock.h"
#include "store/store.h"

namespace bm {

// The named databases of the environment (docs/store.md, "Layout").
struct Dbis {
  MDB_dbi addresses;    // AddressKey (domain id + local part) -> AddressRecord
  MDB_dbi domains;      // domain -> DomainRecord (with its id)
  MDB_dbi domain_ids;   // IdKey(domain id) -> domain
  MDB_dbi texts;        // IdKey(text id) -> text
  MDB_dbi text_ids;     // text -> IdKey(text id)
  MDB_dbi events;       // be64 seq -> StoredEvent
  MDB_dbi expiry;       // be64 suppressed_until + AddressKey -> "" (temporary suppressions)
  MDB_dbi sent;         // message-id -> SentEntry
  MDB_dbi sent_expiry;  // be64 expires + message-id -> ""
  MDB_dbi meta;         // "schema" -> "3", "next_seq" -> be64, "domain_gen" (domain_cache.h)
};

// The dictionaries read inside any transaction, remembering the last domain
// resolved (scans visit the addresses of one domain in a row).
class TxnDictionaryReader : public DictionaryReader {
 public:
  TxnDictionaryReader(const lmdb::Txn& txn, const Dbis& dbis) : txn_(&txn), dbis_(dbis) {}
  Result<std::string> Text(std::uint32_t id) override;
  Result<std::string> DomainName(std::uint32_t id) override;
  // The id of a domain, or 0 when it has no entry.
  Result<std::uint32_t> FindDomainId(std::string_view domain);

 private:
  const lmdb::Txn* txn_;
  const Dbis& dbis_;
  std::uint32_t last_id_ = 0;
  std::string last_name_;
};

// The state of one write transaction: record-level helpers that keep the
// expiry index, the event chain, the dictionaries and the sequence counter
// consistent.
class WriteContext : public DictionaryWriter {
 public:
  WriteContext(lmdb::Txn* txn, const Dbis& dbis, std::uint64_t next_seq)
      : txn_(txn), dbis_(dbis), next_seq_(next_seq), reader_(*txn, dbis) {}

  lmdb::Txn& txn() { return *txn_; }
  const Dbis& dbis() const { return dbis_; }
  std::uint64_t next_seq() const { return next_seq_; }
  // True once an LMDB call failed with MDB_MAP_FULL: grow and redo the batch.
  bool map_full() const { return map_full_; }

  // rc -> Status; remembers MDB_MAP_FULL.
  Status Check(int rc, std::string_view what);

  // REQUIRES: address normalised.
  Result<std::optional<AddressRecord>> GetRecord(const std::string& address);
  Result<std::optional<AddressRecord>> GetRecordByKey(std::string_view key);
  // Writes rec, moving its expiry-index entry from `before` (nullptr = new).
  Status PutRecord(const AddressRecord* before, const AddressRecord& rec);
  Result<DomainRecord> GetDomain(std::string_view domain);  // empty record (id 0) when absent
  // Writes d; a new entry (id 0) gets its id here. was_suppressed: d's
  // `suppressed` flag as GetDomain returned it (ignored for a new entry); a
  // change makes FinishDomainGeneration bump the domain generation.
  Status PutDomain(DomainRecord& d, bool was_suppressed);
  // Assigns ev.seq and appends it to the log.
  Status AppendEvent(StoredEvent& ev);
  // Bumps the domain generation (store/domain_cache.h) when this transaction
  // created a domain entry or flipped a domain's suppression. Called once,
  // last, before the commit.
  Status FinishDomainGeneration();

  // DictionaryWriter.
  Result<std::string> Text(std::uint32_t id) override { return reader_.Text(id); }
  Result<std::string> DomainName(std::uint32_t id) override { return reader_.DomainName(id); }
  Result<std::uint32_t> TextId(std::string_view text) override;
  Result<std::uint32_t> DomainId(std::string_view domain) override;

 private:
  Result<std::string> KeyOf(std::string_view address);
  // Next free id of a dictionary (texts or domain_ids), found on first use.
  Result<std::uint32_t> NextId(MDB_dbi dbi, std::uint32_t* next);

  lmdb::Txn* txn_;
  const Dbis& dbis_;
  std::uint64_t next_seq_;
  TxnDictionaryReader reader_;
  std::uint32_t next_text_id_ = 0;    // 0 = not looked up yet
  std::uint32_t next_domain_id_ = 0;  // 0 = not looked up yet
  bool domain_created_ = false;
  bool domain_suppression_flipped_ = false;
  bool map_full_ = false;
};

std::string ExpiryKey(std::int64_t until, std::string_view name);

class Store::Impl {
 public:
  explicit Impl(const StoreOptions& options);
  ~Impl();

  Status Open();

  // Runs fn(txn) in a read transaction, holding the remap lock shared.
  template <typename F>
  Status Read(F&& fn) const {
    for (int attempt = 0;; ++attempt) {
      SharedRemapHold hold(remap_);
      lmdb::Txn txn;
      int rc = lmdb::Txn::Begin(env_, /*read_only=*/true, &txn);
      if (rc == 0) return fn(txn);
      hold.Unlock();
      if (!lmdb::IsMapResized(rc) || attempt > 0) return lmdb::ErrorStatus(rc, "read txn");
      Status s = AdoptMapSize();
      if (!s.ok()) return s;
    }
  }

  // Queues a write for the writer thread and waits for its commit.
  Status Submit(std::function<Status(WriteContext&)> apply);

  // The writer thread's side.
  void WriterLoop();

  StoreOptions options_;
  // Unique in the process (never reused, unlike the address): keys the
  // per-thread domain caches of Lookup.
  const std::uint64_t uid_;
  lmdb::Env env_;
  Dbis dbis_{};
  mutable RemapLock remap_;

  // Queue of the writer thread.
  struct Request {
    std::function<Status(WriteContext&)> apply;
    Status result;
    bool done = false;
  };
  std::mutex mu_;
  std::condition_variable work_cv_;  // writer waits for requests
  std::condition_variable done_cv_;  // callers wait for their request
  std::deque<Request*> queue_;
  using PendingSent = std::map<std::string, std::uint64_t, std::less<>>;
  using PendingLedger = std::vector<std::pair<std::string, SentEntry>>;
  PendingSent pending_sent_;      // CountSent, not yet committed
  PendingLedger pending_ledger_;  // RecordSent, not yet committed
  bool stop_ = false;
  std::thread writer_;
  // When options_.lookup_index; stopped before the writer and the environment.
  std::unique_ptr<LookupIndex> index_;

 private:
  // Another process grew the map: adopt its size.
  Status AdoptMapSize() const;
  Status GrowMap();
  // Commits a batch of requests plus the pending counters and ledger
  // entries, setting each request's result. The counters and entries are
  // committed even when every request fails; what cannot be written is
  // dropped and logged (see ApplyAsyncWrites).
  void CommitBatch(const std::vector<Request*>& batch, PendingSent& sent, PendingLedger& ledger);
  // One write transaction (regrown and redone while the map is full, redone
  // without a counter or ledger entry that cannot be written).
  // *request_failed: a request's own error aborted it.
  Status CommitOnce(const std::vector<Request*>& batch, PendingSent& sent, PendingLedger& ledger,
                    bool* request_failed);
  // Writes the counters and ledger entries. On an error other than a full
  // map it removes and logs what failed — the one entry when the error is
  // its own (kCorruption, kInvalidArgument: a damaged domain entry), all of
  // them otherwise — and returns the error: the caller aborts and redoes the
  // transaction without them.
  Status ApplyAsyncWrites(WriteContext& ctx, PendingSent& sent, PendingLedger& ledger);
};

// The address part of Lookup's answer from an address record's head: the
// one rule for both the LMDB path and the index (a temporary suppression
// whose time has passed counts as lifted).
void ApplyLookupHead(const LookupHead& head, std::int64_t now, LookupResult* out);

// Write operations (store_ops.cc), run by the writer inside a transaction.
Status ApplyBounceEvents(const StoreOptions& options, WriteContext& ctx,
                         const std::vector<BounceEvent>& events);
// Lifts run-out temporary suppressions, deletes log events past retention and
// expired sent-ledger entries, each in bounded batches (*more = work left).
Status ExpireInTxn(const StoreOptions& options, WriteContext& ctx, std::int64_t now,
                   std::uint64_t* lifted, bool* more);
Result<UnblockOutcome> UnblockInTxn(WriteContext& ctx, const std::string& address, bool force,
                                    std::string_view actor, std::int64_t now);
Status SuppressInTxn(WriteContext& ctx, const std::string& address, const std::string& reason,
                     std::int64_t until, std::string_view actor, std::int64_t now);
Status SuppressDomainEntry(WriteContext& ctx, const std::string& domain, const std::string& reason,
                           std::string_view actor, std::int64_t now);
Result<bool> UnblockDomainEntry(WriteContext& ctx, const std::string& domain,
                                std::string_view actor, std::int64_t now);
// REQUIRES: row.address normalised.
Status ImportInTxn(WriteContext& ctx, const ImportRow& row, std::string_view actor,
                   std::int64_t now);

}  // namespace bm

#endif  // BM_STORE_STORE_IMPL_H_
