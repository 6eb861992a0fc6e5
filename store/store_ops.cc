// What each write of the Store does inside the writer's transaction.
#include <algorithm>

#include <spdlog/spdlog.h>

#include "store/store_impl.h"

namespace bm {
namespace {

constexpr std::int64_t kDay = 86400;
constexpr std::size_t kExpiryBatch = 10000;
constexpr std::size_t kRetentionBatch = 100000;

void AddSenderBlamed(DomainRecord& d, const std::string& reason) {
  ++d.sender_blamed;
  auto& list = d.sender_blamed_by_reason;
  auto it = std::lower_bound(list.begin(), list.end(), reason,
                             [](const auto& entry, const std::string& r) { return entry.first < r; });
  if (it != list.end() && it->first == reason) {
    ++it->second;
  } else {
    list.insert(it, {reason, 1});
  }
}

Status SuppressDomainInTxn(WriteContext& ctx, DomainRecord& d, const std::string& reason,
                           RecordSource source, std::string_view actor, std::int64_t now) {
  const bool was_suppressed = d.suppressed;
  d.suppressed = true;
  d.reason = reason;
  d.source = source;
  d.since = now;
  Status s = ctx.PutDomain(d, was_suppressed);
  if (!s.ok()) return s;
  StoredEvent ev;
  ev.type = EventType::kDomainSuppress;
  ev.time = now;
  ev.address = "@" + d.domain;
  ev.reason = reason;
  ev.actor.assign(actor);
  ev.new_state = AddressState::kSuppressed;
  return ctx.AppendEvent(ev);
}

// Appends ev (with the record's chain) and writes the record.
Status LogAndPut(WriteContext& ctx, const std::optional<AddressRecord>& before, AddressRecord& rec,
                 StoredEvent& ev, bool changed) {
  ev.address = rec.address;
  ev.prev_seq = before ? before->last_event_seq : 0;
  ev.new_state = rec.state;
  Status s = ctx.AppendEvent(ev);
  if (!s.ok()) return s;
  rec.last_event_seq = ev.seq;
  if (changed) rec.updated_seq = ev.seq;
  return ctx.PutRecord(before ? &*before : nullptr, rec);
}

Status ApplyOneBounce(const StoreOptions& options, WriteContext& ctx, const BounceEvent& in) {
  const Policy& policy = options.policy;
  StoredEvent ev;
  ev.type = in.type;
  ev.time = in.time;
  ev.reason = in.reason;
  ev.bounce_class = in.bounce_class;
  ev.hard = in.hard;
  ev.status = in.status;
  ev.rule_id = in.rule_id;

  Result<std::optional<AddressRecord>> found = ctx.GetRecord(in.address);
  if (!found.ok()) return found.status();
  const std::optional<AddressRecord>& before = *found;
  AddressRecord rec = before.value_or(AddressRecord{});
  rec.address = in.address;
  const PolicyOutcome outcome = ApplyBounce(policy, in, rec);

  const bool complaint = in.type == EventType::kComplaint;
  const bool sender_blamed = !complaint && policy.IsSenderBlamed(in.reason);
  const bool new_hostunknown = outcome != PolicyOutcome::kNoChange && in.hard &&
                               in.reason == "hostunknown" && !rec.counted_hostunknown;
  if (sender_blamed || new_hostunknown) {
    Result<DomainRecord> d = ctx.GetDomain(DomainOf(in.address));
    if (!d.ok()) return d.status();
    if (sender_blamed) AddSenderBlamed(*d, in.reason);
    if (new_hostunknown) {
      rec.counted_hostunknown = true;
      ++d->hostunknown_addresses;
    }
    const int threshold = policy.domain_hostunknown_threshold;
    Status s;
    if (new_hostunknown && threshold > 0 && !d->suppressed &&
        d->hostunknown_addresses >= static_cast<std::uint32_t>(threshold)) {
      s = SuppressDomainInTxn(ctx, *d, "hostunknown", RecordSource::kBounce, "policy", in.time);
    } else {
      s = ctx.PutDomain(*d, d->suppressed);  // counters only: the flag is unchanged
    }
    if (!s.ok()) return s;
  }
  if (outcome == PolicyOutcome::kNoChange && !before) {
    // Nothing known about the address and nothing to remember: log only.
    ev.address = in.address;
    return ctx.AppendEvent(ev);
  }
  return LogAndPut(ctx, before, rec, ev, outcome != PolicyOutcome::kNoChange);
}

Status ExpireSuppressions(WriteContext& ctx, std::int64_t now, std::uint64_t* lifted, bool* more) {
  std::vector<std::string> entries;  // expiry-index keys: be64 until + address key
  {
    lmdb::Cursor cursor;
    Status s = ctx.Check(lmdb::Cursor::Open(ctx.txn(), ctx.dbis().expiry, &cursor), "cursor");
    if (!s.ok()) return s;
    std::string_view key, value;
    for (int rc = cursor.First(&key, &value); rc == 0; rc = cursor.Next(&key, &value)) {
      if (key.size() < 8 || static_cast<std::int64_t>(lmdb::DecodeU64Key(key)) > now) break;
      if (entries.size() == kExpiryBatch) {
        *more = true;
        break;
      }
      entries.emplace_back(key);
    }
  }
  for (const std::string& entry : entries) {
    Result<std::optional<AddressRecord>> found = ctx.GetRecordByKey(entry.substr(8));
    if (!found.ok()) return found.status();
    const auto until = static_cast<std::int64_t>(lmdb::DecodeU64Key(entry));
    if (!*found || (*found)->state != AddressState::kSuppressedTemporary ||
        (*found)->suppressed_until != until) {
      // PutRecord keeps the index in step with the records, so this entry
      // is damage; left in place it would fail or stall every later expiry.
      spdlog::warn("store: dropping an expiry-index entry that matches no temporary suppression");
      Status s = ctx.Check(ctx.txn().Del(ctx.dbis().expiry, entry), "delete stale expiry entry");
      if (!s.ok()) return s;
      continue;
    }
    AddressRecord rec = **found;
    if (!ApplyExpiry(rec, now)) continue;
    StoredEvent ev;
    ev.type = EventType::kExpiry;
    ev.time = now;
    ev.reason = rec.reason;
    ev.actor = "expiry";
    Status s = LogAndPut(ctx, *found, rec, ev, /*changed=*/true);
    if (!s.ok()) return s;
    ++*lifted;
  }
  return Status::Ok();
}

Status DeleteOldEvents(WriteContext& ctx, std::int64_t cutoff, bool* more) {
  lmdb::Cursor cursor;
  Status s = ctx.Check(lmdb::Cursor::Open(ctx.txn(), ctx.dbis().events, &cursor), "cursor");
  if (!s.ok()) return s;
  std::string_view key, value;
  std::size_t deleted = 0;
  for (int rc = cursor.First(&key, &value); rc == 0; rc = cursor.First(&key, &value)) {
    EventHead ev;
    s = DecodeEventHead(lmdb::DecodeU64Key(key), value, &ev);
    if (!s.ok()) return s;
    if (ev.time >= cutoff) break;
    if (deleted == kRetentionBatch) {
      *more = true;
      break;
    }
    s = ctx.Check(cursor.Del(), "delete event");
    if (!s.ok()) return s;
    ++deleted;
  }
  return Status::Ok();
}

Status ExpireSentLedger(WriteContext& ctx, std::int64_t now, bool* more) {
  std::vector<std::string> keys;
  {
    lmdb::Cursor cursor;
    Status s = ctx.Check(lmdb::Cursor::Open(ctx.txn(), ctx.dbis().sent_expiry, &cursor), "cursor");
    if (!s.ok()) return s;
    std::string_view key, value;
    for (int rc = cursor.First(&key, &value); rc == 0; rc = cursor.Next(&key, &value)) {
      if (key.size() < 8 || static_cast<std::int64_t>(lmdb::DecodeU64Key(key)) > now) break;
      if (keys.size() == kExpiryBatch) {
        *more = true;
        break;
      }
      keys.emplace_back(key);
    }
  }
  for (const std::string& key : keys) {
    const std::string_view message_id = std::string_view(key).substr(8);
    std::string_view value;
    int rc = ctx.txn().Get(ctx.dbis().sent, message_id, &value);
    SentEntry entry;
    // The id may have been recorded again with a later expiry: keep that one.
    if (rc == 0 && DecodeSentEntry(value, &entry).ok() && entry.expires <= now) {
      rc = ctx.txn().Del(ctx.dbis().sent, message_id);
    } else if (rc == MDB_NOTFOUND) {
      rc = 0;
    }
    Status s = ctx.Check(rc, "delete sent entry");
    if (s.ok()) s = ctx.Check(ctx.txn().Del(ctx.dbis().sent_expiry, key), "delete sent expiry");
    if (!s.ok()) return s;
  }
  return Status::Ok();
}

}  // namespace

Status ApplyBounceEvents(const StoreOptions& options, WriteContext& ctx,
                         const std::vector<BounceEvent>& events) {
  for (const BounceEvent& ev : events) {
    Status s = ApplyOneBounce(options, ctx, ev);
    if (!s.ok()) return s;
  }
  return Status::Ok();
}

Status ExpireInTxn(const StoreOptions& options, WriteContext& ctx, std::int64_t now,
                   std::uint64_t* lifted, bool* more) {
  Status s = ExpireSuppressions(ctx, now, lifted, more);
  if (s.ok() && options.event_retention_days > 0) {
    s = DeleteOldEvents(ctx, now - options.event_retention_days * kDay, more);
  }
  if (s.ok()) s = ExpireSentLedger(ctx, now, more);
  return s;
}

Result<UnblockOutcome> UnblockInTxn(WriteContext& ctx, const std::string& address, bool force,
                                    std::string_view actor, std::int64_t now) {
  Result<std::optional<AddressRecord>> found = ctx.GetRecord(address);
  if (!found.ok()) return found.status();
  if (!*found) return UnblockOutcome::kNotSuppressed;
  AddressRecord rec = **found;
  const bool temporary_live =
      rec.state == AddressState::kSuppressedTemporary && rec.suppressed_until > now;
  if (rec.state != AddressState::kSuppressed && !temporary_live) {
    return UnblockOutcome::kNotSuppressed;
  }
  if (rec.state == AddressState::kSuppressed && !force) return UnblockOutcome::kNeedsForce;
  rec.state = AddressState::kUnblocked;
  rec.state_since = now;
  rec.suppressed_until = 0;
  rec.soft_window.clear();
  StoredEvent ev;
  ev.type = EventType::kUnblock;
  ev.time = now;
  ev.reason = rec.reason;
  ev.actor.assign(actor);
  Status s = LogAndPut(ctx, *found, rec, ev, /*changed=*/true);
  if (!s.ok()) return s;
  return UnblockOutcome::kUnblocked;
}

Status SuppressInTxn(WriteContext& ctx, const std::string& address, const std::string& reason,
                     std::int64_t until, std::string_view actor, std::int64_t now) {
  Result<std::optional<AddressRecord>> found = ctx.GetRecord(address);
  if (!found.ok()) return found.status();
  AddressRecord rec = found->value_or(AddressRecord{});
  rec.address = address;
  rec.state = until == 0 ? AddressState::kSuppressed : AddressState::kSuppressedTemporary;
  rec.source = RecordSource::kManual;
  rec.reason = reason;
  rec.bounce_class.clear();
  rec.hard = false;
  rec.state_since = now;
  rec.suppressed_until = until;
  rec.soft_window.clear();
  StoredEvent ev;
  ev.type = EventType::kSuppress;
  ev.time = now;
  ev.reason = reason;
  ev.actor.assign(actor);
  return LogAndPut(ctx, *found, rec, ev, /*changed=*/true);
}

Status SuppressDomainEntry(WriteContext& ctx, const std::string& domain, const std::string& reason,
                           std::string_view actor, std::int64_t now) {
  Result<DomainRecord> d = ctx.GetDomain(domain);
  if (!d.ok()) return d.status();
  return SuppressDomainInTxn(ctx, *d, reason, RecordSource::kManual, actor, now);
}

Result<bool> UnblockDomainEntry(WriteContext& ctx, const std::string& domain,
                                std::string_view actor, std::int64_t now) {
  Result<DomainRecord> d = ctx.GetDomain(domain);
  if (!d.ok()) return d.status();
  if (!d->suppressed) return false;
  d->suppressed = false;
  // Fresh evidence from new addresses is needed to suppress it again.
  d->hostunknown_addresses = 0;
  Status s = ctx.PutDomain(*d, /*was_suppressed=*/true);
  if (!s.ok()) return s;
  StoredEvent ev;
  ev.type = EventType::kDomainUnblock;
  ev.time = now;
  ev.address = "@" + domain;
  ev.reason = d->reason;
  ev.actor.assign(actor);
  s = ctx.AppendEvent(ev);
  if (!s.ok()) return s;
  return true;
}

Status ImportInTxn(WriteContext& ctx, const ImportRow& row, std::string_view actor,
                   std::int64_t now) {
  Result<std::optional<AddressRecord>> found = ctx.GetRecord(row.address);
  if (!found.ok()) return found.status();
  const std::optional<AddressRecord>& before = *found;
  AddressRecord rec = before.value_or(AddressRecord{});
  rec.address = row.address;
  const std::int64_t since = row.since != 0 ? row.since : now;
  auto enter = [&](AddressState state, std::int64_t until) {
    rec.state = state;
    rec.source = RecordSource::kImport;
    rec.reason = row.reason;
    rec.bounce_class.clear();
    rec.state_since = since;
    rec.suppressed_until = until;
    rec.soft_window.clear();
  };
  switch (row.state) {
    case AddressState::kSuppressed:
      if (rec.state != AddressState::kSuppressed) enter(AddressState::kSuppressed, 0);
      break;
    case AddressState::kSuppressedTemporary:
      if (row.until <= now) {
        // Ran out already: a new record looks as the store's own expiry
        // would have left it (an export taken before the expiry ran imports
        // as it would after), like an `active` row that keeps its history.
        if (!before) {
          enter(AddressState::kActive, 0);
          rec.state_since = row.until;
        }
      } else if (rec.state != AddressState::kSuppressed &&
                 !(rec.state == AddressState::kSuppressedTemporary &&
                   rec.suppressed_until >= row.until)) {
        enter(AddressState::kSuppressedTemporary, row.until);
      }
      break;
    case AddressState::kActive:
    case AddressState::kUnblocked:
      if (!before) enter(row.state, 0);
      break;
  }
  rec.hard_count = std::max(rec.hard_count, row.hard_count);
  rec.soft_count = std::max(rec.soft_count, row.soft_count);
  rec.complaint_count = std::max(rec.complaint_count, row.complaint_count);
  if (row.since != 0 && (rec.first_bounce == 0 || row.since < rec.first_bounce)) {
    rec.first_bounce = row.since;
  }
  if (rec.last_diagnostic.empty()) rec.last_diagnostic = row.diagnostic;
  const bool changed = !before || *before != rec;
  if (!changed) return Status::Ok();  // a duplicate: nothing new to log
  StoredEvent ev;
  ev.type = EventType::kImport;
  ev.time = now;
  ev.reason = row.reason;
  ev.actor.assign(actor);
  return LogAndPut(ctx, before, rec, ev, /*changed=*/true);
}

}  // namespace bm
