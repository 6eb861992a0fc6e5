// The MTA queue ids named by the Received header fields of a returned
// message: "by mx.example.com (Postfix) with ESMTPSA id 4Fabc123" gives
// "4Fabc123@mx.example.com". The milter's sent-message ledger can be keyed
// that way (SentLedger queue-id), so a bounce that returns our Received
// header finds the entry even without a Message-ID.
//
// Internal to parser/. Pure and thread-safe.
#ifndef BM_PARSER_RECEIVED_H_
#define BM_PARSER_RECEIVED_H_

#include <cstddef>
#include <string>
#include <vector>

#include "parser/header_block.h"

namespace bm {

// At most this many Received fields are looked at, the bottom-most ones (a
// returned message is untrusted input; real ones carry a handful, and the
// bottom-most are the first hops, our MTA's among them).
inline constexpr std::size_t kMaxReceivedFields = 16;

// "ID@host" (host lower-cased, ID as written) for each of the last
// kMaxReceivedFields Received fields of the group that has both a "by HOST"
// and an "id ID" clause, in header order, without duplicates. Comments are
// skipped; a host must be a plain domain name (at most 253 characters of
// letters, digits, '.', '-'), an id at most 64 letters, digits, '.', '-', '_';
// fields with anything else are skipped.
std::vector<std::string> ReceivedQueueIds(const FieldGroup& fields);

// The number of Received fields of the group above its bottom-most `keep`
// ones: those to pass over so that at most `keep` are looked at, the last.
std::size_t ReceivedFieldsAbove(const FieldGroup& fields, std::size_t keep);

}  // namespace bm

#endif  // BM_PARSER_RECEIVED_H_
