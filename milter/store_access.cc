#include "milter/store_access.h"

#include <ctime>

#include <spdlog/spdlog.h>

#include "store/ingest.h"
#include "store/store.h"

namespace bm {

StoreAccess::StoreAccess(std::string path, int retry_seconds)
    : path_(std::move(path)), retry_seconds_(retry_seconds) {}

StoreAccess::~StoreAccess() = default;

Status StoreAccess::Open() {
  Result<Store*> store = Get();
  return store.ok() ? Status::Ok() : store.status();
}

Result<Store*> StoreAccess::Get() {
  if (Store* ready = ready_.load(std::memory_order_acquire)) return ready;
  std::lock_guard<std::mutex> lock(open_mu_);
  if (store_ != nullptr) return store_.get();
  const std::int64_t now = static_cast<std::int64_t>(std::time(nullptr));
  if (last_attempt_ != 0 && now - last_attempt_ < retry_seconds_) {
    return Status::Unavailable("store " + path_ + " could not be opened; next attempt within " +
                               std::to_string(retry_seconds_) + "s");
  }
  last_attempt_ = now;
  StoreOptions options;
  options.path = path_;
  Result<std::unique_ptr<Store>> opened = Store::Open(options);
  if (!opened.ok()) {
    return Status::Unavailable("store " + path_ + ": " + opened.status().ToString());
  }
  store_ = std::move(*opened);
  ready_.store(store_.get(), std::memory_order_release);
  spdlog::info("store {} open", path_);
  return store_.get();
}

Result<RecipientStatus> StoreAccess::Check(std::string_view address, std::int64_t now) {
  Result<Store*> store = Get();
  if (!store.ok()) return store.status();
  Result<LookupResult> found = (*store)->Lookup(address, now);
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
}

Status StoreAccess::RecordReport(const BounceReport& report,
                                 const std::vector<ClassifiedRecipient>& classified,
                                 std::int64_t now) {
  std::vector<BounceEvent> events = EventsFromReport(report, classified, now);
  if (events.empty()) return Status::Ok();
  Result<Store*> store = Get();
  if (!store.ok()) return store.status();
  if (events.size() == 1) return (*store)->Record(std::move(events));
  std::vector<BounceEvent> copy = events;
  Status s = (*store)->Record(std::move(copy));
  if (s.code() != Status::Code::kInvalidArgument) return s;
  // One event the store refuses (an address that does not normalise) must not
  // make the MTA retry the whole bounce forever: record the others one by one.
  for (BounceEvent& event : events) {
    std::string address = event.address;
    Status one = (*store)->Record({std::move(event)});
    if (one.code() == Status::Code::kInvalidArgument) {
      spdlog::warn("bounce recipient not recorded: {}", one.ToString());
    } else if (!one.ok()) {
      return one;
    }
  }
  return Status::Ok();
}

Status StoreAccess::CountSent(std::string_view domain, std::uint64_t recipients) {
  Result<Store*> store = Get();
  if (!store.ok()) return store.status();
  (*store)->CountSent(domain, recipients);
  return Status::Ok();
}

Status StoreAccess::RecordSent(std::string_view message_id,
                               const std::vector<std::string>& recipients,
                               std::int64_t ttl_seconds, std::int64_t now) {
  Result<Store*> store = Get();
  if (!store.ok()) return store.status();
  (*store)->RecordSent(message_id, recipients, ttl_seconds, now);
  return Status::Ok();
}

Result<std::optional<std::vector<std::string>>> StoreAccess::LookupSent(
    std::string_view message_id, std::int64_t now) {
  Result<Store*> store = Get();
  if (!store.ok()) return store.status();
  Result<std::optional<std::vector<std::string>>> sent = (*store)->LookupSent(message_id, now);
  if (!sent.ok() || sent->has_value()) return sent;
  Status flushed = (*store)->Flush();
  if (!flushed.ok()) return flushed;
  return (*store)->LookupSent(message_id, now);
}

}  // namespace bm
