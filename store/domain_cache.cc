#include "store/domain_cache.h"

#include <algorithm>
#include <cstring>
#include <functional>

namespace bm {

Result<DomainGeneration> ReadDomainGeneration(const lmdb::Txn& txn, MDB_dbi meta) {
  std::string_view value;
  int rc = txn.Get(meta, kDomainGenKey, &value);
  if (rc == MDB_NOTFOUND) return DomainGeneration{};  // a store no write has bumped yet
  if (rc != 0) return lmdb::ErrorStatus(rc, "read domain_gen");
  if (value.size() != 16) return Status::Corruption("bad domain_gen");
  return DomainGeneration{lmdb::DecodeU64Key(value), lmdb::DecodeU64Key(value.substr(8))};
}

std::string EncodeDomainGeneration(const DomainGeneration& g) {
  return lmdb::EncodeU64Key(g.suppression) + lmdb::EncodeU64Key(g.creation);
}

namespace {
// The thread's cache (function-local so that Prefetch and ForTxn share it).
DomainCache& ThreadCache() {
  thread_local DomainCache cache;
  return cache;
}
}  // namespace

Result<DomainCache*> DomainCache::ForTxn(std::uint64_t store_uid, const lmdb::Txn& txn,
                                         MDB_dbi meta) {
  DomainCache& cache = ThreadCache();
  const std::uint64_t txn_id = mdb_txn_id(txn.get());
  if (cache.store_uid_ == store_uid && cache.checked_txn_id_ == txn_id) return &cache;
  Result<DomainGeneration> gen = ReadDomainGeneration(txn, meta);
  if (!gen.ok()) return gen.status();
  if (cache.store_uid_ != store_uid || gen->suppression != cache.generation_.suppression) {
    cache.known_.Clear();
    cache.absent_.Clear();
  } else if (gen->creation != cache.generation_.creation) {
    cache.absent_.Clear();
  }
  cache.store_uid_ = store_uid;
  cache.checked_txn_id_ = txn_id;
  cache.generation_ = *gen;
  return &cache;
}

std::uint64_t DomainCache::Hash(std::string_view domain) {
  return std::hash<std::string_view>{}(domain);
}

void DomainCache::Prefetch(std::uint64_t hash) { ThreadCache().known_.Prefetch(hash); }

std::optional<CachedDomain> DomainCache::Find(std::string_view domain, std::uint64_t hash) const {
  if (const CachedDomain* d = known_.Find(domain, hash)) return *d;
  if (absent_.Find(domain, hash)) return CachedDomain{};
  return std::nullopt;
}

void DomainCache::Insert(std::string_view domain, std::uint64_t hash, CachedDomain d) {
  (d.id == 0 ? absent_ : known_).Insert(domain, hash, d);
}

std::string_view DomainCache::Table::NameOf(const Slot& slot) const {
  if (slot.name_size <= kInline) return std::string_view(slot.name, slot.name_size);
  std::uint32_t offset;
  std::memcpy(&offset, slot.name, sizeof offset);
  return std::string_view(names_).substr(offset, slot.name_size);
}

void DomainCache::Table::Prefetch(std::uint64_t hash) const {
  if (!slots_.empty()) __builtin_prefetch(&slots_[hash & (slots_.size() - 1)]);
}

const CachedDomain* DomainCache::Table::Find(std::string_view name, std::uint64_t hash) const {
  if (slots_.empty()) return nullptr;
  const std::size_t mask = slots_.size() - 1;
  const auto tag = static_cast<std::uint32_t>(hash >> 32);
  for (std::size_t i = hash & mask;; i = (i + 1) & mask) {
    const Slot& slot = slots_[i];
    if (slot.name_size == 0) return nullptr;
    if (slot.hash == tag && NameOf(slot) == name) return &slot.value;
  }
}

void DomainCache::Table::Insert(std::string_view name, std::uint64_t hash, CachedDomain d) {
  if (size_ == max_entries_ || name.empty() || name.size() > 255) return;
  if (2 * (size_ + 1) > slots_.size()) Grow();
  const std::size_t mask = slots_.size() - 1;
  std::size_t i = hash & mask;
  while (slots_[i].name_size != 0) i = (i + 1) & mask;
  Slot& slot = slots_[i];
  slot.hash = static_cast<std::uint32_t>(hash >> 32);
  slot.value = d;
  slot.name_size = static_cast<std::uint8_t>(name.size());
  if (name.size() <= kInline) {
    std::memcpy(slot.name, name.data(), name.size());
  } else {
    const auto offset = static_cast<std::uint32_t>(names_.size());
    std::memcpy(slot.name, &offset, sizeof offset);
    names_.append(name);
  }
  ++size_;
}

void DomainCache::Table::Grow() {
  std::vector<Slot> old = std::move(slots_);
  slots_.assign(std::max(kInitialSlots, 2 * old.size()), Slot{});
  const std::size_t mask = slots_.size() - 1;
  for (const Slot& slot : old) {
    if (slot.name_size == 0) continue;
    std::size_t i = Hash(NameOf(slot)) & mask;
    while (slots_[i].name_size != 0) i = (i + 1) & mask;
    slots_[i] = slot;
  }
}

void DomainCache::Table::Clear() {
  slots_ = {};
  names_ = {};
  size_ = 0;
}

}  // namespace bm
