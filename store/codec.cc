#include "store/codec.h"

namespace bm {
namespace {

constexpr std::uint8_t kAddressVersion = 1;
constexpr std::uint8_t kDomainVersion = 1;
constexpr std::uint8_t kEventVersion = 1;
constexpr std::uint8_t kSentVersion = 1;
// Bounds a corrupt length can not make us exceed.
constexpr std::uint64_t kMaxListEntries = 100000;

class Writer {
 public:
  void Byte(std::uint8_t b) { out_.push_back(static_cast<char>(b)); }
  void Varint(std::uint64_t v) {
    while (v >= 0x80) {
      Byte(static_cast<std::uint8_t>(v | 0x80));
      v >>= 7;
    }
    Byte(static_cast<std::uint8_t>(v));
  }
  void Time(std::int64_t t) {
    Varint((static_cast<std::uint64_t>(t) << 1) ^ static_cast<std::uint64_t>(t >> 63));
  }
  void Str(std::string_view s) {
    Varint(s.size());
    out_.append(s);
  }
  std::string Take() { return std::move(out_); }

 private:
  std::string out_;
};

class Reader {
 public:
  explicit Reader(std::string_view in) : in_(in) {}
  bool Byte(std::uint8_t* b) {
    if (pos_ >= in_.size()) return false;
    *b = static_cast<std::uint8_t>(in_[pos_++]);
    return true;
  }
  bool Varint(std::uint64_t* v) {
    *v = 0;
    for (int shift = 0; shift < 64; shift += 7) {
      std::uint8_t b;
      if (!Byte(&b)) return false;
      *v |= static_cast<std::uint64_t>(b & 0x7f) << shift;
      if ((b & 0x80) == 0) return true;
    }
    return false;
  }
  bool U32(std::uint32_t* v) {
    std::uint64_t x;
    if (!Varint(&x) || x > 0xffffffffu) return false;
    *v = static_cast<std::uint32_t>(x);
    return true;
  }
  bool Time(std::int64_t* t) {
    std::uint64_t z;
    if (!Varint(&z)) return false;
    *t = static_cast<std::int64_t>(z >> 1) ^ -static_cast<std::int64_t>(z & 1);
    return true;
  }
  bool Str(std::string* s) {
    std::uint64_t n;
    if (!Varint(&n) || n > in_.size() - pos_) return false;
    s->assign(in_.substr(pos_, n));
    pos_ += n;
    return true;
  }
  bool AtEnd() const { return pos_ == in_.size(); }

 private:
  std::string_view in_;
  std::size_t pos_ = 0;
};

// Bounce classes take one byte on disk.
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

bool GetReason(Reader& r, std::string* reason) {
  std::uint64_t code;
  if (!r.Varint(&code)) return false;
  if (code == 0) return r.Str(reason);
  if (code > std::size(kReasonCodes)) return false;
  reason->assign(kReasonCodes[code - 1]);
  return true;
}

// Diagnostics usually quote the address; it is stored as one marker byte.
constexpr char kAddressMarker = '\x01';

std::string PackDiagnostic(std::string_view diagnostic, std::string_view address) {
  std::size_t at = diagnostic.find(address);
  if (address.empty() || at == std::string_view::npos ||
      diagnostic.find(kAddressMarker) != std::string_view::npos) {
    return std::string(diagnostic);
  }
  std::string out(diagnostic.substr(0, at));
  out += kAddressMarker;
  out.append(diagnostic.substr(at + address.size()));
  return out;
}

std::string UnpackDiagnostic(std::string packed, std::string_view address) {
  std::size_t at = packed.find(kAddressMarker);
  if (at != std::string::npos) packed.replace(at, 1, address);
  return packed;
}

Status Bad(std::string_view what, std::string_view key) {
  return Status::Corruption("undecodable " + std::string(what) + " record '" + std::string(key) +
                            "'");
}

}  // namespace

std::string EncodeAddressRecord(const AddressRecord& r) {
  Writer w;
  w.Byte(kAddressVersion);
  w.Byte(static_cast<std::uint8_t>(r.state));
  w.Byte(static_cast<std::uint8_t>(r.source));
  w.Byte(static_cast<std::uint8_t>((r.hard ? 1 : 0) | (r.counted_hostunknown ? 2 : 0) |
                                   (ClassCode(r.bounce_class) << 2)));
  // What Lookup needs comes first (DecodeLookupHead stops there). Later
  // times are deltas: they are usually close to the first, often equal.
  PutReason(w, r.reason);
  w.Time(r.first_bounce);
  w.Time(r.state_since - r.first_bounce);
  w.Time(r.suppressed_until == 0 ? 0 : r.suppressed_until - r.state_since);
  w.Time(r.last_bounce - r.first_bounce);
  w.Varint(r.hard_count);
  w.Varint(r.soft_count);
  w.Varint(r.complaint_count);
  w.Varint(r.soft_window.size());
  for (std::int64_t t : r.soft_window) w.Time(t - r.first_bounce);
  w.Str(r.last_status);
  w.Str(PackDiagnostic(r.last_diagnostic, r.address));
  w.Str(r.last_rule_id);
  w.Str(r.message_id);
  w.Varint(r.last_event_seq);
  w.Varint(r.last_event_seq - r.updated_seq);
  return w.Take();
}

namespace {

bool DecodeHead(Reader& r, AddressRecord* rec) {
  std::uint8_t version, state, source, flags;
  std::int64_t since_delta = 0, until_delta = 0;
  if (!(r.Byte(&version) && version == kAddressVersion && r.Byte(&state) && state <= 3 &&
        r.Byte(&source) && source <= 3 && r.Byte(&flags) && GetReason(r, &rec->reason) &&
        r.Time(&rec->first_bounce) && r.Time(&since_delta) && r.Time(&until_delta))) {
    return false;
  }
  rec->state = static_cast<AddressState>(state);
  rec->source = static_cast<RecordSource>(source);
  rec->hard = (flags & 1) != 0;
  rec->counted_hostunknown = (flags & 2) != 0;
  rec->bounce_class = ClassFromCode(static_cast<std::uint8_t>(flags >> 2));
  rec->state_since = rec->first_bounce + since_delta;
  rec->suppressed_until = until_delta == 0 ? 0 : rec->state_since + until_delta;
  return true;
}

}  // namespace

Status DecodeLookupHead(std::string_view value, AddressRecord* out) {
  Reader r(value);
  return DecodeHead(r, out) ? Status::Ok() : Bad("address", "(lookup)");
}

Status DecodeAddressRecord(std::string_view key, std::string_view value, AddressRecord* out) {
  Reader r(value);
  AddressRecord rec;
  rec.address.assign(key);
  std::int64_t last_delta = 0;
  std::uint64_t window = 0, updated_delta = 0;
  bool ok = DecodeHead(r, &rec) && r.Time(&last_delta) && r.U32(&rec.hard_count) &&
            r.U32(&rec.soft_count) && r.U32(&rec.complaint_count) && r.Varint(&window) &&
            window <= 64;
  rec.last_bounce = rec.first_bounce + last_delta;
  for (std::uint64_t i = 0; ok && i < window; ++i) {
    std::int64_t t = 0;
    ok = r.Time(&t);
    rec.soft_window.push_back(rec.first_bounce + t);
  }
  ok = ok && r.Str(&rec.last_status) && r.Str(&rec.last_diagnostic) &&
       r.Str(&rec.last_rule_id) && r.Str(&rec.message_id) && r.Varint(&rec.last_event_seq) &&
       r.Varint(&updated_delta) && updated_delta <= rec.last_event_seq && r.AtEnd();
  if (!ok) return Bad("address", key);
  rec.updated_seq = rec.last_event_seq - updated_delta;
  rec.last_diagnostic = UnpackDiagnostic(std::move(rec.last_diagnostic), rec.address);
  *out = std::move(rec);
  return Status::Ok();
}

std::string EncodeDomainRecord(const DomainRecord& r) {
  Writer w;
  w.Byte(kDomainVersion);
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

Status DecodeDomainRecord(std::string_view key, std::string_view value, DomainRecord* out) {
  Reader r(value);
  DomainRecord rec;
  rec.domain.assign(key);
  std::uint8_t version, suppressed, source;
  std::uint64_t n = 0;
  bool ok = r.Byte(&version) && version == kDomainVersion && r.Byte(&suppressed) &&
            suppressed <= 1 && r.Byte(&source) && source <= 3 && r.Time(&rec.since) &&
            r.U32(&rec.hostunknown_addresses) && r.Varint(&rec.sent) &&
            r.Varint(&rec.sender_blamed) && r.Str(&rec.reason) && r.Varint(&n) &&
            n <= kMaxListEntries;
  for (std::uint64_t i = 0; ok && i < n; ++i) {
    std::pair<std::string, std::uint64_t> entry;
    ok = r.Str(&entry.first) && r.Varint(&entry.second);
    rec.sender_blamed_by_reason.push_back(std::move(entry));
  }
  if (!ok || !r.AtEnd()) return Bad("domain", key);
  rec.suppressed = suppressed == 1;
  rec.source = static_cast<RecordSource>(source);
  *out = std::move(rec);
  return Status::Ok();
}

std::string EncodeEvent(const StoredEvent& e) {
  Writer w;
  w.Byte(kEventVersion);
  w.Byte(static_cast<std::uint8_t>(e.type));
  w.Byte(static_cast<std::uint8_t>(e.new_state));
  w.Byte(static_cast<std::uint8_t>((e.hard ? 1 : 0) | (ClassCode(e.bounce_class) << 2)));
  w.Time(e.time);
  w.Varint(e.prev_seq);
  w.Str(e.address);
  PutReason(w, e.reason);
  w.Str(e.status);
  w.Str(e.rule_id);
  w.Str(e.actor);
  return w.Take();
}

Status DecodeEvent(std::uint64_t seq, std::string_view value, StoredEvent* out) {
  Reader r(value);
  StoredEvent ev;
  ev.seq = seq;
  std::uint8_t version, type, state, flags;
  bool ok = r.Byte(&version) && version == kEventVersion && r.Byte(&type) && type <= 7 &&
            r.Byte(&state) && state <= 3 && r.Byte(&flags) && r.Time(&ev.time) &&
            r.Varint(&ev.prev_seq) && ev.prev_seq < seq && r.Str(&ev.address) &&
            GetReason(r, &ev.reason) && r.Str(&ev.status) && r.Str(&ev.rule_id) &&
            r.Str(&ev.actor) && r.AtEnd();
  if (!ok) return Bad("event", std::to_string(seq));
  ev.type = static_cast<EventType>(type);
  ev.new_state = static_cast<AddressState>(state);
  ev.hard = (flags & 1) != 0;
  ev.bounce_class = ClassFromCode(static_cast<std::uint8_t>(flags >> 2));
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
