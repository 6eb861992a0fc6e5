#include "store/codec.h"

#include "store/value_io.h"

namespace bm {
namespace {

using value_io::Reader;
using value_io::WrapAdd;
using value_io::WrapSub;
using value_io::Writer;

// Schema 2 of the store (store.cc) uses these value versions.
constexpr std::uint8_t kAddressVersion = 2;
constexpr std::uint8_t kDomainVersion = 2;
constexpr std::uint8_t kEventVersion = 2;
constexpr std::uint8_t kSentVersion = 1;
// Bounds a corrupt length can not make us exceed.
constexpr std::uint64_t kMaxListEntries = 100000;

Status Bad(const Reader& r, std::string_view what, std::string_view key) {
  if (!r.status().ok()) return r.status();
  return Status::Corruption("undecodable " + std::string(what) + " record '" + std::string(key) +
                            "'");
}

// Bounce classes take two bits on disk.
std::uint8_t ClassCode(const std::string& c) {
  if (c == "permanent") return 1;
  if (c == "transient") return 2;
  return 0;
}
const char* ClassFromCode(std::uint8_t code) {
  return code == 1 ? "permanent" : code == 2 ? "transient" : "";
}

// Reasons take one byte on disk when they are in this list. Append only:
// the position is the stored code.
constexpr std::string_view kReasonCodes[] = {
    "authfailure", "badreputation", "blocked", "contenterror", "delivered", "exceedlimit",
    "expired", "failedstarttls", "feedback", "filtered", "hasmoved", "hostunknown",
    "mailboxfull", "mailererror", "mesgtoobig", "networkerror", "norelaying", "notaccept",
    "notcompliantrfc", "onhold", "policyviolation", "rejected", "requireptr", "securityerror",
    "spamdetected", "speeding", "suppressed", "suspend", "syntaxerror", "systemerror",
    "systemfull", "toomanyconn", "undefined", "userunknown", "vacation", "virusdetected",
    "import", "manual"};

void PutReason(Writer& w, std::string_view reason) {
  for (std::size_t i = 0; i < std::size(kReasonCodes); ++i) {
    if (kReasonCodes[i] == reason) {
      w.Varint(i + 1);
      return;
    }
  }
  w.Varint(0);
  w.Str(reason);
}

bool GetReason(Reader& r, std::string_view* reason) {
  std::uint64_t code;
  if (!r.Varint(&code)) return false;
  if (code == 0) return r.Varint(&code) && r.View(code, reason);
  if (code > std::size(kReasonCodes)) return false;
  *reason = kReasonCodes[code - 1];
  return true;
}

bool GetReason(Reader& r, std::string* reason) {
  std::string_view v;
  if (!GetReason(r, &v)) return false;
  reason->assign(v);
  return true;
}

// Diagnostics usually quote the address; it is stored as one marker byte,
// which makes the diagnostics of one receiving server identical texts. A
// diagnostic that holds the marker byte itself is stored verbatim behind two
// markers (a packed text never starts so: it holds one marker at most).
constexpr char kAddressMarker = '\x01';
constexpr std::string_view kVerbatimPrefix = "\x01\x01";

std::string PackDiagnostic(std::string_view diagnostic, std::string_view address) {
  if (diagnostic.find(kAddressMarker) != std::string_view::npos) {
    return std::string(kVerbatimPrefix) + std::string(diagnostic);
  }
  std::size_t at = diagnostic.find(address);
  if (address.empty() || at == std::string_view::npos) return std::string(diagnostic);
  std::string out(diagnostic.substr(0, at));
  out += kAddressMarker;
  out.append(diagnostic.substr(at + address.size()));
  return out;
}

std::string UnpackDiagnostic(std::string packed, std::string_view address) {
  if (packed.starts_with(kVerbatimPrefix)) return packed.substr(kVerbatimPrefix.size());
  std::size_t at = packed.find(kAddressMarker);
  if (at != std::string::npos) packed.replace(at, 1, address);
  return packed;
}

// A Message-ID's right-hand side names the host that made it — for a
// bounced message, one of ours — so it goes to the text dictionary:
// varint (left length << 1 | has '@'), the left part, then the right part
// as a text reference.
Status PutMessageId(Writer& w, std::string_view id, DictionaryWriter& dict) {
  const std::size_t at = id.rfind('@');
  if (at == std::string_view::npos) {
    w.Varint(std::uint64_t{id.size()} << 1);
    w.Bytes(id);
    return Status::Ok();
  }
  w.Varint(std::uint64_t{at} << 1 | 1);
  w.Bytes(id.substr(0, at));
  return w.Text(id.substr(at + 1), dict);
}

bool GetMessageId(Reader& r, std::string* id) {
  std::uint64_t v;
  std::string_view left;
  if (!r.Varint(&v) || !r.View(v >> 1, &left)) return false;
  id->assign(left);
  if ((v & 1) == 0) return true;
  std::string right;
  if (!r.Text(&right)) return false;
  *id += '@';
  *id += right;
  return true;
}

std::uint8_t RecordFlags(const AddressRecord& r) {
  return static_cast<std::uint8_t>(static_cast<unsigned>(r.state) |
                                   static_cast<unsigned>(r.source) << 2 | (r.hard ? 1u : 0u) << 4 |
                                   (r.counted_hostunknown ? 1u : 0u) << 5 |
                                   unsigned{ClassCode(r.bounce_class)} << 6);
}

bool IsDomainEvent(EventType t) {
  return t == EventType::kDomainSuppress || t == EventType::kDomainUnblock;
}

}  // namespace

std::uint32_t DecodeIdKey(std::string_view key) {
  std::uint32_t id = 0;
  for (std::size_t i = 0; i < kIdKeyBytes; ++i) id = (id << 8) | static_cast<unsigned char>(key[i]);
  return id;
}

std::string_view AddressKeyInto(std::uint32_t domain_id, std::string_view local_part, char* buf) {
  for (int i = kIdKeyBytes - 1; i >= 0; --i) {
    buf[i] = static_cast<char>(domain_id & 0xff);
    domain_id >>= 8;
  }
  local_part.copy(buf + kIdKeyBytes, local_part.size());
  return std::string_view(buf, kIdKeyBytes + local_part.size());
}

std::string IdKey(std::uint32_t id) {
  std::string key(kIdKeyBytes, '\0');
  AddressKeyInto(id, {}, key.data());
  return key;
}

std::string AddressKey(std::uint32_t domain_id, std::string_view local_part) {
  std::string key(kIdKeyBytes + local_part.size(), '\0');
  AddressKeyInto(domain_id, local_part, key.data());
  return key;
}

Result<std::string> AddressOfKey(std::string_view key, DictionaryReader& dict) {
  if (key.size() <= kIdKeyBytes) {
    return Status::Corruption("address key of " + std::to_string(key.size()) + " bytes");
  }
  Result<std::string> domain = dict.DomainName(DecodeIdKey(key));
  if (!domain.ok()) return domain.status();
  std::string address(key.substr(kIdKeyBytes));
  address += '@';
  address += *domain;
  return address;
}

Result<std::string> EncodeAddressRecord(const AddressRecord& r, DictionaryWriter& dict) {
  Writer w;
  w.Byte(kAddressVersion);
  w.Byte(RecordFlags(r));
  // What Lookup needs comes first (DecodeLookupHead stops there). Later
  // times are deltas: they are usually close to the first, often equal.
  PutReason(w, r.reason);
  w.Time(r.first_bounce);
  w.Delta(WrapSub(r.state_since, r.first_bounce));
  w.Delta(r.suppressed_until == 0 ? 0 : WrapSub(r.suppressed_until, r.state_since));
  w.Delta(WrapSub(r.last_bounce, r.first_bounce));
  w.Varint(r.hard_count);
  w.Varint(r.soft_count);
  w.Varint(r.complaint_count);
  w.Varint(r.soft_window.size());
  for (std::int64_t t : r.soft_window) w.Delta(WrapSub(t, r.first_bounce));
  Status s = w.Text(r.last_status, dict);
  if (s.ok()) s = w.Text(PackDiagnostic(r.last_diagnostic, r.address), dict);
  if (s.ok()) s = w.Text(r.last_rule_id, dict);
  if (s.ok()) s = PutMessageId(w, r.message_id, dict);
  if (!s.ok()) return s;
  w.Varint(r.last_event_seq);
  w.Varint(r.last_event_seq - r.updated_seq);
  return w.Take();
}

namespace {

bool DecodeHead(Reader& r, LookupHead* head, std::int64_t* first_bounce, std::uint8_t* flags) {
  std::uint8_t version;
  std::int64_t since_delta = 0, until_delta = 0;
  if (!(r.Byte(&version) && version == kAddressVersion && r.Byte(flags) &&
        ((*flags >> 6) & 3) != 3 && GetReason(r, &head->reason) && r.Time(first_bounce) &&
        r.Delta(&since_delta) && r.Delta(&until_delta))) {
    return false;
  }
  head->state = static_cast<AddressState>(*flags & 3);
  head->source = static_cast<RecordSource>((*flags >> 2) & 3);
  head->state_since = WrapAdd(*first_bounce, since_delta);
  // A temporary suppression always has an end, which may be its start (an
  // import can say so): a zero delta is "no end" only for the other states.
  head->suppressed_until = until_delta == 0 && head->state != AddressState::kSuppressedTemporary
                               ? 0
                               : WrapAdd(head->state_since, until_delta);
  return true;
}

}  // namespace

Status DecodeLookupHead(std::string_view value, LookupHead* out) {
  Reader r(value);
  std::int64_t first_bounce;
  std::uint8_t flags;
  return DecodeHead(r, out, &first_bounce, &flags) ? Status::Ok()
                                                  : Bad(r, "address", "(lookup)");
}

Status DecodeAddressRecord(std::string_view key, std::string_view value, DictionaryReader& dict,
                           AddressRecord* out) {
  Result<std::string> address = AddressOfKey(key, dict);
  if (!address.ok()) return address.status();
  Reader r(value, &dict);
  AddressRecord rec;
  rec.address = std::move(*address);
  LookupHead head;
  std::uint8_t flags = 0;
  std::int64_t last_delta = 0;
  std::uint64_t window = 0, updated_delta = 0;
  bool ok = DecodeHead(r, &head, &rec.first_bounce, &flags) && r.Delta(&last_delta) &&
            r.U32(&rec.hard_count) && r.U32(&rec.soft_count) && r.U32(&rec.complaint_count) &&
            r.Varint(&window) && window <= 64;
  rec.last_bounce = WrapAdd(rec.first_bounce, last_delta);
  for (std::uint64_t i = 0; ok && i < window; ++i) {
    std::int64_t t = 0;
    ok = r.Delta(&t);
    rec.soft_window.push_back(WrapAdd(rec.first_bounce, t));
  }
  ok = ok && r.Text(&rec.last_status) && r.Text(&rec.last_diagnostic) &&
       r.Text(&rec.last_rule_id) && GetMessageId(r, &rec.message_id) &&
       r.Varint(&rec.last_event_seq) && r.Varint(&updated_delta) &&
       updated_delta <= rec.last_event_seq && r.AtEnd();
  if (!ok) return Bad(r, "address", rec.address);
  rec.state = head.state;
  rec.source = head.source;
  rec.reason.assign(head.reason);
  rec.state_since = head.state_since;
  rec.suppressed_until = head.suppressed_until;
  rec.hard = (flags & 0x10) != 0;
  rec.counted_hostunknown = (flags & 0x20) != 0;
  rec.bounce_class = ClassFromCode(static_cast<std::uint8_t>(flags >> 6));
  rec.updated_seq = rec.last_event_seq - updated_delta;
  rec.last_diagnostic = UnpackDiagnostic(std::move(rec.last_diagnostic), rec.address);
  *out = std::move(rec);
  return Status::Ok();
}

std::string EncodeDomainRecord(const DomainRecord& r) {
  Writer w;
  w.Byte(kDomainVersion);
  w.Varint(r.id);
  w.Byte(r.suppressed ? 1 : 0);
  w.Byte(static_cast<std::uint8_t>(r.source));
  w.Time(r.since);
  w.Varint(r.hostunknown_addresses);
  w.Varint(r.sent);
  w.Varint(r.sender_blamed);
  w.Str(r.reason);
  w.Varint(r.sender_blamed_by_reason.size());
  for (const auto& [reason, count] : r.sender_blamed_by_reason) {
    w.Str(reason);
    w.Varint(count);
  }
  return w.Take();
}

namespace {

bool GetDomainHead(Reader& r, DomainHead* head) {
  std::uint8_t version, suppressed;
  if (!(r.Byte(&version) && version == kDomainVersion && r.U32(&head->id) && head->id != 0 &&
        r.Byte(&suppressed) && suppressed <= 1)) {
    return false;
  }
  head->suppressed = suppressed == 1;
  return true;
}

}  // namespace

Status DecodeDomainHead(std::string_view value, DomainHead* out) {
  Reader r(value);
  return GetDomainHead(r, out) ? Status::Ok() : Bad(r, "domain", "(head)");
}

Status DecodeDomainRecord(std::string_view key, std::string_view value, DomainRecord* out) {
  Reader r(value);
  DomainRecord rec;
  rec.domain.assign(key);
  DomainHead head;
  std::uint8_t source;
  std::uint64_t n = 0;
  bool ok = GetDomainHead(r, &head) && r.Byte(&source) && source <= 3 &&
            r.Time(&rec.since) && r.U32(&rec.hostunknown_addresses) && r.Varint(&rec.sent) &&
            r.Varint(&rec.sender_blamed) && r.Str(&rec.reason) && r.Varint(&n) &&
            n <= kMaxListEntries;
  for (std::uint64_t i = 0; ok && i < n; ++i) {
    std::pair<std::string, std::uint64_t> entry;
    ok = r.Str(&entry.first) && r.Varint(&entry.second);
    rec.sender_blamed_by_reason.push_back(std::move(entry));
  }
  if (!ok || !r.AtEnd()) return Bad(r, "domain", key);
  rec.id = head.id;
  rec.suppressed = head.suppressed;
  rec.source = static_cast<RecordSource>(source);
  *out = std::move(rec);
  return Status::Ok();
}

Result<std::string> EncodeEvent(const StoredEvent& e, DictionaryWriter& dict) {
  if (e.prev_seq >= e.seq && e.prev_seq != 0) {
    return Status::InvalidArgument("event " + std::to_string(e.seq) + " chains forward");
  }
  const bool domain_event = IsDomainEvent(e.type);
  const std::size_t at = e.address.rfind('@');
  if (at == std::string::npos || (domain_event && at != 0) || (!domain_event && at == 0)) {
    return Status::InvalidArgument("event address '" + e.address + "' does not fit its type");
  }
  Result<std::uint32_t> domain_id = dict.DomainId(std::string_view(e.address).substr(at + 1));
  if (!domain_id.ok()) return domain_id.status();
  Writer w;
  w.Byte(kEventVersion);
  w.Byte(static_cast<std::uint8_t>(static_cast<unsigned>(e.type) |
                                   static_cast<unsigned>(e.new_state) << 3 |
                                   (e.hard ? 1u : 0u) << 5 |
                                   unsigned{ClassCode(e.bounce_class)} << 6));
  w.Time(e.time);
  w.Varint(e.prev_seq == 0 ? 0 : e.seq - e.prev_seq);
  w.Varint(*domain_id);
  w.Str(std::string_view(e.address).substr(0, at));
  PutReason(w, e.reason);
  Status s = w.Text(e.status, dict);
  if (s.ok()) s = w.Text(e.rule_id, dict);
  if (s.ok()) s = w.Text(e.actor, dict);
  if (!s.ok()) return s;
  return w.Take();
}

namespace {

// Up to and including the address; *local and *domain_id set.
bool DecodeEventFront(Reader& r, std::uint64_t seq, StoredEvent* ev, std::uint32_t* domain_id,
                      std::string_view* local) {
  std::uint8_t version, flags;
  std::uint64_t prev_delta = 0, local_size = 0;
  if (!(r.Byte(&version) && version == kEventVersion && r.Byte(&flags) &&
        ((flags >> 6) & 3) != 3 && r.Time(&ev->time) && r.Varint(&prev_delta) &&
        prev_delta < seq && r.U32(domain_id) && r.Varint(&local_size) &&
        r.View(local_size, local))) {
    return false;
  }
  ev->seq = seq;
  ev->type = static_cast<EventType>(flags & 7);
  ev->new_state = static_cast<AddressState>((flags >> 3) & 3);
  ev->hard = (flags & 0x20) != 0;
  ev->bounce_class = ClassFromCode(static_cast<std::uint8_t>(flags >> 6));
  ev->prev_seq = prev_delta == 0 ? 0 : seq - prev_delta;
  // An address event has a local part, a domain event none.
  return local->empty() == IsDomainEvent(ev->type);
}

}  // namespace

Status DecodeEventHead(std::uint64_t seq, std::string_view value, EventHead* out) {
  Reader r(value);
  StoredEvent ev;
  std::uint32_t domain_id;
  std::string_view local;
  if (!DecodeEventFront(r, seq, &ev, &domain_id, &local)) {
    return Bad(r, "event", std::to_string(seq));
  }
  out->type = ev.type;
  out->time = ev.time;
  out->address_key = local.empty() ? std::string() : AddressKey(domain_id, local);
  return Status::Ok();
}

Status DecodeEvent(std::uint64_t seq, std::string_view value, DictionaryReader& dict,
                   StoredEvent* out) {
  Reader r(value, &dict);
  StoredEvent ev;
  std::uint32_t domain_id;
  std::string_view local;
  bool ok = DecodeEventFront(r, seq, &ev, &domain_id, &local) && GetReason(r, &ev.reason) &&
            r.Text(&ev.status) && r.Text(&ev.rule_id) && r.Text(&ev.actor) && r.AtEnd();
  if (!ok) return Bad(r, "event", std::to_string(seq));
  Result<std::string> domain = dict.DomainName(domain_id);
  if (!domain.ok()) return domain.status();
  ev.address.assign(local);
  ev.address += '@';
  ev.address += *domain;
  *out = std::move(ev);
  return Status::Ok();
}

std::string EncodeSentEntry(const SentEntry& e) {
  Writer w;
  w.Byte(kSentVersion);
  w.Time(e.expires);
  w.Varint(e.recipients.size());
  for (const std::string& r : e.recipients) w.Str(r);
  return w.Take();
}

Status DecodeSentEntry(std::string_view value, SentEntry* out) {
  Reader r(value);
  SentEntry e;
  std::uint8_t version;
  std::uint64_t n = 0;
  bool ok = r.Byte(&version) && version == kSentVersion && r.Time(&e.expires) && r.Varint(&n) &&
            n <= kMaxListEntries;
  for (std::uint64_t i = 0; ok && i < n; ++i) {
    std::string s;
    ok = r.Str(&s);
    e.recipients.push_back(std::move(s));
  }
  if (!ok || !r.AtEnd()) return Status::Corruption("undecodable sent-ledger entry");
  *out = std::move(e);
  return Status::Ok();
}

}  // namespace bm
