#include "store/policy.h"

#include <algorithm>

namespace bm {
namespace {

constexpr std::int64_t kDay = 86400;

bool Contains(const std::vector<std::string>& list, std::string_view word) {
  return std::find(list.begin(), list.end(), word) != list.end();
}

void EnterState(const BounceEvent& ev, AddressState state, RecordSource source,
                AddressRecord& rec) {
  rec.state = state;
  rec.source = source;
  rec.reason = ev.reason;
  rec.bounce_class = ev.bounce_class;
  rec.hard = ev.hard;
  rec.state_since = ev.time;
  rec.suppressed_until = 0;
  rec.soft_window.clear();
}

}  // namespace

Status Policy::Validate() const {
  if (soft_threshold < 1 || soft_threshold > 32) {
    return Status::InvalidArgument("policy soft_threshold must be 1..32");
  }
  if (soft_window_days < 1 || soft_window_days > 3650) {
    return Status::InvalidArgument("policy soft_window_days must be 1..3650");
  }
  if (temporary_days < 1 || temporary_days > 3650) {
    return Status::InvalidArgument("policy temporary_days must be 1..3650");
  }
  if (domain_hostunknown_threshold < 0) {
    return Status::InvalidArgument("policy domain_hostunknown_threshold must be >= 0");
  }
  return Status::Ok();
}

bool Policy::IsSenderBlamed(std::string_view reason) const {
  return Contains(sender_blamed_reasons, reason);
}

bool Policy::IsNoChange(std::string_view reason) const {
  return Contains(no_change_reasons, reason);
}

bool ApplyExpiry(AddressRecord& rec, std::int64_t now) {
  if (rec.state != AddressState::kSuppressedTemporary || rec.suppressed_until > now) return false;
  rec.state = AddressState::kActive;
  rec.state_since = now;
  rec.suppressed_until = 0;
  return true;
}

PolicyOutcome ApplyBounce(const Policy& policy, const BounceEvent& ev, AddressRecord& rec) {
  const bool complaint = ev.type == EventType::kComplaint;
  if (!complaint && (policy.IsNoChange(ev.reason) || policy.IsSenderBlamed(ev.reason))) {
    return PolicyOutcome::kNoChange;
  }
  if (rec.first_bounce == 0 || ev.time < rec.first_bounce) rec.first_bounce = ev.time;
  rec.last_bounce = std::max(rec.last_bounce, ev.time);
  if (!ev.status.empty()) rec.last_status = ev.status;
  if (!ev.diagnostic.empty()) rec.last_diagnostic = ev.diagnostic;
  if (!ev.rule_id.empty()) rec.last_rule_id = ev.rule_id;
  if (!ev.message_id.empty()) rec.message_id = ev.message_id;
  // A temporary suppression that ran out counts as lifted from here on.
  ApplyExpiry(rec, ev.time);

  if (complaint) {
    ++rec.complaint_count;
    if (!policy.suppress_on_complaint || rec.state == AddressState::kSuppressed) {
      return PolicyOutcome::kCounted;
    }
    EnterState(ev, AddressState::kSuppressed, RecordSource::kComplaint, rec);
    return PolicyOutcome::kStateChanged;
  }
  if (ev.hard) {
    ++rec.hard_count;
    if (rec.state == AddressState::kSuppressed) return PolicyOutcome::kCounted;
    EnterState(ev, AddressState::kSuppressed, RecordSource::kBounce, rec);
    return PolicyOutcome::kStateChanged;
  }

  ++rec.soft_count;
  if (rec.state == AddressState::kSuppressed || rec.state == AddressState::kSuppressedTemporary) {
    return PolicyOutcome::kCounted;
  }
  rec.reason = ev.reason;
  rec.bounce_class = ev.bounce_class;
  rec.hard = false;
  const std::int64_t window_start = ev.time - policy.soft_window_days * kDay;
  auto& w = rec.soft_window;
  w.erase(std::remove_if(w.begin(), w.end(), [&](std::int64_t t) { return t <= window_start; }),
          w.end());
  w.insert(std::upper_bound(w.begin(), w.end(), ev.time), ev.time);
  if (w.size() > static_cast<std::size_t>(policy.soft_threshold)) {
    w.erase(w.begin(), w.end() - policy.soft_threshold);
  }
  if (w.size() < static_cast<std::size_t>(policy.soft_threshold)) return PolicyOutcome::kCounted;
  EnterState(ev, AddressState::kSuppressedTemporary, RecordSource::kBounce, rec);
  rec.suppressed_until = ev.time + policy.temporary_days * kDay;
  return PolicyOutcome::kStateChanged;
}

}  // namespace bm
