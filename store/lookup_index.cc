#include "store/lookup_index.h"

#include <sys/mman.h>

#include <algorithm>
#include <chrono>
#include <cstring>
#include <functional>
#include <limits>
#include <new>
#include <utility>

#include <spdlog/spdlog.h>

namespace bm {
namespace {

constexpr std::size_t kMaxKeyBytes = 255;       // entry's u8 key size; lookups use <= 68
constexpr std::size_t kMaxReasons = 65535;      // u16 reason ids
// Longer reasons (an admin's or a CRM's own words; the vocabulary's are
// under 20 bytes) are left to the store, so that the reason texts held stay
// within kMaxReasons * kMaxReasonBytes (4 MiB) whatever was imported.
constexpr std::size_t kMaxReasonBytes = 64;
constexpr std::uint8_t kAskStore = 0x10;        // flag: the lookup takes the LMDB path
constexpr std::size_t kMinSlots = 64;
constexpr std::size_t kScanChunk = 10000;   // records per read transaction of a build
constexpr std::size_t kEventChunk = 10000;  // events per read transaction of a catch-up
constexpr std::size_t kHugePage = std::size_t{2} << 20;

std::size_t RoundUp(std::size_t n, std::size_t to) { return (n + to - 1) / to * to; }

// A time the entry holds in 32 bits (1970..2106), or false.
bool Time32(std::int64_t t, std::uint32_t* out) {
  if (t < 0 || t > std::numeric_limits<std::uint32_t>::max()) return false;
  *out = static_cast<std::uint32_t>(t);
  return true;
}

}  // namespace

Result<std::uint64_t> ReadNextSeq(const lmdb::Txn& txn, MDB_dbi meta) {
  std::string_view value;
  int rc = txn.Get(meta, "next_seq", &value);
  if (rc != 0) {
    return rc == MDB_NOTFOUND ? Status::Corruption("no next_seq") : lmdb::ErrorStatus(rc, "meta");
  }
  if (value.size() != 8) return Status::Corruption("bad next_seq");
  return lmdb::DecodeU64Key(value);
}

// --- LookupTable ---------------------------------------------------------------

LookupTable::~LookupTable() {
  Unmap(slots_);
  Unmap(arena_);
}

LookupTable::LookupTable(LookupTable&& o) noexcept { *this = std::move(o); }

LookupTable& LookupTable::operator=(LookupTable&& o) noexcept {
  std::swap(slots_, o.slots_);
  std::swap(slot_count_, o.slot_count_);
  std::swap(size_, o.size_);
  std::swap(arena_, o.arena_);
  std::swap(arena_used_, o.arena_used_);
  std::swap(reasons_, o.reasons_);
  std::swap(reason_ids_, o.reason_ids_);
  return *this;
}

LookupTable::Region LookupTable::Map(std::size_t bytes) {
  Region r;
  // Huge pages for the large tables only: a small store's index stays small.
  bytes = RoundUp(bytes, bytes >= kHugePage ? kHugePage : 4096);
  void* p = ::mmap(nullptr, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (p == MAP_FAILED) throw std::bad_alloc();
  ::madvise(p, bytes, MADV_HUGEPAGE);  // a hint; fine when refused
  r.data = static_cast<char*>(p);
  r.bytes = bytes;
  return r;
}

void LookupTable::Unmap(Region& r) {
  if (r.data != nullptr) ::munmap(r.data, r.bytes);
  r = Region{};
}

std::uint64_t LookupTable::Hash(std::string_view key) {
  return std::hash<std::string_view>{}(key);
}

LookupTable::Slot* LookupTable::Probe(std::string_view key, std::uint32_t tag) const {
  Slot* s = slots();
  for (std::size_t i = SlotOf(tag);; i = i + 1 == slot_count_ ? 0 : i + 1) {
    Slot& slot = s[i];
    if (slot.offset == 0) return &slot;
    if (slot.tag != tag) continue;
    const char* entry = arena_.data + slot.offset;
    const auto size = static_cast<std::uint8_t>(entry[0]);
    if (size == key.size() && std::memcmp(entry + kEntryHead, key.data(), size) == 0) return &slot;
  }
}

LookupTable::Found LookupTable::Find(std::string_view key, std::uint64_t hash,
                                     LookupHead* out) const {
  if (slot_count_ == 0) return Found::kAbsent;
  const Slot* slot = Probe(key, static_cast<std::uint32_t>(hash));
  if (slot->offset == 0) return Found::kAbsent;
  const char* entry = arena_.data + slot->offset;
  const auto flags = static_cast<std::uint8_t>(entry[1]);
  if (flags & kAskStore) return Found::kAskStore;
  std::uint16_t reason;
  std::uint32_t since, until;
  std::memcpy(&reason, entry + 2, 2);
  std::memcpy(&since, entry + 4, 4);
  std::memcpy(&until, entry + 8, 4);
  out->state = static_cast<AddressState>(flags & 3);
  out->source = static_cast<RecordSource>((flags >> 2) & 3);
  out->reason = reasons_[reason];
  out->state_since = since;
  out->suppressed_until = until;
  return Found::kHead;
}

bool LookupTable::Encode(const LookupHead& head, char* entry) {
  std::uint32_t since, until;
  if (!Time32(head.state_since, &since) || !Time32(head.suppressed_until, &until)) return false;
  if (head.reason.size() > kMaxReasonBytes) return false;
  auto it = reason_ids_.find(std::string(head.reason));
  std::uint16_t reason;
  if (it != reason_ids_.end()) {
    reason = it->second;
  } else {
    if (reasons_.size() == kMaxReasons) return false;
    reason = static_cast<std::uint16_t>(reasons_.size());
    reasons_.emplace_back(head.reason);
    reason_ids_.emplace(reasons_.back(), reason);
  }
  entry[1] = static_cast<char>(static_cast<std::uint8_t>(head.state) |
                               static_cast<std::uint8_t>(head.source) << 2);
  std::memcpy(entry + 2, &reason, 2);
  std::memcpy(entry + 4, &since, 4);
  std::memcpy(entry + 8, &until, 4);
  return true;
}

void LookupTable::Put(std::string_view key, std::uint64_t hash, const LookupHead& head) {
  Upsert(key, hash, &head);
}

void LookupTable::PutAskStore(std::string_view key, std::uint64_t hash) {
  Upsert(key, hash, nullptr);
}

void LookupTable::Upsert(std::string_view key, std::uint64_t hash, const LookupHead* head) {
  if (key.size() > kMaxKeyBytes) return;  // no lookup asks for it (see kMaxKeyBytes)
  if ((size_ + 1) * 5 > slot_count_ * 4) Rehash(std::max(kMinSlots, (size_ + 1) * 7 / 4));
  Slot* slot = Probe(key, static_cast<std::uint32_t>(hash));
  if (slot->offset == 0) {
    ReserveArena(arena_used_ + kEntryHead + key.size());
    if (arena_used_ == 0) arena_used_ = 1;  // offset 0 marks an empty slot
    char* entry = arena_.data + arena_used_;
    entry[0] = static_cast<char>(key.size());
    std::memcpy(entry + kEntryHead, key.data(), key.size());
    slot->tag = static_cast<std::uint32_t>(hash);
    slot->offset = static_cast<std::uint32_t>(arena_used_);
    arena_used_ += kEntryHead + key.size();
    ++size_;
  }
  char* entry = arena_.data + slot->offset;
  if (head == nullptr || !Encode(*head, entry)) entry[1] = static_cast<char>(kAskStore);
}

void LookupTable::Reserve(std::size_t n) {
  // 70 % full: room for new addresses before the first growth.
  if (n * 10 > slot_count_ * 7) Rehash(std::max(kMinSlots, n * 10 / 7 + 1));
}

void LookupTable::Rehash(std::size_t slot_count) {
  Region old = slots_;
  const std::size_t old_count = slot_count_;
  slots_ = Map(slot_count * sizeof(Slot));
  slot_count_ = slot_count;
  const Slot* from = reinterpret_cast<const Slot*>(old.data);
  for (std::size_t i = 0; i < old_count; ++i) {
    if (from[i].offset == 0) continue;
    // Keys are distinct: the first empty slot from the home slot.
    Slot* s = slots();
    std::size_t j = SlotOf(from[i].tag);
    while (s[j].offset != 0) j = j + 1 == slot_count_ ? 0 : j + 1;
    s[j] = from[i];
  }
  Unmap(old);
}

void LookupTable::ReserveArena(std::size_t bytes) {
  if (bytes <= arena_.bytes) return;
  // Offsets are 32-bit: 4 GiB of entries is ~100 million addresses, far past
  // any max_addresses the index is run with.
  if (bytes > std::numeric_limits<std::uint32_t>::max()) throw std::bad_alloc();
  std::size_t want = std::max(bytes, arena_.bytes + arena_.bytes / 2);
  want = RoundUp(want, want >= kHugePage ? kHugePage : 4096);
  if (arena_.data == nullptr) {
    arena_ = Map(want);
    return;
  }
  void* p = ::mremap(arena_.data, arena_.bytes, want, MREMAP_MAYMOVE);
  if (p == MAP_FAILED) throw std::bad_alloc();
  ::madvise(p, want, MADV_HUGEPAGE);
  arena_.data = static_cast<char*>(p);
  arena_.bytes = want;
}

std::size_t LookupTable::MemoryBytes() const {
  std::size_t reasons = 0;
  for (const std::string& r : reasons_) reasons += sizeof(r) + r.capacity() + 32;
  // The arena's tail past arena_used_ is mapped but never touched.
  return slots_.bytes + arena_used_ + reasons;
}

// --- LookupIndex ---------------------------------------------------------------

LookupIndex::LookupIndex(ReadFn read, Databases dbis, std::size_t max_addresses)
    : read_(std::move(read)), dbis_(dbis), max_addresses_(max_addresses) {
  thread_ = std::thread([this] { Run(); });
}

LookupIndex::~LookupIndex() {
  {
    std::lock_guard lock(wake_mu_);
    stop_ = true;
    stopping_.store(true, std::memory_order_relaxed);
  }
  wake_cv_.notify_one();
  thread_.join();
}

bool LookupIndex::Stopping() const { return stopping_.load(std::memory_order_relaxed); }

void LookupIndex::Wake() const {
  if (wanted_.exchange(true, std::memory_order_acq_rel)) return;  // woken already
  std::lock_guard lock(wake_mu_);
  wake_cv_.notify_one();
}

bool LookupIndex::Current(const lmdb::Txn& txn) const {
  if (seq_ == 0) return false;
  const std::uint64_t txn_id = mdb_txn_id(txn.get());
  if (verified_txn_.load(std::memory_order_relaxed) == txn_id) return true;
  Result<std::uint64_t> next = ReadNextSeq(txn, dbis_.meta);
  if (!next.ok()) return false;  // the LMDB path reports what is wrong
  if (*next != seq_) {
    // Older snapshots (a transaction begun before the last catch-up) just
    // take the LMDB path; newer ones need a catch-up.
    if (*next > seq_) Wake();
    return false;
  }
  verified_txn_.store(txn_id, std::memory_order_relaxed);
  return true;
}

LookupIndex::ExclusiveHold::ExclusiveHold(const LookupIndex& index) : index_(index) {
  // Lookups see the flag and stop taking the lock: the maintainer gets it as
  // soon as the lookups inside leave, however many threads look up.
  index_.exclusive_wanted_.store(true, std::memory_order_relaxed);
  index_.mu_.lock();
}

LookupIndex::ExclusiveHold::~ExclusiveHold() {
  index_.mu_.unlock();
  index_.exclusive_wanted_.store(false, std::memory_order_relaxed);
}

LookupIndexStats LookupIndex::Stats() const {
  std::shared_lock lock(mu_);
  LookupIndexStats info;
  info.enabled = true;
  info.ready = seq_ != 0;
  info.seq = seq_;
  info.addresses = table_.size();
  info.memory_bytes = table_.MemoryBytes();
  info.builds = builds_;
  return info;
}

Status LookupIndex::Build() {
  LookupTable table;
  std::uint64_t start_seq = 0;
  std::string resume;
  bool started = false, at_end = false;
  // Short read transactions (a long one would pin old pages and hold off a
  // map resize). The chunks see different snapshots; the catch-up from the
  // first one's next_seq re-reads every record that changed meanwhile, so
  // the table ends exact for the catch-up's last snapshot.
  while (!at_end) {
    if (Stopping()) return Status::Unavailable("store closing");
    Status s = read_([&](const lmdb::Txn& txn) -> Status {
      if (!started) {
        Result<std::uint64_t> next = ReadNextSeq(txn, dbis_.meta);
        if (!next.ok()) return next.status();
        start_seq = *next;
        MDB_stat st;
        int rc = mdb_stat(txn.get(), dbis_.addresses, &st);
        if (rc != 0) return lmdb::ErrorStatus(rc, "stat addresses");
        if (st.ms_entries > max_addresses_) return Status::LimitExceeded("too many addresses");
        table.Reserve(st.ms_entries);
      }
      lmdb::Cursor cursor;
      int rc = lmdb::Cursor::Open(txn, dbis_.addresses, &cursor);
      if (rc != 0) return lmdb::ErrorStatus(rc, "cursor");
      std::string_view key, value;
      rc = started ? cursor.Seek(resume, &key, &value) : cursor.First(&key, &value);
      if (rc == 0 && started && key == resume) rc = cursor.Next(&key, &value);
      for (std::size_t n = 0; rc == 0 && n < kScanChunk; rc = cursor.Next(&key, &value), ++n) {
        LookupHead head;
        if (DecodeLookupHead(value, &head).ok()) {
          table.Put(key, LookupTable::Hash(key), head);
        } else {
          table.PutAskStore(key, LookupTable::Hash(key));
        }
        resume.assign(key);
      }
      if (rc != 0 && rc != MDB_NOTFOUND) return lmdb::ErrorStatus(rc, "cursor next");
      at_end = rc == MDB_NOTFOUND;
      started = true;
      return Status::Ok();
    });
    if (!s.ok()) return s;
    if (table.size() > max_addresses_) return Status::LimitExceeded("too many addresses");
  }
  std::uint64_t pos = start_seq, txn_id = kNoTxn;
  Status s = CatchUp(&table, /*live=*/false, &pos, &txn_id);
  if (!s.ok()) return s;
  {
    ExclusiveHold hold(*this);
    std::swap(table_, table);
    seq_ = pos;
    verified_txn_.store(txn_id, std::memory_order_relaxed);
    ++builds_;
  }
  return Status::Ok();  // the old table is freed here, outside the lock
}

Status LookupIndex::CatchUp(LookupTable* table, bool live, std::uint64_t* pos,
                            std::uint64_t* txn_id) {
  struct Change {
    std::string key;
    enum { kHead, kAskStore, kNoRecord } what;
    LookupHead head;      // kHead; its reason points into `reason`
    std::string reason;
  };
  for (;;) {
    if (Stopping()) return Status::Unavailable("store closing");
    std::vector<Change> changes;
    std::uint64_t end = 0;
    bool done = false;
    Status s = read_([&](const lmdb::Txn& txn) -> Status {
      Result<std::uint64_t> next = ReadNextSeq(txn, dbis_.meta);
      if (!next.ok()) return next.status();
      if (*next < *pos) return Status::Corruption("the event log went backwards");
      *txn_id = mdb_txn_id(txn.get());
      end = std::min<std::uint64_t>(*next, *pos + kEventChunk);
      done = end == *next;
      if (*pos == end) return Status::Ok();
      lmdb::Cursor cursor;
      int rc = lmdb::Cursor::Open(txn, dbis_.events, &cursor);
      if (rc != 0) return lmdb::ErrorStatus(rc, "cursor");
      std::string_view key, value;
      rc = cursor.Seek(lmdb::EncodeU64Key(*pos), &key, &value);
      for (std::uint64_t seq = *pos; seq < end; ++seq, rc = cursor.Next(&key, &value)) {
        if (rc != 0 && rc != MDB_NOTFOUND) return lmdb::ErrorStatus(rc, "cursor next");
        // Retention deleted events the index has not seen: rebuild.
        if (rc == MDB_NOTFOUND || key.size() != 8 || lmdb::DecodeU64Key(key) != seq) {
          return Status::NotFound("event " + std::to_string(seq) + " is gone");
        }
        EventHead ev;
        Status ds = DecodeEventHead(seq, value, &ev);
        if (!ds.ok()) return ds;
        if (ev.address_key.empty()) continue;  // a domain event: the domain cache's business
        std::string_view record;
        int grc = txn.Get(dbis_.addresses, ev.address_key, &record);
        if (grc != 0 && grc != MDB_NOTFOUND) return lmdb::ErrorStatus(grc, "get address");
        Change& c = changes.emplace_back();
        c.key = std::move(ev.address_key);
        if (grc == MDB_NOTFOUND) {
          c.what = Change::kNoRecord;
        } else if (DecodeLookupHead(record, &c.head).ok()) {
          c.what = Change::kHead;
          c.reason.assign(c.head.reason);
        } else {
          c.what = Change::kAskStore;
        }
      }
      return Status::Ok();
    });
    if (!s.ok()) return s;
    std::optional<ExclusiveHold> hold;
    if (live) hold.emplace(*this);
    if (live) seq_ = 0;  // until the last chunk is in, the table is exact for no snapshot
    for (Change& c : changes) {
      const std::uint64_t hash = LookupTable::Hash(c.key);
      switch (c.what) {
        case Change::kHead:
          c.head.reason = c.reason;
          table->Put(c.key, hash, c.head);
          break;
        case Change::kAskStore:
          table->PutAskStore(c.key, hash);
          break;
        case Change::kNoRecord: {
          // An event of an address that has no record (a bounce that left
          // nothing to remember). Records are never deleted, so an indexed
          // one means the index is wrong.
          LookupHead unused;
          if (table->Find(c.key, hash, &unused) != LookupTable::Found::kAbsent) {
            return Status::Corruption("an indexed address has no record");
          }
          break;
        }
      }
    }
    if (table->size() > max_addresses_) return Status::LimitExceeded("too many addresses");
    *pos = end;
    if (done) {
      if (live) {
        seq_ = end;
        verified_txn_.store(*txn_id, std::memory_order_relaxed);
      }
      return Status::Ok();
    }
  }
}

void LookupIndex::Run() {
  bool rebuild = true;
  int failures = 0;
  for (;;) {
    Status s;
    try {
      if (rebuild) {
        s = Build();
      } else {
        std::uint64_t pos = seq_, txn_id = kNoTxn;  // seq_ changes in this thread only
        s = CatchUp(&table_, /*live=*/true, &pos, &txn_id);
      }
    } catch (const std::bad_alloc&) {
      s = Status::LimitExceeded("out of memory");
    }
    if (Stopping()) return;
    if (s.code() == Status::Code::kLimitExceeded) {
      spdlog::warn("store: lookup index dropped ({}; the bound is {} addresses, "
                   "LookupIndexMaxAddresses); lookups read the database",
                   s.message(), max_addresses_);
      LookupTable dropped;
      ExclusiveHold hold(*this);
      std::swap(table_, dropped);
      seq_ = 0;
      return;
    }
    if (s.ok()) {
      if (rebuild) {
        spdlog::info("store: lookup index ready: {} addresses, {} MiB", table_.size(),
                     table_.MemoryBytes() >> 20);
      }
      rebuild = false;
      failures = 0;
    } else {
      rebuild = true;
      ++failures;
      spdlog::warn("store: lookup index out of step ({}); rebuilding", s.ToString());
    }
    std::unique_lock lock(wake_mu_);
    if (failures == 0) {
      wake_cv_.wait(lock, [&] { return stop_ || wanted_.load(std::memory_order_acquire); });
    } else {
      // Back off: a fault that a rebuild does not cure must not cost a full
      // scan a second. Lookups read the database meanwhile.
      const auto delay = std::chrono::seconds(std::min(600, 1 << std::min(failures - 1, 10)));
      wake_cv_.wait_for(lock, failures == 1 ? std::chrono::seconds(0) : delay,
                        [&] { return stop_; });
    }
    if (stop_) return;
    wanted_.store(false, std::memory_order_release);
  }
}

}  // namespace bm
