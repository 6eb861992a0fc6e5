// Store::Stats and Store::Verify: whole-store scans for bouncectl.
#include <algorithm>
#include <map>

#include "store/store_impl.h"

namespace bm {
namespace {

constexpr std::int64_t kDay = 86400;
constexpr std::size_t kTopDomains = 20;
constexpr std::size_t kOldRunEnd = 1000;
constexpr std::size_t kMaxProblems = 100;  // a broken store should not flood the report

std::vector<std::pair<std::string, std::uint64_t>> SortedByCount(
    const std::map<std::string, std::uint64_t>& counts, std::size_t limit) {
  std::vector<std::pair<std::string, std::uint64_t>> out(counts.begin(), counts.end());
  std::stable_sort(out.begin(), out.end(),
                   [](const auto& a, const auto& b) { return a.second > b.second; });
  if (out.size() > limit) out.resize(limit);
  return out;
}

// Counts the entries of dbi, calling check on each; compares with mdb_stat.
template <typename Check>
Status ScanDb(const lmdb::Txn& txn, MDB_dbi dbi, const char* name, VerifyReport& report,
              std::uint64_t* count, Check check) {
  MDB_stat st;
  int rc = mdb_stat(txn.get(), dbi, &st);
  if (rc != 0) return lmdb::ErrorStatus(rc, std::string("mdb_stat ") + name);
  lmdb::Cursor cursor;
  rc = lmdb::Cursor::Open(txn, dbi, &cursor);
  if (rc != 0) return lmdb::ErrorStatus(rc, "cursor");
  std::string_view key, value;
  for (rc = cursor.First(&key, &value); rc == 0; rc = cursor.Next(&key, &value)) {
    ++*count;
    std::string problem = check(key, value);
    if (!problem.empty() && report.problems.size() < kMaxProblems) {
      report.problems.push_back(std::string(name) + ": " + problem);
    }
  }
  if (rc != MDB_NOTFOUND) return lmdb::ErrorStatus(rc, std::string("scan ") + name);
  if (st.ms_entries != *count) {
    report.problems.push_back(std::string(name) + ": mdb_stat says " +
                              std::to_string(st.ms_entries) + " entries, scan found " +
                              std::to_string(*count));
  }
  return Status::Ok();
}

}  // namespace

Result<StoreStats> Store::Stats(std::int64_t now) const {
  StoreStats stats;
  std::map<std::string, std::uint64_t> by_state, by_reason, by_domain;
  Status s = ForEachRecord({}, [&](const AddressRecord& r) {
    ++stats.addresses;
    ++by_state[std::string(AddressStateName(r.state))];
    if (r.state == AddressState::kSuppressed || r.state == AddressState::kSuppressedTemporary) {
      ++by_reason[r.reason];
      ++by_domain[std::string(DomainOf(r.address))];
    }
    return true;
  });
  if (!s.ok()) return s;
  stats.by_state = SortedByCount(by_state, by_state.size());
  stats.by_reason = SortedByCount(by_reason, by_reason.size());
  stats.top_domains = SortedByCount(by_domain, kTopDomains);
  s = ForEachDomain(true, [&](const DomainRecord&) {
    ++stats.suppressed_domains;
    return true;
  });
  if (!s.ok()) return s;
  const Dbis& dbis = impl_->dbis_;
  s = impl_->Read([&](const lmdb::Txn& txn) -> Status {
    MDB_stat st;
    mdb_stat(txn.get(), dbis.events, &st);
    stats.events = st.ms_entries;
    mdb_stat(txn.get(), dbis.sent, &st);
    stats.sent_ledger_entries = st.ms_entries;
    MDB_envinfo info;
    mdb_env_info(impl_->env_.get(), &info);
    stats.map_bytes = info.me_mapsize;
    stats.used_bytes = (info.me_last_pgno + 1) * impl_->env_.PageSize();
    lmdb::Cursor cursor;
    int rc = lmdb::Cursor::Open(txn, dbis.events, &cursor);
    if (rc != 0) return lmdb::ErrorStatus(rc, "cursor");
    std::string_view key, value;
    // Newest first, until a week back. The log is in arrival order and event
    // times follow it closely; a run of old events ends the scan.
    std::size_t old_run = 0;
    for (rc = cursor.Last(&key, &value); rc == 0 && old_run < kOldRunEnd;
         rc = cursor.Prev(&key, &value)) {
      EventHead ev;
      Status ds = DecodeEventHead(lmdb::DecodeU64Key(key), value, &ev);
      if (!ds.ok()) return ds;
      if (ev.time < now - 7 * kDay) {
        ++old_run;
        continue;
      }
      old_run = 0;
      if (ev.type != EventType::kBounce && ev.type != EventType::kComplaint) continue;
      ++stats.bounces_last_week;
      if (ev.time >= now - kDay) ++stats.bounces_last_day;
    }
    return Status::Ok();
  });
  if (!s.ok()) return s;
  Result<std::uint64_t> last = LastSequence();
  if (!last.ok()) return last.status();
  stats.last_seq = *last;
  return stats;
}

Result<VerifyReport> Store::Verify() const {
  VerifyReport report;
  const Dbis& dbis = impl_->dbis_;
  Status s = impl_->Read([&](const lmdb::Txn& txn) -> Status {
    std::string_view value;
    int rc = txn.Get(dbis.meta, "next_seq", &value);
    if (rc != 0 || value.size() != 8) {
      report.problems.push_back("meta: next_seq missing or malformed");
      return Status::Ok();
    }
    const std::uint64_t next_seq = lmdb::DecodeU64Key(value);
    TxnDictionaryReader dict(txn, dbis);
    Status st = ScanDb(txn, dbis.addresses, "addresses", report, &report.addresses,
                       [&](std::string_view key, std::string_view v) -> std::string {
                         AddressRecord r;
                         Status ds = DecodeAddressRecord(key, v, dict, &r);
                         if (!ds.ok()) return ds.message();
                         if (r.updated_seq >= next_seq || r.last_event_seq >= next_seq) {
                           return "'" + r.address + "' refers to an event not yet written";
                         }
                         std::string_view ignored;
                         if (r.state == AddressState::kSuppressedTemporary &&
                             txn.Get(dbis.expiry, ExpiryKey(r.suppressed_until, key), &ignored) != 0) {
                           return "'" + r.address + "' is temporary but has no expiry entry";
                         }
                         return "";
                       });
    if (!st.ok()) return st;
    st = ScanDb(txn, dbis.expiry, "expiry", report, &report.expiry_entries,
                [&](std::string_view key, std::string_view) -> std::string {
                  if (key.size() <= 8) return "short key";
                  std::string_view v;
                  AddressRecord r;
                  if (txn.Get(dbis.addresses, key.substr(8), &v) != 0 ||
                      !DecodeAddressRecord(key.substr(8), v, dict, &r).ok() ||
                      r.state != AddressState::kSuppressedTemporary ||
                      r.suppressed_until != static_cast<std::int64_t>(lmdb::DecodeU64Key(key))) {
                    return "entry " + std::to_string(lmdb::DecodeU64Key(key)) +
                           " has no matching record";
                  }
                  return "";
                });
    if (!st.ok()) return st;
    // Domain entries and their ids map one to one.
    st = ScanDb(txn, dbis.domains, "domains", report, &report.domains,
                [&](std::string_view key, std::string_view v) -> std::string {
                  DomainRecord d;
                  Status ds = DecodeDomainRecord(key, v, &d);
                  if (!ds.ok()) return ds.message();
                  Result<std::string> name = dict.DomainName(d.id);
                  if (!name.ok() || *name != key) {
                    return "'" + d.domain + "' has id " + std::to_string(d.id) +
                           ", which names another domain";
                  }
                  return "";
                });
    if (!st.ok()) return st;
    std::uint64_t domain_ids = 0;
    st = ScanDb(txn, dbis.domain_ids, "domain_ids", report, &domain_ids,
                [&](std::string_view key, std::string_view name) -> std::string {
                  std::string_view v;
                  DomainHead head;
                  if (key.size() != kIdKeyBytes || txn.Get(dbis.domains, name, &v) != 0 ||
                      !DecodeDomainHead(v, &head).ok() || head.id != DecodeIdKey(key)) {
                    return "id of '" + std::string(name) + "' has no matching domain entry";
                  }
                  return "";
                });
    if (!st.ok()) return st;
    std::uint64_t texts = 0, text_ids = 0;
    st = ScanDb(txn, dbis.texts, "texts", report, &texts,
                [&](std::string_view key, std::string_view) -> std::string {
                  return key.size() == kIdKeyBytes ? "" : "malformed key";
                });
    if (!st.ok()) return st;
    st = ScanDb(txn, dbis.text_ids, "text_ids", report, &text_ids,
                [&](std::string_view text, std::string_view id) -> std::string {
                  Result<std::string> back = id.size() == kIdKeyBytes
                                                 ? dict.Text(DecodeIdKey(id))
                                                 : Status::Corruption("malformed id");
                  return back.ok() && *back == text ? "" : "an entry names the wrong text";
                });
    if (!st.ok()) return st;
    if (texts != text_ids) {
      report.problems.push_back("texts: " + std::to_string(texts) + " entries, but " +
                                std::to_string(text_ids) + " in text_ids");
    }
    st = ScanDb(txn, dbis.events, "events", report, &report.events,
                [&](std::string_view key, std::string_view v) -> std::string {
                  if (key.size() != 8) return "key of " + std::to_string(key.size()) + " bytes";
                  const std::uint64_t seq = lmdb::DecodeU64Key(key);
                  if (seq == 0 || seq >= next_seq) return "event " + std::to_string(seq) + " beyond next_seq";
                  StoredEvent ev;
                  Status ds = DecodeEvent(seq, v, dict, &ev);
                  return ds.ok() ? "" : ds.message();
                });
    if (!st.ok()) return st;
    st = ScanDb(txn, dbis.sent, "sent", report, &report.sent_entries,
                [&](std::string_view, std::string_view v) -> std::string {
                  SentEntry e;
                  Status ds = DecodeSentEntry(v, &e);
                  return ds.ok() ? "" : ds.message();
                });
    return st;
  });
  if (!s.ok()) return s;
  return report;
}

}  // namespace bm
