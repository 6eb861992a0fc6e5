// The CRM exchange formats of the store: CSV (RFC 4180) and JSON Lines, for
// `bouncectl export` and `bouncectl import`. docs/store.md lists the columns.
//
// CSV written here is UTF-8 (invalid bytes become U+FFFD), every field
// quoted, CRLF line ends, a header row; a field starting with = + - @ TAB or
// CR gets a leading apostrophe so that a spreadsheet shows it as text instead
// of evaluating it (formula injection); import removes that apostrophe again.
#ifndef BM_STORE_CRM_FORMAT_H_
#define BM_STORE_CRM_FORMAT_H_

#include <cstddef>
#include <cstdint>
#include <istream>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"
#include "store/records.h"
#include "store/store.h"

namespace bm {

// "2026-11-22T21:04:05Z"; "" for 0.
std::string FormatTime(std::int64_t t);
// Accepts "" (0), Unix seconds, "YYYY-MM-DD", "YYYY-MM-DDTHH:MM:SS[Z]" (UTC).
Result<std::int64_t> ParseTime(std::string_view text);

// Replaces invalid UTF-8 sequences with U+FFFD.
std::string ReplaceInvalidUtf8(std::string_view s);

// Byte-order mark written before the CSV header so that Excel reads UTF-8.
inline constexpr std::string_view kUtf8Bom = "\xEF\xBB\xBF";
std::string CsvHeader();                            // with CRLF
std::string RecordToCsv(const AddressRecord& r);    // one row, with CRLF
std::string RecordToJsonl(const AddressRecord& r);  // one JSON object, with LF

// Reads RFC 4180 records (quoted fields may hold commas, quotes and line
// breaks). Bounded: a record longer than max_record_bytes is an error.
class CsvReader {
 public:
  explicit CsvReader(std::istream& in, std::size_t max_record_bytes = 64 * 1024)
      : in_(in), max_record_bytes_(max_record_bytes) {}
  // Next record into *fields; false at end of input. *line = the line it starts on.
  // Errors: kInvalidArgument "unterminated quoted field" / "record too long";
  // the reader then resynchronises at the next line.
  Result<bool> Next(std::vector<std::string>* fields, std::size_t* line);

 private:
  std::istream& in_;
  std::size_t max_record_bytes_;
  std::size_t line_ = 0;
};

// Maps CSV header names to ImportRow fields. Unknown columns are ignored;
// "address" is required.
class CsvImportLayout {
 public:
  static Result<CsvImportLayout> FromHeader(const std::vector<std::string>& header);
  Result<ImportRow> Row(const std::vector<std::string>& fields) const;

 private:
  std::vector<std::string> columns_;
};

// One JSON object per line with the same field names as the CSV columns.
Result<ImportRow> ImportRowFromJson(std::string_view line);

}  // namespace bm

#endif  // BM_STORE_CRM_FORMAT_H_
