// Compact, versioned binary encoding of the store's keys and values
// (docs/store.md, "Encoding"). Each value starts with a format version byte;
// integers are LEB128 varints (times zig-zag encoded relative to kTimeEpoch,
// later times as differences), strings are a varint length then the bytes.
//
// Two dictionaries keep repeated strings out of the records:
//  - receiving domains have a numeric id (DomainRecord::id); an address key
//    is the 4-byte big-endian domain id followed by the local part, and the
//    event log stores the same pair;
//  - texts (statuses, rule ids, diagnostics with the address taken out, the
//    right-hand side of Message-IDs, actors) are stored once and referred
//    to by id ("text references"); a text the dictionary does not take is
//    stored inline.
// The codec reaches the dictionaries through the interfaces below, which the
// store implements over an LMDB transaction.
//
// Decoding checks every length against the input and returns kCorruption,
// never reads out of bounds.
#ifndef BM_STORE_CODEC_H_
#define BM_STORE_CODEC_H_

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"
#include "store/records.h"

namespace bm {

// Ids -> strings. Errors: kCorruption (an unknown id), LMDB errors.
class DictionaryReader {
 public:
  virtual ~DictionaryReader() = default;
  virtual Result<std::string> Text(std::uint32_t id) = 0;
  virtual Result<std::string> DomainName(std::uint32_t id) = 0;
};

// Strings -> ids, adding what is missing (inside a write transaction).
class DictionaryWriter : public DictionaryReader {
 public:
  // The id of `text`, or 0: store it inline (too long for the dictionary,
  // or the dictionary is full).
  virtual Result<std::uint32_t> TextId(std::string_view text) = 0;
  // The id of a normalised domain; creates its domain entry when absent.
  virtual Result<std::uint32_t> DomainId(std::string_view domain) = 0;
};

// --- Keys --------------------------------------------------------------------
inline constexpr std::size_t kIdKeyBytes = 4;
// 4-byte big-endian id: the keys of the dictionaries (domain_ids, texts) and
// the key prefix of a domain's addresses.
std::string IdKey(std::uint32_t id);
std::uint32_t DecodeIdKey(std::string_view key);  // REQUIRES: key.size() >= 4
// Domain id + local part.
std::string AddressKey(std::uint32_t domain_id, std::string_view local_part);
// The same key written into buf, without allocating.
// REQUIRES: buf holds kIdKeyBytes + local_part.size() bytes.
std::string_view AddressKeyInto(std::uint32_t domain_id, std::string_view local_part, char* buf);
// The normalised address of a key; kCorruption when malformed.
Result<std::string> AddressOfKey(std::string_view key, DictionaryReader& dict);

// --- Values ------------------------------------------------------------------
// The address (the key) is not included.
Result<std::string> EncodeAddressRecord(const AddressRecord& r, DictionaryWriter& dict);
Status DecodeAddressRecord(std::string_view key, std::string_view value, DictionaryReader& dict,
                           AddressRecord* out);

// What the milter's lookup needs; decoded without touching the dictionaries.
struct LookupHead {
  AddressState state = AddressState::kActive;
  RecordSource source = RecordSource::kBounce;
  std::string_view reason;  // into the value, or a static vocabulary word
  std::int64_t state_since = 0;
  std::int64_t suppressed_until = 0;
};
Status DecodeLookupHead(std::string_view value, LookupHead* out);

// The domain id and the suppressed flag come first in the value, where
// DecodeDomainHead finds them without decoding the rest.
std::string EncodeDomainRecord(const DomainRecord& r);  // domain (the key) not included
Status DecodeDomainRecord(std::string_view key, std::string_view value, DomainRecord* out);
struct DomainHead {
  std::uint32_t id = 0;
  bool suppressed = false;
};
Status DecodeDomainHead(std::string_view value, DomainHead* out);

// Events: seq (the key) not included. DecodeEventHead gives the type, time
// and address key of an event (empty for a domain event) without the
// dictionaries.
Result<std::string> EncodeEvent(const StoredEvent& e, DictionaryWriter& dict);
Status DecodeEvent(std::uint64_t seq, std::string_view value, DictionaryReader& dict,
                   StoredEvent* out);
struct EventHead {
  EventType type = EventType::kBounce;
  std::int64_t time = 0;
  std::string address_key;  // AddressKey of the address; empty for domain events
};
Status DecodeEventHead(std::uint64_t seq, std::string_view value, EventHead* out);

// Sent-message ledger entry.
struct SentEntry {
  std::int64_t expires = 0;
  std::vector<std::string> recipients;
};
std::string EncodeSentEntry(const SentEntry& e);
Status DecodeSentEntry(std::string_view value, SentEntry* out);

}  // namespace bm

#endif  // BM_STORE_CODEC_H_
