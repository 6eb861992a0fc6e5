#include "parser/header_block.h"

#include "parser/text_util.h"

namespace bm {
namespace {

// Length of the field name at the start of line if it is followed by ':'.
std::size_t FieldNameLength(std::string_view line) {
  std::size_t i = 0;
  while (i < line.size() && line[i] > ' ' && line[i] < 127 && line[i] != ':') ++i;
  if (i == 0 || i >= line.size() || line[i] != ':') return 0;
  return i;
}

}  // namespace

bool IsFieldLine(std::string_view line) { return FieldNameLength(line) > 0; }

std::vector<FieldGroup> ParseFieldGroups(std::string_view text, std::size_t max_fields) {
  std::vector<FieldGroup> groups;
  FieldGroup current;
  std::size_t total = 0;
  for (std::string_view line : SplitLines(text)) {
    if (Trim(line).empty()) {
      if (!current.empty()) groups.push_back(std::move(current));
      current.clear();
      continue;
    }
    if (line[0] == ' ' || line[0] == '\t') {
      if (!current.empty()) {
        std::string_view more = Trim(line);
        std::string& value = current.back().value;
        if (!value.empty()) value += ' ';
        value.append(more);
      }
      continue;
    }
    const std::size_t n = FieldNameLength(line);
    if (n == 0 || total >= max_fields) continue;
    ++total;
    current.push_back({std::string(line.substr(0, n)), std::string(Trim(line.substr(n + 1)))});
  }
  if (!current.empty()) groups.push_back(std::move(current));
  return groups;
}

FieldGroup ParseHeaderBlock(std::string_view text, std::size_t max_fields) {
  // Only the first group matters; stop scanning at the first blank line that
  // follows a field so a large body is not split into lines for nothing.
  std::size_t end = 0;
  bool seen_field = false;
  while (end < text.size()) {
    std::size_t eol = text.find('\n', end);
    if (eol == std::string_view::npos) eol = text.size();
    const std::string_view line = Trim(text.substr(end, eol - end));
    if (line.empty() && seen_field) break;
    if (!line.empty()) seen_field = true;
    end = eol + 1;
  }
  std::vector<FieldGroup> groups = ParseFieldGroups(text.substr(0, std::min(end, text.size())), max_fields);
  if (groups.empty()) return {};
  return std::move(groups.front());
}

const std::string* FindField(const FieldGroup& group, std::string_view name) {
  for (const HeaderField& f : group) {
    if (EqualsIgnoreCase(f.name, name)) return &f.value;
  }
  return nullptr;
}

}  // namespace bm
