#include "store/crm_format.h"

#include <cstdio>
#include <ctime>
#include <map>

#include <nlohmann/json.hpp>

#include "common/ascii.h"

namespace bm {
namespace {

// Column order of both export formats.
constexpr const char* kColumns[] = {
    "address",      "state",         "reason",          "class",          "hard",
    "source",       "first_bounce",  "last_bounce",     "state_since",    "suppressed_until",
    "hard_count",   "soft_count",    "complaint_count", "last_status",    "last_diagnostic",
    "last_rule_id", "message_id",    "updated_seq"};

std::vector<std::string> Fields(const AddressRecord& r) {
  return {r.address,
          std::string(AddressStateName(r.state)),
          r.reason,
          r.bounce_class,
          r.hard ? "true" : "false",
          std::string(RecordSourceName(r.source)),
          FormatTime(r.first_bounce),
          FormatTime(r.last_bounce),
          FormatTime(r.state_since),
          FormatTime(r.suppressed_until),
          std::to_string(r.hard_count),
          std::to_string(r.soft_count),
          std::to_string(r.complaint_count),
          r.last_status,
          r.last_diagnostic,
          r.last_rule_id,
          r.message_id,
          std::to_string(r.updated_seq)};
}

std::string CsvField(std::string_view raw) {
  std::string s = ReplaceInvalidUtf8(raw);
  std::string out = "\"";
  if (!s.empty() && (s[0] == '=' || s[0] == '+' || s[0] == '-' || s[0] == '@' || s[0] == '\t' ||
                     s[0] == '\r')) {
    out += '\'';
  }
  for (char c : s) {
    if (c == '"') out += '"';
    out += c;
  }
  out += '"';
  return out;
}

std::string CsvLine(const std::vector<std::string>& fields) {
  std::string line;
  for (std::size_t i = 0; i < fields.size(); ++i) {
    if (i > 0) line += ',';
    line += CsvField(fields[i]);
  }
  line += "\r\n";
  return line;
}

// Undoes the formula guard of CsvField.
std::string Unguard(std::string s) {
  if (s.size() >= 2 && s[0] == '\'' &&
      (s[1] == '=' || s[1] == '+' || s[1] == '-' || s[1] == '@' || s[1] == '\t' || s[1] == '\r')) {
    s.erase(0, 1);
  }
  return s;
}

Result<std::uint32_t> ParseCount(std::string_view text, std::string_view name) {
  if (text.empty()) return 0u;
  std::uint64_t v = 0;
  for (char c : text) {
    if (c < '0' || c > '9' || v > 0xffffffffULL) {
      return Status::InvalidArgument(std::string(name) + ": not a count: '" + std::string(text) + "'");
    }
    v = v * 10 + static_cast<std::uint64_t>(c - '0');
  }
  if (v > 0xffffffffULL) return Status::InvalidArgument(std::string(name) + ": too large");
  return static_cast<std::uint32_t>(v);
}

// Fills one ImportRow field from a named value. Unknown names are ignored.
Status SetField(ImportRow& row, std::string_view name, const std::string& value) {
  if (name == "address" || name == "email") {
    row.address = value;
  } else if (name == "state") {
    if (value.empty()) return Status::Ok();
    std::optional<AddressState> st = ParseAddressState(value);
    if (!st) return Status::InvalidArgument("unknown state '" + value + "'");
    row.state = *st;
  } else if (name == "reason") {
    row.reason = value;
  } else if (name == "state_since" || name == "first_bounce") {
    Result<std::int64_t> t = ParseTime(value);
    if (!t.ok()) return t.status();
    if (*t != 0 && (row.since == 0 || *t < row.since)) row.since = *t;
  } else if (name == "suppressed_until") {
    Result<std::int64_t> t = ParseTime(value);
    if (!t.ok()) return t.status();
    row.until = *t;
  } else if (name == "hard_count" || name == "soft_count" || name == "complaint_count") {
    Result<std::uint32_t> n = ParseCount(value, name);
    if (!n.ok()) return n.status();
    (name == "hard_count" ? row.hard_count : name == "soft_count" ? row.soft_count
                                                                  : row.complaint_count) = *n;
  } else if (name == "last_diagnostic" || name == "diagnostic") {
    row.diagnostic = value;
  }
  return Status::Ok();
}

Status FinishRow(ImportRow& row) {
  if (row.address.empty()) return Status::InvalidArgument("no address");
  if (row.reason.empty()) row.reason = "import";
  if (row.state == AddressState::kSuppressedTemporary && row.until == 0) {
    return Status::InvalidArgument("suppressed-temporary without suppressed_until");
  }
  return Status::Ok();
}

int Digits(std::string_view s, std::size_t pos, std::size_t n) {
  int v = 0;
  for (std::size_t i = pos; i < pos + n; ++i) {
    if (i >= s.size() || s[i] < '0' || s[i] > '9') return -1;
    v = v * 10 + (s[i] - '0');
  }
  return v;
}

}  // namespace

std::string FormatTime(std::int64_t t) {
  if (t == 0) return "";
  std::time_t tt = static_cast<std::time_t>(t);
  std::tm tm{};
  gmtime_r(&tt, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

Result<std::int64_t> ParseTime(std::string_view text) {
  if (text.empty()) return std::int64_t{0};
  if (text.find_first_not_of("0123456789") == std::string_view::npos && text.size() <= 12) {
    return static_cast<std::int64_t>(std::stoll(std::string(text)));
  }
  std::tm tm{};
  tm.tm_year = Digits(text, 0, 4) - 1900;
  tm.tm_mon = Digits(text, 5, 2) - 1;
  tm.tm_mday = Digits(text, 8, 2);
  bool ok = text.size() >= 10 && text[4] == '-' && text[7] == '-' && tm.tm_year >= 0 &&
            tm.tm_mon >= 0 && tm.tm_mon < 12 && tm.tm_mday >= 1 && tm.tm_mday <= 31;
  if (ok && text.size() > 10) {
    tm.tm_hour = Digits(text, 11, 2);
    tm.tm_min = Digits(text, 14, 2);
    tm.tm_sec = Digits(text, 17, 2);
    ok = (text[10] == 'T' || text[10] == ' ') && text.size() >= 19 && text[13] == ':' &&
         text[16] == ':' && tm.tm_hour >= 0 && tm.tm_hour < 24 && tm.tm_min >= 0 &&
         tm.tm_min < 60 && tm.tm_sec >= 0 && tm.tm_sec <= 60 &&
         (text.size() == 19 || (text.size() == 20 && text[19] == 'Z'));
  }
  if (!ok) return Status::InvalidArgument("not a time: '" + std::string(text) + "'");
  return static_cast<std::int64_t>(timegm(&tm));
}

std::string ReplaceInvalidUtf8(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (std::size_t i = 0; i < s.size();) {
    const unsigned char c = static_cast<unsigned char>(s[i]);
    std::size_t n = c < 0x80 ? 1 : (c >> 5) == 6 ? 2 : (c >> 4) == 14 ? 3 : (c >> 3) == 30 ? 4 : 0;
    bool valid = n > 0 && i + n <= s.size() && !(n == 2 && c < 0xc2);
    for (std::size_t k = 1; valid && k < n; ++k) {
      valid = (static_cast<unsigned char>(s[i + k]) & 0xc0) == 0x80;
    }
    if (valid && n == 3) {
      const unsigned char c1 = static_cast<unsigned char>(s[i + 1]);
      valid = !(c == 0xe0 && c1 < 0xa0) && !(c == 0xed && c1 >= 0xa0);
    } else if (valid && n == 4) {
      const unsigned char c1 = static_cast<unsigned char>(s[i + 1]);
      valid = c <= 0xf4 && !(c == 0xf0 && c1 < 0x90) && !(c == 0xf4 && c1 >= 0x90);
    }
    if (valid) {
      out.append(s.substr(i, n));
      i += n;
    } else {
      out += "\xEF\xBF\xBD";
      ++i;
    }
  }
  return out;
}

std::string CsvHeader() {
  return CsvLine(std::vector<std::string>(std::begin(kColumns), std::end(kColumns)));
}

std::string RecordToCsv(const AddressRecord& r) { return CsvLine(Fields(r)); }

std::string RecordToJsonl(const AddressRecord& r) {
  std::vector<std::string> fields = Fields(r);
  nlohmann::ordered_json j;
  for (std::size_t i = 0; i < fields.size(); ++i) {
    const std::string name = kColumns[i];
    if (name == "hard") {
      j[name] = r.hard;
    } else if (name == "hard_count" || name == "soft_count" || name == "complaint_count" ||
               name == "updated_seq") {
      j[name] = std::stoull(fields[i]);
    } else {
      j[name] = fields[i];
    }
  }
  return j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) + "\n";
}

Result<bool> CsvReader::Next(std::vector<std::string>* fields, std::size_t* line) {
  fields->clear();
  std::string field;
  bool in_quotes = false, any = false;
  std::size_t bytes = 0;
  *line = line_ + 1;
  for (int ch; (ch = in_.get()) != EOF;) {
    any = true;
    if (++bytes > max_record_bytes_) {
      std::string rest;
      std::getline(in_, rest);
      ++line_;
      return Status::InvalidArgument("record too long");
    }
    const char c = static_cast<char>(ch);
    if (in_quotes) {
      if (c == '"') {
        if (in_.peek() == '"') {
          in_.get();
          field += '"';
        } else {
          in_quotes = false;
        }
      } else {
        if (c == '\n') ++line_;
        field += c;
      }
    } else if (c == '"') {
      in_quotes = true;
    } else if (c == ',') {
      fields->push_back(Unguard(std::move(field)));
      field.clear();
    } else if (c == '\n') {
      ++line_;
      if (!field.empty() && field.back() == '\r') field.pop_back();
      fields->push_back(Unguard(std::move(field)));
      return true;
    } else {
      field += c;
    }
  }
  if (in_quotes) return Status::InvalidArgument("unterminated quoted field");
  if (!any) return false;
  ++line_;
  if (!field.empty() && field.back() == '\r') field.pop_back();
  fields->push_back(Unguard(std::move(field)));
  return true;
}

Result<CsvImportLayout> CsvImportLayout::FromHeader(const std::vector<std::string>& header) {
  CsvImportLayout layout;
  bool has_address = false;
  for (std::string name : header) {
    if (layout.columns_.empty() && name.compare(0, kUtf8Bom.size(), kUtf8Bom) == 0) {
      name.erase(0, kUtf8Bom.size());
    }
    name = ToLowerAscii(name);
    has_address = has_address || name == "address" || name == "email";
    layout.columns_.push_back(std::move(name));
  }
  if (!has_address) return Status::InvalidArgument("header has no 'address' column");
  return layout;
}

Result<ImportRow> CsvImportLayout::Row(const std::vector<std::string>& fields) const {
  if (fields.size() != columns_.size()) {
    return Status::InvalidArgument("expected " + std::to_string(columns_.size()) +
                                   " fields, found " + std::to_string(fields.size()));
  }
  ImportRow row;
  for (std::size_t i = 0; i < fields.size(); ++i) {
    Status s = SetField(row, columns_[i], fields[i]);
    if (!s.ok()) return s;
  }
  Status s = FinishRow(row);
  if (!s.ok()) return s;
  return row;
}

Result<ImportRow> ImportRowFromJson(std::string_view line) {
  nlohmann::json j = nlohmann::json::parse(line, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded() || !j.is_object()) return Status::InvalidArgument("not a JSON object");
  ImportRow row;
  for (const auto& [name, value] : j.items()) {
    std::string text;
    if (value.is_string()) {
      text = value.get<std::string>();
    } else if (value.is_number_unsigned() || value.is_number_integer()) {
      text = std::to_string(value.get<std::int64_t>());
    } else if (value.is_null() || value.is_boolean()) {
      continue;
    } else {
      return Status::InvalidArgument("field '" + name + "' is not a string or number");
    }
    Status s = SetField(row, name, text);
    if (!s.ok()) return s;
  }
  Status s = FinishRow(row);
  if (!s.ok()) return s;
  return row;
}

}  // namespace bm
