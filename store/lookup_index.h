// The lookup index: every address record's lookup head (what
// DecodeLookupHead gives) in memory, so that Store::Lookup answers without
// the B-tree search in `addresses` (docs/store.md, "What the lookup reads").
// Not a public header; enabled by StoreOptions::lookup_index.
//
// Exactness. Every change of an address record appends an event naming the
// address in the same transaction (LogAndPut in store_ops.cc is the only
// writer of `addresses`), and meta's next_seq counts the events. So two
// snapshots with the same next_seq hold the same address records, and an
// index built "as of next_seq S" answers exactly for any read transaction
// whose next_seq is S. Any other transaction is answered from LMDB.
//
// Freshness. A Store-owned thread (the maintainer) builds the index in the
// background with a chunked scan of `addresses`, then keeps it in step by
// reading the events (S_index, S_store] and re-reading those addresses'
// records: writes of this process and of other processes (bouncectl) are
// seen alike, as they are seen in the database. A lookup that finds the
// index behind its snapshot wakes the maintainer and answers from LMDB.
// Anything the catch-up cannot explain (events removed by retention, an
// event that does not decode, an indexed key without a record) makes the
// maintainer rebuild; a record that does not decode, a time outside
// 1970..2106, a reason longer than 64 bytes or beyond the 65,535th
// distinct one is indexed as
// "ask the store", so that its lookups take the LMDB path and give its
// answer (or its error).
//
// The index belongs to one open Store (Store::Impl owns it and stops its
// thread before the environment closes), so unlike the per-thread domain
// caches it needs no store uid: a reopened store builds a new one.
//
// Threads. Lookups take a shared lock with try_lock and never wait: when the
// maintainer holds it (applying a catch-up, at most a few milliseconds, or
// swapping in a rebuilt table), they answer from LMDB.
//
// Memory: 8 bytes per table slot (0.7 of them used after a build, at most
// 0.8, 0.57 right after a growth) plus 12 bytes per address and its key
// (4-byte domain id + local part): 41.5 bytes per address measured with
// 17-byte keys (store_bench, 1M addresses); the reason texts, at most
// 65,535 of at most 64 bytes, add at most about 6 MiB. Entry offsets are
// 32-bit: the arena holds 4 GiB, at least 50 million addresses whatever
// their keys (hence LookupIndexMaxAddresses' maximum).
// A rebuild holds two tables for its duration. Past `max_addresses` the
// index is dropped and not built again (logged once).
#ifndef BM_STORE_LOOKUP_INDEX_H_
#define BM_STORE_LOOKUP_INDEX_H_

#include <atomic>
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <mutex>
#include <optional>
#include <shared_mutex>
#include <string>
#include <string_view>
#include <thread>
#include <unordered_map>
#include <vector>

#include "store/codec.h"
#include "store/lmdb.h"
#include "store/store.h"

namespace bm {

// meta's next_seq in txn. Errors: kCorruption (absent, malformed), LMDB errors.
Result<std::uint64_t> ReadNextSeq(const lmdb::Txn& txn, MDB_dbi meta);

// A hash table from address keys to lookup heads: open addressing with
// linear probing over 8-byte slots (a 32-bit hash tag and the offset of the
// entry in one arena that holds each entry's head and key). Keys are compared
// in full, so no answer depends on hashes not colliding. Not thread-safe.
class LookupTable {
 public:
  LookupTable() = default;
  ~LookupTable();
  LookupTable(LookupTable&& o) noexcept;
  LookupTable& operator=(LookupTable&& o) noexcept;
  LookupTable(const LookupTable&) = delete;
  LookupTable& operator=(const LookupTable&) = delete;

  static std::uint64_t Hash(std::string_view key);
  // `hash` below is Hash(key); tests pass others to make keys collide.

  enum class Found { kAbsent, kHead, kAskStore };
  // kHead sets *out; its reason points into the table (valid until the next
  // change).
  Found Find(std::string_view key, std::uint64_t hash, LookupHead* out) const;
  // Adds or replaces the head of `key`.
  void Put(std::string_view key, std::uint64_t hash, const LookupHead& head);
  // Marks `key` as "answered by the store" (a record that does not decode).
  void PutAskStore(std::string_view key, std::uint64_t hash);
  // Prepares room for n entries in all (saves the growths of a build).
  void Reserve(std::size_t n);

  std::size_t size() const { return size_; }
  // Bytes allocated: slots, arena, reason vocabulary.
  std::size_t MemoryBytes() const;

 private:
  struct Slot {
    std::uint32_t tag;     // low half of the key's hash; decides the home slot
    std::uint32_t offset;  // of the entry in the arena; 0 = empty slot
  };
  // The arena entry: u8 key size, u8 flags (state, source, ask-store),
  // u16 reason id, u32 state_since, u32 suppressed_until, then the key.
  static constexpr std::size_t kEntryHead = 12;

  // Mapped memory (anonymous, advised to use huge pages: with 4 KiB pages a
  // random probe of a large table costs a TLB miss on top of the cache miss).
  struct Region {
    char* data = nullptr;
    std::size_t bytes = 0;
  };
  static Region Map(std::size_t bytes);
  static void Unmap(Region& r);

  // The home slot of a tag: the tag scaled to the table (a growth moves
  // entries without hashing their keys again).
  std::size_t SlotOf(std::uint32_t tag) const {
    return static_cast<std::size_t>((std::uint64_t{tag} * slot_count_) >> 32);
  }
  Slot* slots() const { return reinterpret_cast<Slot*>(slots_.data); }
  // The slot holding key, or the empty slot where it goes.
  Slot* Probe(std::string_view key, std::uint32_t tag) const;
  // Writes the fixed part of an entry; false when the head needs the store.
  bool Encode(const LookupHead& head, char* entry);
  void Upsert(std::string_view key, std::uint64_t hash, const LookupHead* head);
  void Rehash(std::size_t slot_count);
  void ReserveArena(std::size_t bytes);

  Region slots_;
  std::size_t slot_count_ = 0;
  std::size_t size_ = 0;
  Region arena_;
  std::size_t arena_used_ = 0;
  std::vector<std::string> reasons_;  // reason id -> reason
  std::unordered_map<std::string, std::uint16_t> reason_ids_;
};

class LookupIndex {
 public:
  // How to run a read transaction of the store (Store::Impl::Read).
  using ReadFn = std::function<Status(const std::function<Status(const lmdb::Txn&)>&)>;
  struct Databases {
    MDB_dbi addresses, events, meta;
  };
  // Starts the maintainer, which builds the index in the background.
  LookupIndex(ReadFn read, Databases dbis, std::size_t max_addresses);
  // Stops the maintainer (between two chunks) and joins it.
  ~LookupIndex();
  LookupIndex(const LookupIndex&) = delete;
  LookupIndex& operator=(const LookupIndex&) = delete;

  enum class Answer { kUnavailable, kAbsent, kFound };
  // The head of `key` as seen by `txn`, when the index is exact for txn's
  // snapshot and not busy; kFound calls fn(head) while the head is valid.
  // kUnavailable: ask LMDB. Never blocks.
  template <typename Fn>
  Answer Find(const lmdb::Txn& txn, std::string_view key, Fn&& fn) const {
    const std::uint64_t hash = LookupTable::Hash(key);
    if (exclusive_wanted_.load(std::memory_order_relaxed)) return Answer::kUnavailable;
    std::shared_lock lock(mu_, std::try_to_lock);
    if (!lock.owns_lock() || !Current(txn)) return Answer::kUnavailable;
    LookupHead head;
    switch (table_.Find(key, hash, &head)) {
      case LookupTable::Found::kAbsent: return Answer::kAbsent;
      case LookupTable::Found::kAskStore: return Answer::kUnavailable;
      case LookupTable::Found::kHead: break;
    }
    fn(head);
    return Answer::kFound;
  }

  LookupIndexStats Stats() const;

 private:
  // REQUIRES: mu_ held shared. True when the index is exact for txn's
  // snapshot; wakes the maintainer when the snapshot is newer.
  bool Current(const lmdb::Txn& txn) const;
  void Wake() const;

  // mu_ exclusive, taken so that lookups arriving meanwhile do not try the
  // lock (which would let a stream of them starve the maintainer).
  class ExclusiveHold {
   public:
    explicit ExclusiveHold(const LookupIndex& index);
    ~ExclusiveHold();
    ExclusiveHold(const ExclusiveHold&) = delete;
    ExclusiveHold& operator=(const ExclusiveHold&) = delete;

   private:
    const LookupIndex& index_;
  };

  void Run();
  // A new table from a chunked scan, brought up to date; swapped in.
  Status Build();
  // Applies the events [*pos, next_seq) to table (the live one when live,
  // under the lock) in chunks of short read transactions.
  Status CatchUp(LookupTable* table, bool live, std::uint64_t* pos, std::uint64_t* txn_id);
  bool Stopping() const;

  const ReadFn read_;
  const Databases dbis_;
  const std::size_t max_addresses_;

  // The index: changed by the maintainer under mu_ exclusive.
  mutable std::shared_mutex mu_;
  mutable std::atomic<bool> exclusive_wanted_{false};
  LookupTable table_;
  std::uint64_t seq_ = 0;  // next_seq the table is exact for; 0 = not servable
  // An LMDB transaction id whose snapshot has next_seq == seq_ (a read
  // transaction with that id needs no meta read); kNoTxn = none yet.
  static constexpr std::uint64_t kNoTxn = ~std::uint64_t{0};
  mutable std::atomic<std::uint64_t> verified_txn_{kNoTxn};
  std::uint64_t builds_ = 0;

  // The maintainer's wake-up.
  mutable std::atomic<bool> wanted_{false};
  mutable std::mutex wake_mu_;
  mutable std::condition_variable wake_cv_;
  bool stop_ = false;  // under wake_mu_
  std::atomic<bool> stopping_{false};
  std::thread thread_;
};

}  // namespace bm

#endif  // BM_STORE_LOOKUP_INDEX_H_
