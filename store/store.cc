// Store: opening, and the public write entry points (which hand closures to
// the writer thread, store_writer.cc). Reads are in store_read.cc.
#include "store/store.h"

#include <sys/stat.h>

#include <atomic>
#include <cerrno>
#include <cstring>
#include <ctime>
#include <filesystem>

#include <spdlog/spdlog.h>

#include "store/store_impl.h"

namespace bm {
namespace {

// Schema 3: the layout of schema 2 (domain ids and the text dictionary,
// docs/store.md), renumbered so that programs older than the domain
// generation, which write domain entries without bumping it, refuse the
// store instead of leaving the lookup caches of current programs stale.
// A schema 2 store is upgraded in place by the first open with write access
// (UpgradeSchema2) and read as it is by a read-only open. Schema 1 stores
// (before 2026-11-23) are refused; none was deployed.
constexpr std::string_view kSchemaVersion = "3";
constexpr std::string_view kUpgradableSchema = "2";
constexpr unsigned kMaxDbs = 12;
constexpr std::size_t kMaxMessageIdBytes = 480;  // LMDB keys are at most 511 bytes
constexpr std::size_t kMaxLedgerRecipients = 1000;

std::int64_t WallNow() { return static_cast<std::int64_t>(std::time(nullptr)); }

Status CreateDirectory(const std::string& path) {
  std::error_code ec;
  std::filesystem::create_directories(path, ec);
  if (ec) return Status::IOError("create " + path + ": " + ec.message());
  ::chmod(path.c_str(), 0750);
  return Status::Ok();
}

// Schema 2 -> 3 inside the opening write transaction. Only the version
// changes, and the domain generation: a schema 2 store may have been written
// by programs that did not bump it, so every lookup cache (of a read-only
// program that opened the store before) is emptied at its next lookup.
Status UpgradeSchema2(lmdb::Txn& txn, MDB_dbi meta) {
  Result<DomainGeneration> gen = ReadDomainGeneration(txn, meta);
  if (!gen.ok()) return gen.status();
  ++gen->suppression;
  ++gen->creation;
  int rc = txn.Put(meta, kDomainGenKey, EncodeDomainGeneration(*gen));
  if (rc == 0) rc = txn.Put(meta, "schema", kSchemaVersion);
  if (rc != 0) return lmdb::ErrorStatus(rc, "upgrade schema");
  return Status::Ok();
}

}  // namespace

Status Store::Impl::Open() {
  Status s = options_.policy.Validate();
  if (!s.ok()) return s;
  if (options_.path.empty()) return Status::InvalidArgument("empty store path");
  if (options_.initial_map_bytes < (std::size_t{1} << 20) ||
      options_.max_map_bytes < options_.initial_map_bytes) {
    return Status::InvalidArgument("map sizes: need 1 MiB <= initial_map_bytes <= max_map_bytes");
  }
  if (!options_.read_only) {
    s = CreateDirectory(options_.path);
    if (!s.ok()) return s;
  }
  s = env_.Open(options_.path, options_.initial_map_bytes, kMaxDbs, options_.max_readers,
                options_.read_only);
  if (!s.ok()) return s;
  int dead = 0;
  mdb_reader_check(env_.get(), &dead);  // slots of crashed processes

  const bool create = !options_.read_only;
  for (int attempt = 0;; ++attempt) {
    lmdb::Txn txn;
    int rc = lmdb::Txn::Begin(env_, options_.read_only, &txn);
    if (lmdb::IsMapResized(rc) && attempt == 0) {
      s = env_.SetMapSize(0);
      if (!s.ok()) return s;
      continue;
    }
    if (rc != 0) return lmdb::ErrorStatus(rc, "begin txn");
    // The schema first: an older store is refused before anything is added to it.
    rc = lmdb::OpenDbi(txn, "meta", create, &dbis_.meta);
    if (rc == MDB_NOTFOUND) return Status::NotFound(options_.path + " holds no bounce-milter store");
    if (rc != 0) return lmdb::ErrorStatus(rc, "open database meta");
    std::string_view schema;
    rc = txn.Get(dbis_.meta, "schema", &schema);
    const bool fresh = rc == MDB_NOTFOUND && create;
    if (rc == MDB_NOTFOUND && !create) return Status::Corruption("store has no schema version");
    if (rc != 0 && !fresh) return lmdb::ErrorStatus(rc, "read schema");
    // Decided before anything is written: `schema` points into the transaction.
    const bool upgrade = !fresh && create && schema == kUpgradableSchema;
    if (!fresh && schema != kSchemaVersion && schema != kUpgradableSchema) {
      return Status::Corruption("store " + options_.path + " has schema '" + std::string(schema) +
                                "', this program reads schema '" + std::string(kSchemaVersion) +
                                "' (and upgrades schema '" + std::string(kUpgradableSchema) +
                                "'): export it with the bouncectl that wrote it and import the "
                                "file into a new store");
    }
    const std::pair<const char*, MDB_dbi*> names[] = {
        {"addresses", &dbis_.addresses},   {"domains", &dbis_.domains},
        {"domain_ids", &dbis_.domain_ids}, {"texts", &dbis_.texts},
        {"text_ids", &dbis_.text_ids},     {"events", &dbis_.events},
        {"expiry", &dbis_.expiry},         {"sent", &dbis_.sent},
        {"sent_expiry", &dbis_.sent_expiry}};
    for (const auto& [name, dbi] : names) {
      rc = lmdb::OpenDbi(txn, name, create, dbi);
      if (rc == MDB_NOTFOUND) {
        return Status::Corruption(options_.path + " is an incomplete store (database '" + name +
                                  "' missing)");
      }
      if (rc != 0) return lmdb::ErrorStatus(rc, std::string("open database ") + name);
    }
    if (fresh) {
      rc = txn.Put(dbis_.meta, "schema", kSchemaVersion);
      if (rc == 0) rc = txn.Put(dbis_.meta, "next_seq", lmdb::EncodeU64Key(1));
      if (rc != 0) return lmdb::ErrorStatus(rc, "initialise store");
    }
    if (upgrade) {
      s = UpgradeSchema2(txn, dbis_.meta);
      if (!s.ok()) return s;
    }
    rc = txn.Commit();
    if (rc != 0) return lmdb::ErrorStatus(rc, "commit");
    if (upgrade) {
      spdlog::info("store {}: upgraded from schema {} to {}", options_.path, kUpgradableSchema,
                   kSchemaVersion);
    }
    break;
  }
  if (!options_.read_only) writer_ = std::thread([this] { WriterLoop(); });
  if (options_.lookup_index) {
    index_ = std::make_unique<LookupIndex>(
        [this](const std::function<Status(const lmdb::Txn&)>& fn) { return Read(fn); },
        LookupIndex::Databases{dbis_.addresses, dbis_.events, dbis_.meta},
        options_.lookup_index_max_addresses);
  }
  return Status::Ok();
}

Result<std::unique_ptr<Store>> Store::Open(const StoreOptions& options) {
  auto impl = std::make_unique<Impl>(options);
  Status s = impl->Open();
  if (!s.ok()) return s;
  return std::unique_ptr<Store>(new Store(std::move(impl)));
}

Store::Impl::Impl(const StoreOptions& options) : options_(options), uid_([] {
  static std::atomic<std::uint64_t> next{1};
  return next.fetch_add(1, std::memory_order_relaxed);
}()) {}

Store::Store(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Store::~Store() = default;

const StoreOptions& Store::options() const { return impl_->options_; }

Status Store::Record(std::vector<BounceEvent> events) {
  if (events.empty()) return Status::Ok();
  const std::int64_t now = WallNow();
  for (BounceEvent& ev : events) {
    if (ev.type != EventType::kBounce && ev.type != EventType::kComplaint) {
      return Status::InvalidArgument("Record takes bounce and complaint events only");
    }
    Result<std::string> address = NormalizeAddress(ev.address, impl_->options_.normalization);
    if (!address.ok()) {
      return Status::InvalidArgument("address '" + ev.address + "': " + address.status().message());
    }
    ev.address = std::move(*address);
    if (ev.reason.empty() && ev.type == EventType::kComplaint) ev.reason = "feedback";
    if (ev.reason.empty()) return Status::InvalidArgument("event for " + ev.address + " has no reason");
    if (ev.time == 0) ev.time = now;
    if (ev.diagnostic.size() > impl_->options_.max_diagnostic_bytes) {
      ev.diagnostic.resize(impl_->options_.max_diagnostic_bytes);
    }
  }
  const StoreOptions& options = impl_->options_;
  return impl_->Submit([&](WriteContext& ctx) { return ApplyBounceEvents(options, ctx, events); });
}

void Store::CountSent(std::string_view domain, std::uint64_t n) {
  Result<std::string> d = NormalizeDomain(domain);
  if (!d.ok() || n == 0 || impl_->options_.read_only) return;
  std::lock_guard lock(impl_->mu_);
  impl_->pending_sent_[*d] += n;
}

void Store::RecordSent(std::string_view message_id, std::vector<std::string> recipients,
                       std::int64_t ttl_seconds, std::int64_t now) {
  if (message_id.size() >= 2 && message_id.front() == '<' && message_id.back() == '>') {
    message_id = message_id.substr(1, message_id.size() - 2);
  }
  if (message_id.empty() || message_id.size() > kMaxMessageIdBytes || ttl_seconds <= 0 ||
      impl_->options_.read_only) {
    return;
  }
  if (recipients.size() > kMaxLedgerRecipients) recipients.resize(kMaxLedgerRecipients);
  for (std::string& r : recipients) {
    Result<std::string> n = NormalizeAddress(r, impl_->options_.normalization);
    if (n.ok()) r = std::move(*n);
  }
  std::lock_guard lock(impl_->mu_);
  impl_->pending_ledger_.push_back(
      {std::string(message_id), SentEntry{now + ttl_seconds, std::move(recipients)}});
}

Status Store::Flush() {
  return impl_->Submit([](WriteContext&) { return Status::Ok(); });
}

Result<std::uint64_t> Store::ExpireNow(std::int64_t now) {
  std::uint64_t lifted = 0;
  for (bool more = true; more;) {
    more = false;
    Status s = impl_->Submit([&](WriteContext& ctx) {
      return ExpireInTxn(impl_->options_, ctx, now, &lifted, &more);
    });
    if (!s.ok()) return s;
  }
  return lifted;
}

Result<UnblockOutcome> Store::Unblock(std::string_view address, bool force,
                                      std::string_view actor, std::int64_t now) {
  Result<std::string> a = NormalizeAddress(address, impl_->options_.normalization);
  if (!a.ok()) return a.status();
  UnblockOutcome outcome = UnblockOutcome::kNotSuppressed;
  Status s = impl_->Submit([&](WriteContext& ctx) -> Status {
    Result<UnblockOutcome> r = UnblockInTxn(ctx, *a, force, actor, now);
    if (r.ok()) outcome = *r;
    return r.status();
  });
  if (!s.ok()) return s;
  return outcome;
}

Status Store::Suppress(std::string_view address, std::string_view reason, std::int64_t until,
                       std::string_view actor, std::int64_t now) {
  Result<std::string> a = NormalizeAddress(address, impl_->options_.normalization);
  if (!a.ok()) return a.status();
  if (reason.empty()) return Status::InvalidArgument("a manual suppression needs a reason");
  if (until != 0 && until <= now) return Status::InvalidArgument("'until' is not in the future");
  const std::string r(reason);
  return impl_->Submit(
      [&](WriteContext& ctx) { return SuppressInTxn(ctx, *a, r, until, actor, now); });
}

Status Store::SuppressDomain(std::string_view domain, std::string_view reason,
                             std::string_view actor, std::int64_t now) {
  Result<std::string> d = NormalizeDomain(domain);
  if (!d.ok()) return d.status();
  if (reason.empty()) return Status::InvalidArgument("a domain suppression needs a reason");
  const std::string r(reason);
  return impl_->Submit(
      [&](WriteContext& ctx) { return SuppressDomainEntry(ctx, *d, r, actor, now); });
}

Result<bool> Store::UnblockDomain(std::string_view domain, std::string_view actor,
                                  std::int64_t now) {
  Result<std::string> d = NormalizeDomain(domain);
  if (!d.ok()) return d.status();
  bool lifted = false;
  Status s = impl_->Submit([&](WriteContext& ctx) -> Status {
    Result<bool> r = UnblockDomainEntry(ctx, *d, actor, now);
    if (r.ok()) lifted = *r;
    return r.status();
  });
  if (!s.ok()) return s;
  return lifted;
}

Status Store::Import(const std::vector<ImportRow>& rows, std::string_view actor,
                     std::int64_t now) {
  std::vector<ImportRow> normalized = rows;
  for (std::size_t i = 0; i < normalized.size(); ++i) {
    ImportRow& row = normalized[i];
    Result<std::string> a = NormalizeAddress(row.address, impl_->options_.normalization);
    if (!a.ok()) {
      return Status::InvalidArgument("row " + std::to_string(i + 1) + ": address '" +
                                     row.address + "': " + a.status().message());
    }
    row.address = std::move(*a);
    row.diagnostic.resize(std::min(row.diagnostic.size(), impl_->options_.max_diagnostic_bytes));
  }
  return impl_->Submit([&](WriteContext& ctx) {
    for (const ImportRow& row : normalized) {
      Status s = ImportInTxn(ctx, row, actor, now);
      if (!s.ok()) return s;
    }
    return Status::Ok();
  });
}

}  // namespace bm
