// The plain data kept by the suppression store: one AddressRecord per
// normalised recipient address, one DomainRecord per receiving domain, and an
// append-only log of StoredEvents. Encoded with store/codec.h; copyable.
#ifndef BM_STORE_RECORDS_H_
#define BM_STORE_RECORDS_H_

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace bm {

enum class AddressState : std::uint8_t {
  kActive = 0,               // known, mail flows (e.g. a soft bounce below the threshold)
  kSuppressed = 1,           // permanent: hard bounce, complaint, manual, import
  kSuppressedTemporary = 2,  // soft-bounce threshold reached; lifted at suppressed_until
  kUnblocked = 3,            // an admin lifted a suppression; mail flows
};
// "active", "suppressed", "suppressed-temporary", "unblocked".
std::string_view AddressStateName(AddressState s);
std::optional<AddressState> ParseAddressState(std::string_view name);

enum class RecordSource : std::uint8_t { kBounce = 0, kComplaint = 1, kManual = 2, kImport = 3 };
// "bounce", "complaint", "manual", "import".
std::string_view RecordSourceName(RecordSource s);
std::optional<RecordSource> ParseRecordSource(std::string_view name);

enum class EventType : std::uint8_t {
  kBounce = 0,          // a classified bounce (hard or soft, any reason)
  kComplaint = 1,       // an ARF complaint
  kUnblock = 2,         // admin lifted a suppression
  kSuppress = 3,        // admin suppressed an address by hand
  kImport = 4,          // a row of an import merged into the record
  kExpiry = 5,          // a temporary suppression ran out
  kDomainSuppress = 6,  // a whole domain was suppressed (address = "@domain")
  kDomainUnblock = 7,   // a domain entry was lifted (address = "@domain")
};
// "bounce", "complaint", "unblock", "suppress", "import", "expiry",
// "domain-suppress", "domain-unblock".
std::string_view EventTypeName(EventType t);

// One recipient address. Times are Unix seconds; 0 means "never / unknown".
struct AddressRecord {
  std::string address;  // normalised (see store/address.h); the key
  AddressState state = AddressState::kActive;
  std::string reason;       // reason of the event that set the state ("userunknown", ...)
  std::string bounce_class;  // "permanent" | "transient" | "" (manual, import)
  bool hard = false;
  RecordSource source = RecordSource::kBounce;
  std::int64_t first_bounce = 0;
  std::int64_t last_bounce = 0;
  std::int64_t state_since = 0;       // when the current state was entered
  std::int64_t suppressed_until = 0;  // kSuppressedTemporary only
  std::uint32_t hard_count = 0;
  std::uint32_t soft_count = 0;
  std::uint32_t complaint_count = 0;
  // Times of the soft bounces inside the policy window, oldest first; at most
  // Policy::soft_threshold entries are kept.
  std::vector<std::int64_t> soft_window;
  std::string last_status;      // enhanced status of the last bounce
  std::string last_diagnostic;  // bounded by StoreOptions::max_diagnostic_bytes
  std::string last_rule_id;
  std::string message_id;       // Message-ID of the bounced message, if known
  bool counted_hostunknown = false;  // already counted towards its domain's threshold
  std::uint64_t last_event_seq = 0;  // newest event about this address (history chain)
  std::uint64_t updated_seq = 0;     // event that last changed this record (export cursor)

  bool operator==(const AddressRecord&) const = default;
};

// One receiving domain: its suppression entry, if any, and its counters.
struct DomainRecord {
  std::string domain;  // lower-cased ASCII, IDN as given; the key
  std::uint32_t id = 0;  // assigned when the entry is created; prefix of its addresses' keys
  bool suppressed = false;
  std::string reason;  // "hostunknown" when confirmed by bounces, else the admin's
  RecordSource source = RecordSource::kBounce;
  std::int64_t since = 0;
  std::uint32_t hostunknown_addresses = 0;  // distinct addresses with a hostunknown hard bounce
  std::uint64_t sent = 0;                   // recipients sent to (CountSent)
  std::uint64_t sender_blamed = 0;          // bounces blaming the sender, all reasons
  // Sender-blamed bounces by reason, sorted by reason.
  std::vector<std::pair<std::string, std::uint64_t>> sender_blamed_by_reason;
};

// A bounce or complaint to record, produced by EventsFromReport (store/ingest.h)
// or built directly. Address as found; Record normalises it.
struct BounceEvent {
  EventType type = EventType::kBounce;  // kBounce or kComplaint
  std::string address;
  std::string reason;        // reason vocabulary word; required
  std::string bounce_class;  // "permanent" | "transient"
  bool hard = false;
  std::string status;
  std::string diagnostic;
  std::string rule_id;
  std::string message_id;  // of the message that bounced, without <>
  std::int64_t time = 0;   // Unix seconds the bounce was received
};

// One entry of the append-only event log, keyed by seq (1, 2, 3, ...).
struct StoredEvent {
  std::uint64_t seq = 0;
  EventType type = EventType::kBounce;
  std::int64_t time = 0;
  std::string address;  // normalised address, or "@domain" for domain events
  std::string reason;
  std::string bounce_class;
  bool hard = false;
  std::string status;
  std::string rule_id;
  // Diagnostic and Message-ID are kept in the AddressRecord only (the last
  // ones), which keeps the log small: ~80 bytes per event.
  std::string actor;               // who did it for admin events ("bouncectl", "import:FILE")
  std::uint64_t prev_seq = 0;      // previous event of the same address (0 = none)
  AddressState new_state = AddressState::kActive;  // state of the address after the event
};

}  // namespace bm

#endif  // BM_STORE_RECORDS_H_
