// Parser for blocks of "Name: value" fields: RFC 3464 delivery-status
// groups, text/rfc822-headers parts, and header blocks quoted inside
// free-text bounces. Works on plain text, without GMime.
//
// Internal to parser/. All functions are pure and thread-safe.
#ifndef BM_PARSER_HEADER_BLOCK_H_
#define BM_PARSER_HEADER_BLOCK_H_

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

namespace bm {

struct HeaderField {
  std::string name;   // as written
  std::string value;  // continuation lines joined with single spaces, trimmed
};
using FieldGroup = std::vector<HeaderField>;

// Splits text into groups of fields separated by blank lines. Folded
// continuation lines (starting with a blank) join the previous field; lines
// that are neither a field nor a continuation are ignored. At most max_fields
// fields are kept in total.
std::vector<FieldGroup> ParseFieldGroups(std::string_view text, std::size_t max_fields = 4096);

// The fields of the first group only: a message header block.
FieldGroup ParseHeaderBlock(std::string_view text, std::size_t max_fields = 4096);

// Value of the first field called name (case-insensitive), or nullptr.
const std::string* FindField(const FieldGroup& group, std::string_view name);

// True when line looks like "Name: value" with an RFC 5322 field name.
bool IsFieldLine(std::string_view line);

}  // namespace bm

#endif  // BM_PARSER_HEADER_BLOCK_H_
