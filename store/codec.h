// Compact, versioned binary encoding of the store's records. Each value
// starts with a format version byte; integers are LEB128 varints (times
// zig-zag encoded), strings are a varint length then the bytes. Decoding
// checks every length against the input and returns kCorruption, never reads
// out of bounds.
#ifndef BM_STORE_CODEC_H_
#define BM_STORE_CODEC_H_

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"
#include "store/records.h"

namespace bm {

std::string EncodeAddressRecord(const AddressRecord& r);  // address (the key) not included
Status DecodeAddressRecord(std::string_view key, std::string_view value, AddressRecord* out);

// Only the fields Lookup needs: state, source, hard, class, reason,
// first_bounce, state_since, suppressed_until. Cheaper than a full decode.
Status DecodeLookupHead(std::string_view value, AddressRecord* out);

std::string EncodeDomainRecord(const DomainRecord& r);  // domain (the key) not included
Status DecodeDomainRecord(std::string_view key, std::string_view value, DomainRecord* out);

std::string EncodeEvent(const StoredEvent& e);  // seq (the key) not included
Status DecodeEvent(std::uint64_t seq, std::string_view value, StoredEvent* out);

// Sent-message ledger entry.
struct SentEntry {
  std::int64_t expires = 0;
  std::vector<std::string> recipients;
};
std::string EncodeSentEntry(const SentEntry& e);
Status DecodeSentEntry(std::string_view value, SentEntry* out);

}  // namespace bm

#endif  // BM_STORE_CODEC_H_
