#include "parser/mime_prescan.h"

#include <string>
#include <vector>

#include "parser/text_util.h"

namespace bm {
namespace {

// The boundary parameter in a Content-Type value, or empty.
std::string BoundaryParameter(std::string_view value) {
  std::size_t at = FindIgnoreCase(value, "boundary");
  while (at != std::string_view::npos) {
    std::size_t i = at + 8;
    while (i < value.size() && (value[i] == ' ' || value[i] == '\t')) ++i;
    if (i < value.size() && value[i] == '=') {
      ++i;
      while (i < value.size() && (value[i] == ' ' || value[i] == '\t')) ++i;
      if (i < value.size() && value[i] == '"') {
        const std::size_t end = value.find('"', i + 1);
        if (end != std::string_view::npos) return std::string(value.substr(i + 1, end - i - 1));
        return std::string(value.substr(i + 1));
      }
      std::size_t end = i;
      while (end < value.size() && value[end] != ';' && value[end] != ' ' && value[end] != '\t') ++end;
      return std::string(value.substr(i, end - i));
    }
    at = FindIgnoreCase(value, "boundary", at + 8);
  }
  return {};
}

bool IsBoundaryLine(std::string_view line, std::string_view boundary, bool* closing) {
  if (line.size() < boundary.size() + 2 || line[0] != '-' || line[1] != '-') return false;
  if (line.substr(2, boundary.size()) != boundary) return false;
  std::string_view rest = line.substr(2 + boundary.size());
  *closing = rest.size() >= 2 && rest[0] == '-' && rest[1] == '-';
  if (*closing) rest.remove_prefix(2);
  return Trim(rest).empty();
}

// True when the media type at the start of value is exactly type.
bool MediaTypeIs(std::string_view value, std::string_view type) {
  if (!StartsWithIgnoreCase(value, type)) return false;
  if (value.size() == type.size()) return true;
  const char next = value[type.size()];
  return next == ';' || next == ' ' || next == '\t';
}

}  // namespace

MimeShape PrescanMime(std::string_view raw, int depth_limit, std::size_t part_limit) {
  MimeShape shape;
  std::vector<std::string> open;  // boundaries of the enclosing multiparts
  int embedded_messages = 0;
  const std::vector<std::string_view> lines = SplitLines(raw);
  for (std::size_t i = 0; i < lines.size(); ++i) {
    const std::string_view line = lines[i];
    if (line.size() > 2 && line[0] == '-' && line[1] == '-') {
      for (std::size_t k = open.size(); k-- > 0;) {
        bool closing = false;
        if (!IsBoundaryLine(line, open[k], &closing)) continue;
        open.resize(closing ? k : k + 1);
        if (!closing && ++shape.parts > part_limit) return shape;
        break;
      }
      continue;
    }
    if (!StartsWithIgnoreCase(line, "content-type:")) continue;
    // Join the folded continuation lines of this header.
    std::string value(line.substr(13));
    for (std::size_t k = i + 1; k < lines.size() && !lines[k].empty() &&
                                (lines[k][0] == ' ' || lines[k][0] == '\t') && value.size() < 4096;
         ++k) {
      value.append(lines[k]);
    }
    const std::string_view type = Trim(value);
    if (MediaTypeIs(type, "message/rfc822") || MediaTypeIs(type, "message/global") ||
        MediaTypeIs(type, "message/news")) {
      ++embedded_messages;
    } else if (StartsWithIgnoreCase(type, "multipart/")) {
      std::string boundary = BoundaryParameter(value);
      if (!boundary.empty()) open.push_back(std::move(boundary));
    }
    const int depth = static_cast<int>(open.size()) + embedded_messages;
    if (depth > shape.max_depth) shape.max_depth = depth;
    if (shape.max_depth > depth_limit) return shape;
  }
  return shape;
}

}  // namespace bm
