// Bounce policy: how one event changes an address record. A pure function
// over plain data, so that the rules are testable without LMDB; Store applies
// it inside its write transaction. docs/store.md states the same rules.
#ifndef BM_STORE_POLICY_H_
#define BM_STORE_POLICY_H_

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"
#include "store/records.h"

namespace bm {

struct Policy {
  // A soft (transient, not sender-blamed) bounce is counted; soft_threshold
  // of them within soft_window_days make the address suppressed-temporary for
  // temporary_days, lifted automatically when that time has passed.
  int soft_threshold = 3;     // N, 1..32
  int soft_window_days = 7;   // W, >= 1
  int temporary_days = 14;    // T, >= 1
  // An ARF complaint suppresses the address permanently.
  bool suppress_on_complaint = true;
  // Reasons that blame the sender (its IP, domain, content or authentication),
  // not the recipient address: never suppress, counted per receiving domain.
  std::vector<std::string> sender_blamed_reasons = {
      "blocked",    "spamdetected", "policyviolation", "authfailure", "badreputation",
      "requireptr", "rejected",     "securityerror",   "virusdetected", "contenterror",
      "notcompliantrfc", "speeding", "toomanyconn", "failedstarttls", "norelaying",
      "syntaxerror", "mesgtoobig", "exceedlimit"};
  // Reasons that say the mail was (or will be) read: no change at all.
  std::vector<std::string> no_change_reasons = {"vacation", "delivered", "feedback"};
  // hostunknown hard bounces from this many distinct addresses of one domain
  // suppress the whole domain (0 disables domain entries from bounces).
  int domain_hostunknown_threshold = 3;

  // Checks the bounds above. Errors: kInvalidArgument naming the field.
  Status Validate() const;
  bool IsSenderBlamed(std::string_view reason) const;
  bool IsNoChange(std::string_view reason) const;
};

// What applying an event did.
enum class PolicyOutcome {
  kNoChange,        // record untouched (no-change reason, or sender-blamed)
  kCounted,         // counters changed, state did not
  kStateChanged,    // state changed (suppressed, temporary, ...)
};

// Applies a kBounce or kComplaint event (ev.type) to the record of its
// address (ev.address is not used: the caller matched it). `record` is the current record (default-constructed with the
// address set when new). Sender-blamed and no-change reasons return kNoChange
// without touching the record. REQUIRES: policy.Validate().ok().
PolicyOutcome ApplyBounce(const Policy& policy, const BounceEvent& ev, AddressRecord& record);

// Lifts a temporary suppression whose suppressed_until <= now. True if lifted.
bool ApplyExpiry(AddressRecord& record, std::int64_t now);

}  // namespace bm

#endif  // BM_STORE_POLICY_H_
