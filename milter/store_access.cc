#include "milter/store_access.h"

#include <algorithm>
#include <ctime>
#include <utility>

#include <spdlog/spdlog.h>

#include "milter/config_store.h"
#include "store/ingest.h"
#include "store/store.h"

namespace bm {

namespace {

// The store options of the daemon: the shared ones, plus the lookup index,
// which only a long-running reader gains from, and a test's flush interval.
std::unique_ptr<const StoreOptions> DaemonOptions(const Config& config,
                                                  std::optional<int> flush_interval_ms) {
  auto options = std::make_unique<StoreOptions>(StoreOptionsFromConfig(config));
  options->lookup_index = config.lookup_index;
  options->lookup_index_max_addresses = config.lookup_index_max_addresses;
  if (flush_interval_ms) options->flush_interval_ms = *flush_interval_ms;
  return options;
}

std::unique_ptr<const StoreOptions> OptionsAt(std::string path) {
  auto options = std::make_unique<StoreOptions>();
  options->path = std::move(path);
  return options;
}

}  // namespace

StoreAccess::StoreAccess(const Config& config)
    : StoreAccess(DaemonOptions(config, std::nullopt), config.store_retry_seconds, std::nullopt) {}

StoreAccess::StoreAccess(const Config& config, int flush_interval_ms)
    : StoreAccess(DaemonOptions(config, flush_interval_ms), config.store_retry_seconds,
                  flush_interval_ms) {}

StoreAccess::StoreAccess(std::string path, int retry_seconds)
    : StoreAccess(OptionsAt(std::move(path)), retry_seconds, std::nullopt) {}

StoreAccess::StoreAccess(std::unique_ptr<const StoreOptions> options, int retry_seconds,
                         std::optional<int> flush_interval_ms)
    : options_(std::move(options)),
      retry_seconds_(retry_seconds),
      flush_interval_ms_(flush_interval_ms) {}

// Holds mu_ exclusively, counted in exclusive_ from before the wait for it
// until after its release: for that whole time MayWait() says so.
class StoreAccess::ExclusiveLock {
 public:
  explicit ExclusiveLock(StoreAccess& access) : access_(access) {
    ++access_.exclusive_;
    access_.mu_.lock();
  }
  ~ExclusiveLock() {
    access_.mu_.unlock();
    --access_.exclusive_;
  }
  ExclusiveLock(const ExclusiveLock&) = delete;
  ExclusiveLock& operator=(const ExclusiveLock&) = delete;

 private:
  StoreAccess& access_;
};

StoreAccess::~StoreAccess() = default;

Status StoreAccess::Open() { return OpenIfDue(); }

void StoreAccess::Close() {
  ExclusiveLock lock(*this);
  closed_ = true;
  if (store_ == nullptr) return;
  open_ = false;
  store_.reset();
  spdlog::info("store {} closed", options_->path);
}

Status StoreAccess::Reopen(const Config& config) {
  std::unique_ptr<const StoreOptions> options = DaemonOptions(config, flush_interval_ms_);
  ExclusiveLock lock(*this);
  if (closed_) return Status::Unavailable("store " + options_->path + " is closed (stopping)");
  if (store_ != nullptr) {
    open_ = false;
    store_.reset();
    spdlog::info("store {} closed to apply the new store configuration", options_->path);
  }
  options_ = std::move(options);
  last_attempt_ = 0;
  return OpenLocked();
}

Status StoreAccess::OpenIfDue() {
  ExclusiveLock lock(*this);
  return OpenLocked();
}

Status StoreAccess::WhyNoAttempt(std::int64_t now) const {
  if (closed_) return Status::Unavailable("store " + options_->path + " is closed (stopping)");
  if (last_attempt_ != 0 && now - last_attempt_ < retry_seconds_) {
    return Status::Unavailable("store " + options_->path +
                               " could not be opened; next attempt within " +
                               std::to_string(retry_seconds_) + "s");
  }
  return Status::Ok();
}

Status StoreAccess::OpenLocked() {
  if (store_ != nullptr) return Status::Ok();  // never set once closed_
  const std::int64_t now = static_cast<std::int64_t>(std::time(nullptr));
  if (Status s = WhyNoAttempt(now); !s.ok()) return s;
  last_attempt_ = now;
  Result<std::unique_ptr<Store>> opened = Store::Open(*options_);
  if (!opened.ok()) {
    return Status::Unavailable("store " + options_->path + ": " + opened.status().ToString());
  }
  store_ = std::move(*opened);
  open_ = true;
  spdlog::info("store {} open", options_->path);
  return Status::Ok();
}

template <typename Fn>
auto StoreAccess::WithStore(Fn&& fn) {
  using Return = decltype(fn(std::declval<Store&>()));
  {
    std::shared_lock<std::shared_mutex> lock(mu_);
    if (store_ != nullptr) return Return(fn(*store_));
    // During an outage, answer from the shared lock until a retry is due:
    // the exclusive lock would make every milter thread wait in turn.
    Status wait = WhyNoAttempt(static_cast<std::int64_t>(std::time(nullptr)));
    if (!wait.ok()) return Return(wait);
  }
  Status opened = OpenIfDue();
  if (!opened.ok()) return Return(opened);
  std::shared_lock<std::shared_mutex> lock(mu_);
  // Closed between the open and this lock: only at shutdown.
  if (store_ == nullptr) {
    return Return(Status::Unavailable("store " + options_->path + " is closed"));
  }
  return Return(fn(*store_));
}

Result<RecipientStatus> StoreAccess::Check(std::string_view address, std::int64_t now) {
  return WithStore([&](Store& store) -> Result<RecipientStatus> {
    Result<LookupResult> found = store.Lookup(address, now);
    if (!found.ok()) {
      // An address that does not normalise cannot be suppressed.
      if (found.status().code() == Status::Code::kInvalidArgument) return RecipientStatus();
      return found.status();
    }
    RecipientStatus status;
    status.refused = found->suppressed;
    status.temporary = found->temporary;
    status.state = found->domain_level ? "domain-suppressed"
                                       : std::string(AddressStateName(found->state));
    status.reason = found->reason;
    status.since = found->since;
    status.until = found->until;
    return status;
  });
}

Status StoreAccess::RecordReport(const BounceReport& report,
                                 const std::vector<ClassifiedRecipient>& classified,
                                 std::int64_t now) {
  std::vector<BounceEvent> events = EventsFromReport(report, classified, now);
  if (events.empty()) return Status::Ok();
  return WithStore([&](Store& store) -> Status {
    if (events.size() > 1) {
      std::vector<BounceEvent> copy = events;
      Status s = store.Record(std::move(copy));
      if (s.code() != Status::Code::kInvalidArgument) return s;
    }
    // An event the store refuses (an address that does not normalise) must
    // not make the MTA retry the whole bounce forever: it is logged and
    // skipped, the others are recorded one by one.
    for (BounceEvent& event : events) {
      Status one = store.Record({std::move(event)});
      if (one.code() == Status::Code::kInvalidArgument) {
        spdlog::warn("bounce recipient not recorded: {}", one.ToString());
      } else if (!one.ok()) {
        return one;
      }
    }
    return Status::Ok();
  });
}

Status StoreAccess::CountSent(std::string_view domain, std::uint64_t recipients) {
  return WithStore([&](Store& store) {
    store.CountSent(domain, recipients);
    return Status::Ok();
  });
}

Status StoreAccess::RecordSent(std::string_view key, const std::vector<std::string>& recipients,
                               std::int64_t ttl_seconds, std::int64_t now) {
  return WithStore([&](Store& store) {
    store.RecordSent(key, recipients, ttl_seconds, now);
    return Status::Ok();
  });
}

Result<StoreAccess::SentEntries> StoreAccess::LookupSent(const std::vector<std::string>& keys,
                                                        std::int64_t now,
                                                        const SentWanted& wanted) {
  return WithStore([&](Store& store) -> Result<SentEntries> {
    auto look = [&]() -> Result<SentEntries> {
      SentEntries entries;
      entries.reserve(keys.size());
      for (const std::string& key : keys) {
        Result<std::optional<std::vector<std::string>>> sent = store.LookupSent(key, now);
        if (!sent.ok()) return sent.status();
        entries.push_back(std::move(*sent));
      }
      return entries;
    };
    auto any_wanted = [&](const SentEntries& entries) {
      return std::any_of(entries.begin(), entries.end(), [&](const auto& entry) {
        return entry.has_value() && (!wanted || wanted(*entry));
      });
    };
    Result<SentEntries> entries = look();
    if (!entries.ok() || keys.empty() || any_wanted(*entries)) return entries;
    // One commit of the queued entries, however many keys missed.
    Status flushed = store.Flush();
    if (!flushed.ok()) return flushed;
    return look();
  });
}

}  // namespace bm
