// The writer thread of Store: group commit, map growth, asynchronous counters.
#include <algorithm>
#include <chrono>
#include <ctime>
#include <string>
#include <unordered_map>

#include <spdlog/spdlog.h>

#include "store/store_impl.h"

namespace bm {
namespace {

constexpr std::size_t kMapGrowthStep = std::size_t{1} << 30;  // grow by doubling, at most 1 GiB
constexpr int kMaxGrowthsPerBatch = 16;

std::int64_t WallNow() { return static_cast<std::int64_t>(std::time(nullptr)); }

}  // namespace

Status Store::Impl::Submit(std::function<Status(WriteContext&)> apply) {
  if (options_.read_only) return Status::InvalidArgument("store opened read-only");
  Request req{std::move(apply), Status::Ok(), false};
  std::unique_lock lock(mu_);
  if (stop_) return Status::Unavailable("store is closing");
  queue_.push_back(&req);
  work_cv_.notify_one();
  done_cv_.wait(lock, [&] { return req.done; });
  return req.result;
}

Status Store::Impl::AdoptMapSize() const {
  remap_.LockExclusive();
  Status s = const_cast<lmdb::Env&>(env_).SetMapSize(0);
  remap_.UnlockExclusive();
  return s;
}

Status Store::Impl::GrowMap() {
  remap_.LockExclusive();
  const std::size_t current = env_.MapSize();
  Status s;
  if (current >= options_.max_map_bytes) {
    s = Status::Unavailable("store map is full at its maximum size of " +
                            std::to_string(options_.max_map_bytes) + " bytes");
  } else {
    std::size_t next = std::min(options_.max_map_bytes, current + std::min(current, kMapGrowthStep));
    s = env_.SetMapSize(next);
    if (s.ok()) spdlog::info("store map grown from {} to {} bytes", current, next);
  }
  remap_.UnlockExclusive();
  return s;
}

namespace {

// Errors that belong to one counter or ledger entry (a damaged domain entry,
// a value LMDB refuses) rather than to the transaction.
bool EntryError(const Status& s) {
  return s.code() == Status::Code::kCorruption || s.code() == Status::Code::kInvalidArgument;
}

// A domain's dropped sent counts are logged once per this many flush
// intervals (a minute at the default second).
constexpr int kDropLogQuietFlushes = 60;
// Domains whose drops are held back at once; past that, each drop is logged.
constexpr std::size_t kMaxQuietDomains = 1000;

// Logs the drops of a domain's sent count at most once per quiet interval
// per domain, the next line saying how many were held back: a damaged entry
// stays damaged until an admin repairs it, and every commit after mail was
// sent to the domain drops its count again, about once a second.
class SentDropLog {
 public:
  using Clock = std::chrono::steady_clock;

  void Dropped(const std::string& domain, std::uint64_t n, const Status& why,
               Clock::duration quiet, Clock::time_point now) {
    auto it = domains_.find(domain);
    if (it != domains_.end() && now - it->second.logged < quiet) {
      ++it->second.drops;
      it->second.recipients += n;
      return;
    }
    if (it == domains_.end() || it->second.drops == 0) {
      spdlog::error("store: dropping {} from the sent count of {}: {}", n, domain, why.ToString());
    } else {
      spdlog::error(
          "store: dropping {} from the sent count of {}: {} ({} more drops of {} recipients "
          "not logged since its previous line)",
          n, domain, why.ToString(), it->second.drops, it->second.recipients);
    }
    if (it == domains_.end()) {
      if (domains_.size() >= kMaxQuietDomains) {
        // A domain forgotten here says what was held back for it first.
        std::erase_if(domains_, [&](const auto& e) {
          if (now - e.second.logged < quiet) return false;
          if (e.second.drops > 0) {
            spdlog::error("store: {} more drops of {} recipients from the sent count of {} not "
                          "logged since its previous line",
                          e.second.drops, e.second.recipients, e.first);
          }
          return true;
        });
      }
      if (domains_.size() >= kMaxQuietDomains) return;
      it = domains_.emplace(domain, Quiet{}).first;
    }
    it->second = Quiet{now, 0, 0};
  }

 private:
  struct Quiet {
    Clock::time_point logged;  // of its last line
    std::uint64_t drops = 0, recipients = 0;  // held back since
  };
  std::unordered_map<std::string, Quiet> domains_;
};

}  // namespace

Status Store::Impl::ApplyAsyncWrites(WriteContext& ctx, PendingSent& sent, PendingLedger& ledger) {
  Status s;
  auto drop_all = [&] {
    spdlog::error("store: dropping {} sent counters and {} sent-ledger entries: {}", sent.size(),
                  ledger.size(), s.ToString());
    sent.clear();
    ledger.clear();
    return s;
  };
  for (auto it = sent.begin(); it != sent.end(); ++it) {
    Result<DomainRecord> d = ctx.GetDomain(it->first);
    s = d.status();
    if (s.ok()) {
      d->sent += it->second;
      s = ctx.PutDomain(*d, d->suppressed);  // the flag is unchanged
    }
    if (s.ok()) continue;
    if (ctx.map_full()) return s;
    if (!EntryError(s)) return drop_all();
    // Only the store's writer thread gets here: one log per store.
    static thread_local SentDropLog drop_log;
    const auto quiet =
        kDropLogQuietFlushes * std::chrono::milliseconds(std::max(1, options_.flush_interval_ms));
    drop_log.Dropped(it->first, it->second, s, quiet, SentDropLog::Clock::now());
    sent.erase(it);
    return s;
  }
  for (auto it = ledger.begin(); it != ledger.end(); ++it) {
    const auto& [message_id, entry] = *it;
    s = ctx.Check(ctx.txn().Put(ctx.dbis().sent, message_id, EncodeSentEntry(entry)),
                  "put sent entry");
    if (s.ok()) {
      s = ctx.Check(
          ctx.txn().Put(ctx.dbis().sent_expiry, ExpiryKey(entry.expires, message_id), ""),
          "put sent expiry");
    }
    if (s.ok()) continue;
    if (ctx.map_full()) return s;
    if (!EntryError(s)) return drop_all();
    spdlog::error("store: dropping the sent-ledger entry of {}: {}", message_id, s.ToString());
    ledger.erase(it);
    return s;
  }
  return Status::Ok();
}

Status Store::Impl::CommitOnce(const std::vector<Request*>& batch, PendingSent& sent,
                               PendingLedger& ledger, bool* request_failed) {
  *request_failed = false;
  for (int attempt = 0; attempt <= kMaxGrowthsPerBatch;) {
    SharedRemapHold hold(remap_);
    lmdb::Txn txn;
    int rc = lmdb::Txn::Begin(env_, /*read_only=*/false, &txn);
    if (lmdb::IsMapResized(rc)) {
      hold.Unlock();
      Status s = AdoptMapSize();
      if (!s.ok()) return s;
      ++attempt;
      continue;
    }
    if (rc != 0) return lmdb::ErrorStatus(rc, "begin write txn");
    std::string_view seq_value;
    rc = txn.Get(dbis_.meta, "next_seq", &seq_value);
    if (rc != 0 || seq_value.size() != 8) return Status::Corruption("store meta has no next_seq");
    WriteContext ctx(&txn, dbis_, lmdb::DecodeU64Key(seq_value));
    Status s;
    for (Request* req : batch) {
      req->result = req->apply(ctx);
      if (!req->result.ok()) {
        s = req->result;
        *request_failed = !ctx.map_full();
        break;
      }
    }
    // A counter or ledger entry that cannot be written is dropped by
    // ApplyAsyncWrites: redo the transaction without it, so that it fails
    // neither the requests nor the other entries.
    bool redo = false;
    if (s.ok()) {
      s = ApplyAsyncWrites(ctx, sent, ledger);
      redo = !s.ok() && !ctx.map_full();
    }
    if (s.ok()) s = ctx.FinishDomainGeneration();
    if (s.ok()) {
      s = ctx.Check(txn.Put(dbis_.meta, "next_seq", lmdb::EncodeU64Key(ctx.next_seq())),
                    "put next_seq");
    }
    if (s.ok()) {
      rc = txn.Commit();
      if (rc == 0) return Status::Ok();
      s = ctx.Check(rc, "commit");
    }
    txn.Abort();
    hold.Unlock();
    if (redo) continue;  // ends: each redo has fewer entries
    if (!ctx.map_full()) return s;
    s = GrowMap();
    if (!s.ok()) return s;
    ++attempt;
  }
  return Status::Unavailable("store map could not grow enough");
}

void Store::Impl::CommitBatch(const std::vector<Request*>& batch, PendingSent& sent,
                              PendingLedger& ledger) {
  bool request_failed = false;
  Status s = CommitOnce(batch, sent, ledger, &request_failed);
  if (s.ok()) return;
  if (!request_failed) {
    spdlog::error("store write failed: {}", s.ToString());
    for (Request* req : batch) req->result = s;
    return;
  }
  // A request failed and took the batch with it. Each request gets its own
  // transaction so that only the failing one fails (alone, it has failed
  // already), and the counters and ledger entries go with the first that
  // commits, or on their own when none does.
  bool async_written = false;
  if (batch.size() > 1) {
    PendingSent no_sent;
    PendingLedger no_ledger;
    for (Request* req : batch) {
      req->result = async_written ? CommitOnce({req}, no_sent, no_ledger, &request_failed)
                                  : CommitOnce({req}, sent, ledger, &request_failed);
      async_written = async_written || req->result.ok();
    }
  }
  if (!async_written && (!sent.empty() || !ledger.empty())) {
    s = CommitOnce({}, sent, ledger, &request_failed);
    if (!s.ok()) {
      spdlog::error("store: dropping {} sent counters and {} sent-ledger entries: {}",
                    sent.size(), ledger.size(), s.ToString());
    }
  }
}

void Store::Impl::WriterLoop() {
  using Clock = std::chrono::steady_clock;
  Clock::time_point last_expiry = Clock::now();
  const auto flush_interval = std::chrono::milliseconds(std::max(1, options_.flush_interval_ms));
  std::unique_lock lock(mu_);
  for (;;) {
    work_cv_.wait_for(lock, flush_interval, [&] { return stop_ || !queue_.empty(); });
    const bool expiry_due = options_.expire_interval_s > 0 &&
                            Clock::now() - last_expiry >= std::chrono::seconds(options_.expire_interval_s);
    if (queue_.empty() && pending_sent_.empty() && pending_ledger_.empty() && !expiry_due) {
      if (stop_) return;
      continue;
    }
    std::vector<Request*> batch(queue_.begin(), queue_.end());
    queue_.clear();
    PendingSent sent;
    sent.swap(pending_sent_);
    PendingLedger ledger;
    ledger.swap(pending_ledger_);
    lock.unlock();

    Request expiry{[&](WriteContext& ctx) {
                     std::uint64_t lifted = 0;
                     bool more = false;
                     return ExpireInTxn(options_, ctx, WallNow(), &lifted, &more);
                   },
                   Status::Ok(), false};
    if (expiry_due) {
      batch.push_back(&expiry);
      last_expiry = Clock::now();
    }
    CommitBatch(batch, sent, ledger);
    if (expiry_due) {
      batch.pop_back();
      if (!expiry.result.ok()) spdlog::warn("periodic expiry: {}", expiry.result.ToString());
    }

    lock.lock();
    for (Request* req : batch) req->done = true;
    done_cv_.notify_all();
  }
}

Store::Impl::~Impl() {
  index_.reset();  // its thread reads the environment
  if (writer_.joinable()) {
    {
      std::lock_guard lock(mu_);
      stop_ = true;
    }
    work_cv_.notify_one();
    writer_.join();
  }
}

}  // namespace bm
