// What Store::Lookup needs from domain entries, cached per thread so that a
// lookup of a cached domain does one B-tree search (the address) instead of
// two (docs/store.md, "What the lookup reads"). Not a public header.
//
// Validity: every write transaction that creates a domain entry or flips a
// domain's `suppressed` flag bumps a counter in the `meta` database
// ("domain_gen": be64 suppression generation, be64 creation generation;
// absent = 0, 0). A thread remembers the LMDB transaction id at which it last
// read the counters: a read transaction with the same id sees the same
// snapshot and uses the cache as it is; another id costs one read of the
// counters (a small, hot page). Known domains depend on the suppression
// generation only (ids never change, entries are never deleted); "no such
// domain" answers also on the creation generation, so a new domain drops the
// negative answers and keeps the rest. The counters live in the database,
// so writes of other processes (bouncectl) invalidate as well as ours.
#ifndef BM_STORE_DOMAIN_CACHE_H_
#define BM_STORE_DOMAIN_CACHE_H_

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"
#include "store/lmdb.h"

namespace bm {

// The meta key of the counters and their encoding.
inline constexpr std::string_view kDomainGenKey = "domain_gen";
struct DomainGeneration {
  std::uint64_t suppression = 0;  // bumped when a domain's `suppressed` flag flips
  std::uint64_t creation = 0;     // bumped when a domain entry is created
  bool operator==(const DomainGeneration&) const = default;
};
// Absent key = {0, 0}; a value of the wrong size is corruption.
Result<DomainGeneration> ReadDomainGeneration(const lmdb::Txn& txn, MDB_dbi meta);
std::string EncodeDomainGeneration(const DomainGeneration& g);

struct CachedDomain {
  std::uint32_t id = 0;  // 0 = the store has no entry for the domain
  bool suppressed = false;
};

// The calling thread's cache, for one store instance (`store_uid`, unique per
// Store::Impl for the life of the process, so a store reopened at the same
// address never sees the entries of its predecessor; a thread that alternates
// between two stores starts afresh at each switch).
class DomainCache {
 public:
  // Entries kept per thread at most; beyond, new domains are not cached
  // (they are looked up as before) until an invalidation empties the cache.
  // 64-128 bytes of table per entry (half to three quarters empty), plus
  // the name when longer than 22 bytes: at most ~5 MB per thread that looks
  // up, allocated as entries come.
  static constexpr std::size_t kMaxKnown = 65536;
  static constexpr std::size_t kMaxAbsent = 8192;

  // The calling thread's cache, made valid for the snapshot of `txn`.
  static Result<DomainCache*> ForTxn(std::uint64_t store_uid, const lmdb::Txn& txn, MDB_dbi meta);

  // Hash of a domain, for Prefetch, Find and Insert.
  static std::uint64_t Hash(std::string_view domain);
  // Starts loading the slot of `hash`: the caller begins its transaction
  // meanwhile. Callable before ForTxn (a stale cache is only read, not used).
  static void Prefetch(std::uint64_t hash);
  std::optional<CachedDomain> Find(std::string_view domain, std::uint64_t hash) const;
  // REQUIRES: Find(domain) gave nothing.
  void Insert(std::string_view domain, std::uint64_t hash, CachedDomain d);

 private:
  // A set of domain names with a CachedDomain each: open addressing with
  // linear probing over 32-byte slots that hold names of up to 22 bytes
  // themselves (longer ones are kept in one buffer), so that a search
  // usually touches one cache line. An unordered_map of strings took four
  // dependent cache misses, which cost about as much as the B-tree search it
  // saved.
  class Table {
   public:
    explicit Table(std::size_t max_entries) : max_entries_(max_entries) {}
    void Prefetch(std::uint64_t hash) const;
    const CachedDomain* Find(std::string_view name, std::uint64_t hash) const;
    // No-op when full. REQUIRES: name not in the table.
    void Insert(std::string_view name, std::uint64_t hash, CachedDomain d);
    void Clear();  // and frees the memory

   private:
    static constexpr std::size_t kInline = 22;
    struct alignas(32) Slot {
      std::uint32_t hash = 0;     // high half of the name's hash
      CachedDomain value;         // 8 bytes
      std::uint8_t name_size = 0;  // 0 = empty slot (names are 1-255 bytes)
      char name[kInline + 1];     // the name, or (longer) its offset in names_
    };
    std::string_view NameOf(const Slot& slot) const;

    std::size_t max_entries_;
    std::size_t size_ = 0;
    // Grows by doubling, keeping at least half of the slots empty, so that a
    // thread that looks up few domains allocates a few KB, not the full
    // table.
    static constexpr std::size_t kInitialSlots = 64;
    void Grow();
    std::vector<Slot> slots_;  // a power of two, or empty
    std::string names_;        // names longer than kInline
  };

  std::uint64_t store_uid_ = 0;       // 0 = none yet (uids start at 1)
  std::uint64_t checked_txn_id_ = 0;  // snapshot at which generation_ was read
  DomainGeneration generation_;
  Table known_{kMaxKnown};    // domains with an entry
  Table absent_{kMaxAbsent};  // domains without one
};

}  // namespace bm

#endif  // BM_STORE_DOMAIN_CACHE_H_
