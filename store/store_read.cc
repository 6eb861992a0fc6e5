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
  std::string_view value;
  int rc = txn.Get(dbis.meta, "next_seq", &value);
  if (rc != 0) return rc == MDB_NOTFOUND ? Status::Corruption("no next_seq") : ReadError(rc, "meta");
  if (value.size() != 8) return Status::Corruption("bad next_seq");
  return lmdb::DecodeU64Key(value);
}

// Visits up to kChunk entries of dbi after `*resume` (exclusive; empty =
// from the start) in one read transaction, then calls fn on what `collect`
// kept, outside the transaction. Repeats until the end or fn says stop.
template <typename T, typename ImplT, typename Collect>
Status ScanChunked(const ImplT& impl, MDB_dbi dbi, Collect collect,
                   const std::function<bool(const T&)>& fn) {
  std::string resume;
  bool started = false;
  for (;;) {
    std::vector<T> kept;
    bool at_end = false;
    Status s = impl.Read([&](const lmdb::Txn& txn) -> Status {
      lmdb::Cursor cursor;
      int rc = lmdb::Cursor::Open(txn, dbi, &cursor);
      if (rc != 0) return ReadError(rc, "cursor");
      std::string_view key, value;
      rc = started ? cursor.Seek(resume, &key, &value) : cursor.First(&key, &value);
      if (rc == 0 && started && key == resume) rc = cursor.Next(&key, &value);
      std::size_t visited = 0;
      for (; rc == 0 && visited < kChunk; rc = cursor.Next(&key, &value), ++visited) {
        Status cs = collect(key, value, &kept);
        if (!cs.ok()) return cs;
        resume.assign(key);
      }
      if (rc != 0 && rc != MDB_NOTFOUND) return ReadError(rc, "cursor next");
      at_end = rc == MDB_NOTFOUND;
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

Result<LookupResult> Store::Lookup(std::string_view address, std::int64_t now) const {
  Result<std::string> norm = NormalizeAddress(address, impl_->options_.normalization);
  if (!norm.ok()) return norm.status();
  LookupResult out;
  const Dbis& dbis = impl_->dbis_;
  Status s = impl_->Read([&](const lmdb::Txn& txn) -> Status {
    std::string_view value;
    int rc = txn.Get(dbis.addresses, *norm, &value);
    if (rc == 0) {
      AddressRecord rec;
      Status ds = DecodeLookupHead(value, &rec);
      if (!ds.ok()) return ds;
      out.known = true;
      out.state = rec.state;
      out.reason = rec.reason;
      out.source = rec.source;
      out.since = rec.state_since;
      if (rec.state == AddressState::kSuppressed) {
        out.suppressed = true;
      } else if (rec.state == AddressState::kSuppressedTemporary && rec.suppressed_until > now) {
        out.suppressed = out.temporary = true;
        out.until = rec.suppressed_until;
      }
    } else if (rc != MDB_NOTFOUND) {
      return ReadError(rc, "lookup");
    }
    // An address an admin unblocked stays deliverable even in a suppressed domain.
    if (out.suppressed || out.state == AddressState::kUnblocked) return Status::Ok();
    const std::string_view domain = DomainOf(*norm);
    rc = txn.Get(dbis.domains, domain, &value);
    if (rc == MDB_NOTFOUND || (rc == 0 && value.size() > 1 && value[1] == 0)) return Status::Ok();
    if (rc != 0) return ReadError(rc, "lookup domain");
    DomainRecord d;
    Status ds = DecodeDomainRecord(domain, value, &d);
    if (!ds.ok()) return ds;
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

Result<std::optional<AddressRecord>> Store::GetRecord(std::string_view address) const {
  Result<std::string> norm = NormalizeAddress(address, impl_->options_.normalization);
  if (!norm.ok()) return norm.status();
  std::optional<AddressRecord> out;
  Status s = impl_->Read([&](const lmdb::Txn& txn) -> Status {
    std::string_view value;
    int rc = txn.Get(impl_->dbis_.addresses, *norm, &value);
    if (rc == MDB_NOTFOUND) return Status::Ok();
    if (rc != 0) return ReadError(rc, "get address");
    out.emplace();
    return DecodeAddressRecord(*norm, value, &*out);
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
    // Follow the chain until it ends or reaches events removed by retention.
    for (std::uint64_t seq = (*rec)->last_event_seq; seq != 0 && out.size() < limit;) {
      std::string_view value;
      int rc = txn.Get(impl_->dbis_.events, lmdb::EncodeU64Key(seq), &value);
      if (rc == MDB_NOTFOUND) break;
      if (rc != 0) return ReadError(rc, "get event");
      StoredEvent ev;
      Status ds = DecodeEvent(seq, value, &ev);
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
  auto collect = [&](std::string_view key, std::string_view value,
                     std::vector<AddressRecord>* kept) -> Status {
    AddressRecord rec;
    Status s = DecodeAddressRecord(key, value, &rec);
    if (s.ok() && filter.Matches(rec)) kept->push_back(std::move(rec));
    return s;
  };
  return ScanChunked<AddressRecord>(*impl_, impl_->dbis_.addresses, collect, fn);
}

Status Store::ForEachDomain(bool suppressed_only,
                            const std::function<bool(const DomainRecord&)>& fn) const {
  auto collect = [&](std::string_view key, std::string_view value,
                     std::vector<DomainRecord>* kept) -> Status {
    DomainRecord d;
    Status s = DecodeDomainRecord(key, value, &d);
    if (s.ok() && (d.suppressed || !suppressed_only)) kept->push_back(std::move(d));
    return s;
  };
  return ScanChunked<DomainRecord>(*impl_, impl_->dbis_.domains, collect, fn);
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
        StoredEvent ev;
        Status ds = DecodeEvent(seq, value, &ev);
        if (!ds.ok()) return ds;
        if (ev.address.empty() || ev.address.front() == '@') continue;
        std::string_view rec_value;
        int grc = txn.Get(dbis.addresses, ev.address, &rec_value);
        if (grc == MDB_NOTFOUND) continue;
        if (grc != 0) return ReadError(grc, "get address");
        AddressRecord rec;
        ds = DecodeAddressRecord(ev.address, rec_value, &rec);
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
