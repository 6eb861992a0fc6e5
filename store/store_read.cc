// Store reads: the milter's lookup, records, history, iteration for list and
// export. Each runs in LMDB read transactions of the calling thread.
#include <algorithm>
#include <unordered_map>

#include "store/store_impl.h"

namespace bm {
namespace {

constexpr std::size_t kChunk = 1000;  // entries per read transaction when iterating

Status ReadError(int rc, std::string_view what) { return lmdb::ErrorStatus(rc, what); }

Result<std::uint64_t> NextSeq(const lmdb::Txn& txn, const Dbis& dbis) {
  return ReadNextSeq(txn, dbis.meta);
}

// Visits up to kChunk entries of dbi after `*resume` (exclusive; empty =
// from the start) in one read transaction, then calls fn on what `collect`
// kept, outside the transaction. Repeats until the end or fn says stop.
// Only keys that start with `prefix` are visited. collect(dict, key, value, kept).
template <typename T, typename ImplT, typename Collect>
Status ScanChunked(const ImplT& impl, MDB_dbi dbi, std::string_view prefix, Collect collect,
                   const std::function<bool(const T&)>& fn) {
  std::string resume(prefix);
  bool started = false;
  for (;;) {
    std::vector<T> kept;
    bool at_end = false;
    Status s = impl.Read([&](const lmdb::Txn& txn) -> Status {
      TxnDictionaryReader dict(txn, impl.dbis_);
      lmdb::Cursor cursor;
      int rc = lmdb::Cursor::Open(txn, dbi, &cursor);
      if (rc != 0) return ReadError(rc, "cursor");
      std::string_view key, value;
      rc = resume.empty() ? cursor.First(&key, &value) : cursor.Seek(resume, &key, &value);
      if (rc == 0 && started && key == resume) rc = cursor.Next(&key, &value);
      std::size_t visited = 0;
      for (; rc == 0 && key.starts_with(prefix) && visited < kChunk;
           rc = cursor.Next(&key, &value), ++visited) {
        Status cs = collect(dict, key, value, &kept);
        if (!cs.ok()) return cs;
        resume.assign(key);
      }
      if (rc != 0 && rc != MDB_NOTFOUND) return ReadError(rc, "cursor next");
      at_end = rc == MDB_NOTFOUND || !key.starts_with(prefix);
      return Status::Ok();
    });
    if (!s.ok()) return s;
    started = true;
    for (const T& item : kept) {
      if (!fn(item)) return Status::Ok();
    }
    if (at_end) return Status::Ok();
  }
}

}  // namespace

bool RecordFilter::Matches(const AddressRecord& r) const {
  if (state && r.state != *state) return false;
  if (!reason.empty() && r.reason != reason) return false;
  if (!domain.empty() && DomainOf(r.address) != domain) return false;
  return true;
}

void ApplyLookupHead(const LookupHead& head, std::int64_t now, LookupResult* out) {
  out->known = true;
  out->state = head.state;
  out->reason.assign(head.reason);
  out->source = head.source;
  out->since = head.state_since;
  if (head.state == AddressState::kSuppressed) {
    out->suppressed = true;
  } else if (head.state == AddressState::kSuppressedTemporary && head.suppressed_until > now) {
    out->suppressed = out->temporary = true;
    out->until = head.suppressed_until;
  }
}

Result<LookupResult> Store::Lookup(std::string_view address, std::int64_t now) const {
  NormalizedAddress norm;
  Status ns = NormalizeAddressInto(address, impl_->options_.normalization, &norm);
  if (!ns.ok()) return ns;
  const std::uint64_t domain_hash = DomainCache::Hash(norm.domain());
  DomainCache::Prefetch(domain_hash);
  LookupResult out;
  const Dbis& dbis = impl_->dbis_;
  Status s = impl_->Read([&](const lmdb::Txn& txn) -> Status {
    // The domain first: its id prefixes the address key. A domain without an
    // entry has no records either. The thread's cache answers without a
    // search when it holds the domain (store/domain_cache.h).
    Result<DomainCache*> cache = DomainCache::ForTxn(impl_->uid_, txn, dbis.meta);
    if (!cache.ok()) return cache.status();
    std::optional<CachedDomain> domain = (*cache)->Find(norm.domain(), domain_hash);
    std::string_view domain_value;  // read here only when the cache had no answer
    if (!domain) {
      int rc = txn.Get(dbis.domains, norm.domain(), &domain_value);
      if (rc != 0 && rc != MDB_NOTFOUND) return ReadError(rc, "lookup domain");
      DomainHead head;
      if (rc == 0) {
        Status ds = DecodeDomainHead(domain_value, &head);
        if (!ds.ok()) return ds;
      }
      domain = CachedDomain{head.id, head.suppressed};
      (*cache)->Insert(norm.domain(), domain_hash, *domain);
    }
    if (domain->id == 0) return Status::Ok();
    char key_buf[kIdKeyBytes + kMaxLocalPartBytes];
    const std::string_view key = AddressKeyInto(domain->id, norm.local_part(), key_buf);
    // The index when it is exact for this snapshot, else the B-tree.
    LookupIndex::Answer indexed = LookupIndex::Answer::kUnavailable;
    if (impl_->index_ != nullptr) {
      indexed = impl_->index_->Find(
          txn, key, [&](const LookupHead& head) { ApplyLookupHead(head, now, &out); });
    }
    int rc = 0;
    if (indexed == LookupIndex::Answer::kUnavailable) {
      std::string_view value;
      rc = txn.Get(dbis.addresses, key, &value);
      if (rc == 0) {
        LookupHead rec;
        Status ds = DecodeLookupHead(value, &rec);
        if (!ds.ok()) return ds;
        ApplyLookupHead(rec, now, &out);
      } else if (rc != MDB_NOTFOUND) {
        return ReadError(rc, "lookup");
      }
    }
    // An address an admin unblocked stays deliverable even in a suppressed domain.
    if (out.suppressed || out.state == AddressState::kUnblocked || !domain->suppressed) {
      return Status::Ok();
    }
    if (domain_value.empty()) {
      rc = txn.Get(dbis.domains, norm.domain(), &domain_value);
      if (rc == MDB_NOTFOUND) return Status::Corruption("domain entry vanished");
      if (rc != 0) return ReadError(rc, "lookup domain");
    }
    DomainRecord d;
    Status ds = DecodeDomainRecord(norm.domain(), domain_value, &d);
    if (!ds.ok()) return ds;
    // The record read now decides: a writer that does not bump domain_gen (a
    // bouncectl older than the cache) may have lifted the suppression, and a
    // refusal is the costly mistake.
    if (!d.suppressed) return Status::Ok();
    out.suppressed = out.domain_level = true;
    out.temporary = false;
    out.until = 0;
    out.reason = d.reason;
    out.source = d.source;
    out.since = d.since;
    return Status::Ok();
  });
  if (!s.ok()) return s;
  return out;
}

LookupIndexStats Store::IndexStats() const {
  return impl_->index_ != nullptr ? impl_->index_->Stats() : LookupIndexStats{};
}

Result<std::optional<AddressRecord>> Store::GetRecord(std::string_view address) const {
  NormalizedAddress norm;
  Status ns = NormalizeAddressInto(address, impl_->options_.normalization, &norm);
  if (!ns.ok()) return ns;
  std::optional<AddressRecord> out;
  Status s = impl_->Read([&](const lmdb::Txn& txn) -> Status {
    TxnDictionaryReader dict(txn, impl_->dbis_);
    Result<std::uint32_t> id = dict.FindDomainId(norm.domain());
    if (!id.ok()) return id.status();
    if (*id == 0) return Status::Ok();
    const std::string key = AddressKey(*id, norm.local_part());
    std::string_view value;
    int rc = txn.Get(impl_->dbis_.addresses, key, &value);
    if (rc == MDB_NOTFOUND) return Status::Ok();
    if (rc != 0) return ReadError(rc, "get address");
    out.emplace();
    return DecodeAddressRecord(key, value, dict, &*out);
  });
  if (!s.ok()) return s;
  return out;
}

Result<std::optional<DomainRecord>> Store::GetDomain(std::string_view domain) const {
  Result<std::string> norm = NormalizeDomain(domain);
  if (!norm.ok()) return norm.status();
  std::optional<DomainRecord> out;
  Status s = impl_->Read([&](const lmdb::Txn& txn) -> Status {
    std::string_view value;
    int rc = txn.Get(impl_->dbis_.domains, *norm, &value);
    if (rc == MDB_NOTFOUND) return Status::Ok();
    if (rc != 0) return ReadError(rc, "get domain");
    out.emplace();
    return DecodeDomainRecord(*norm, value, &*out);
  });
  if (!s.ok()) return s;
  return out;
}

Result<std::vector<StoredEvent>> Store::History(std::string_view address,
                                                std::size_t limit) const {
  Result<std::optional<AddressRecord>> rec = GetRecord(address);
  if (!rec.ok()) return rec.status();
  std::vector<StoredEvent> out;
  if (!*rec) return out;
  Status s = impl_->Read([&](const lmdb::Txn& txn) -> Status {
    TxnDictionaryReader dict(txn, impl_->dbis_);
    // Follow the chain until it ends or reaches events removed by retention.
    for (std::uint64_t seq = (*rec)->last_event_seq; seq != 0 && out.size() < limit;) {
      std::string_view value;
      int rc = txn.Get(impl_->dbis_.events, lmdb::EncodeU64Key(seq), &value);
      if (rc == MDB_NOTFOUND) break;
      if (rc != 0) return ReadError(rc, "get event");
      StoredEvent ev;
      Status ds = DecodeEvent(seq, value, dict, &ev);
      if (!ds.ok()) return ds;
      seq = ev.prev_seq;
      out.push_back(std::move(ev));
    }
    return Status::Ok();
  });
  if (!s.ok()) return s;
  return out;
}

Result<std::optional<std::vector<std::string>>> Store::LookupSent(std::string_view message_id,
                                                                  std::int64_t now) const {
  if (message_id.size() >= 2 && message_id.front() == '<' && message_id.back() == '>') {
    message_id = message_id.substr(1, message_id.size() - 2);
  }
  std::optional<std::vector<std::string>> out;
  if (message_id.empty() || message_id.size() > 480) return out;
  Status s = impl_->Read([&](const lmdb::Txn& txn) -> Status {
    std::string_view value;
    int rc = txn.Get(impl_->dbis_.sent, message_id, &value);
    if (rc == MDB_NOTFOUND) return Status::Ok();
    if (rc != 0) return ReadError(rc, "get sent entry");
    SentEntry entry;
    Status ds = DecodeSentEntry(value, &entry);
    if (ds.ok() && entry.expires > now) out = std::move(entry.recipients);
    return ds;
  });
  if (!s.ok()) return s;
  return out;
}

Result<std::uint64_t> Store::LastSequence() const {
  std::uint64_t last = 0;
  Status s = impl_->Read([&](const lmdb::Txn& txn) -> Status {
    Result<std::uint64_t> next = NextSeq(txn, impl_->dbis_);
    if (!next.ok()) return next.status();
    last = *next - 1;
    return Status::Ok();
  });
  if (!s.ok()) return s;
  return last;
}

Status Store::ForEachRecord(const RecordFilter& filter,
                            const std::function<bool(const AddressRecord&)>& fn) const {
  // A domain filter scans the domain's key range only.
  std::string prefix;
  if (!filter.domain.empty()) {
    std::uint32_t id = 0;
    Status s = impl_->Read([&](const lmdb::Txn& txn) -> Status {
      Result<std::uint32_t> found = TxnDictionaryReader(txn, impl_->dbis_).FindDomainId(filter.domain);
      if (found.ok()) id = *found;
      return found.status();
    });
    if (!s.ok()) return s;
    if (id == 0) return Status::Ok();
    prefix = IdKey(id);
  }
  auto collect = [&](DictionaryReader& dict, std::string_view key, std::string_view value,
                     std::vector<AddressRecord>* kept) -> Status {
    AddressRecord rec;
    Status s = DecodeAddressRecord(key, value, dict, &rec);
    if (s.ok() && filter.Matches(rec)) kept->push_back(std::move(rec));
    return s;
  };
  return ScanChunked<AddressRecord>(*impl_, impl_->dbis_.addresses, prefix, collect, fn);
}

Status Store::ForEachDomain(bool suppressed_only,
                            const std::function<bool(const DomainRecord&)>& fn) const {
  auto collect = [&](DictionaryReader&, std::string_view key, std::string_view value,
                     std::vector<DomainRecord>* kept) -> Status {
    DomainRecord d;
    Status s = DecodeDomainRecord(key, value, &d);
    if (s.ok() && (d.suppressed || !suppressed_only)) kept->push_back(std::move(d));
    return s;
  };
  return ScanChunked<DomainRecord>(*impl_, impl_->dbis_.domains, "", collect, fn);
}

Result<std::uint64_t> Store::ForEachChangedSince(
    std::uint64_t since, const RecordFilter& filter,
    const std::function<bool(const AddressRecord&)>& fn) const {
  const Dbis& dbis = impl_->dbis_;
  std::uint64_t end = 0;
  Status s = impl_->Read([&](const lmdb::Txn& txn) -> Status {
    Result<std::uint64_t> next = NextSeq(txn, dbis);
    if (!next.ok()) return next.status();
    end = *next - 1;
    lmdb::Cursor cursor;
    int rc = lmdb::Cursor::Open(txn, dbis.events, &cursor);
    if (rc != 0) return ReadError(rc, "cursor");
    std::string_view key, value;
    rc = cursor.First(&key, &value);
    if (rc != 0 && rc != MDB_NOTFOUND) return ReadError(rc, "first event");
    const std::uint64_t oldest = rc == 0 ? lmdb::DecodeU64Key(key) : end + 1;
    if (since < end && since + 1 < oldest) {
      return Status::InvalidArgument("cursor " + std::to_string(since) +
                                     " is older than the oldest retained event " +
                                     std::to_string(oldest) + "; do a full export");
    }
    return Status::Ok();
  });
  if (!s.ok()) return s;
  if (since > end) return Status::InvalidArgument("cursor " + std::to_string(since) +
                                                  " is beyond the last event " +
                                                  std::to_string(end));
  for (std::uint64_t pos = since; pos < end;) {
    std::vector<AddressRecord> kept;
    s = impl_->Read([&](const lmdb::Txn& txn) -> Status {
      TxnDictionaryReader dict(txn, dbis);
      lmdb::Cursor cursor;
      int rc = lmdb::Cursor::Open(txn, dbis.events, &cursor);
      if (rc != 0) return ReadError(rc, "cursor");
      std::string_view key, value;
      std::size_t visited = 0;
      bool chunk_full = false;
      for (rc = cursor.Seek(lmdb::EncodeU64Key(pos + 1), &key, &value); rc == 0;
           rc = cursor.Next(&key, &value)) {
        const std::uint64_t seq = lmdb::DecodeU64Key(key);
        if (seq > end) break;
        if (visited++ == kChunk) {
          chunk_full = true;
          break;
        }
        pos = seq;
        EventHead ev;
        Status ds = DecodeEventHead(seq, value, &ev);
        if (!ds.ok()) return ds;
        if (ev.address_key.empty()) continue;  // a domain event
        std::string_view rec_value;
        int grc = txn.Get(dbis.addresses, ev.address_key, &rec_value);
        if (grc == MDB_NOTFOUND) continue;
        if (grc != 0) return ReadError(grc, "get address");
        AddressRecord rec;
        ds = DecodeAddressRecord(ev.address_key, rec_value, dict, &rec);
        if (!ds.ok()) return ds;
        // Emitted at its newest change only: once per export, never twice.
        if (rec.updated_seq == seq && filter.Matches(rec)) kept.push_back(std::move(rec));
      }
      if (!chunk_full) pos = end;
      if (rc != 0 && rc != MDB_NOTFOUND) return ReadError(rc, "cursor next");
      return Status::Ok();
    });
    if (!s.ok()) return s;
    for (const AddressRecord& rec : kept) {
      if (!fn(rec)) return end;
    }
  }
  return end;
}

}  // namespace bm
