#include "milter/config_values.h"

#include <cctype>
#include <charconv>

namespace bm::config_text {
namespace {

bool IsBlank(char c) { return c == ' ' || c == '\t' || c == '\r'; }

Status Bad(std::string_view what, std::string_view v) {
  return Status::InvalidArgument("expected " + std::string(what) + ", got '" + std::string(v) +
                                 "'");
}

}  // namespace

std::string_view Trim(std::string_view s) {
  while (!s.empty() && IsBlank(s.front())) s.remove_prefix(1);
  while (!s.empty() && IsBlank(s.back())) s.remove_suffix(1);
  return s;
}

std::string_view StripComment(std::string_view line) {
  for (std::size_t i = 0; i < line.size(); ++i) {
    if (line[i] == '#' && (i == 0 || IsBlank(line[i - 1]))) return line.substr(0, i);
  }
  return line;
}

std::vector<std::string_view> SplitLines(std::string_view text) {
  std::vector<std::string_view> lines;
  while (!text.empty()) {
    std::size_t nl = text.find('\n');
    std::string_view line = text.substr(0, nl);
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    lines.push_back(line);
    if (nl == std::string_view::npos) break;
    text.remove_prefix(nl + 1);
  }
  return lines;
}

std::vector<std::string> SplitList(std::string_view value) {
  std::vector<std::string> items;
  std::string current;
  for (char c : value) {
    if (c == ',' || IsBlank(c)) {
      if (!current.empty()) items.push_back(std::move(current));
      current.clear();
    } else {
      current += c;
    }
  }
  if (!current.empty()) items.push_back(std::move(current));
  return items;
}

Result<long long> ParseInteger(std::string_view v, long long min, long long max) {
  long long n = 0;
  auto [end, ec] = std::from_chars(v.data(), v.data() + v.size(), n);
  if (v.empty() || ec != std::errc() || end != v.data() + v.size()) return Bad("an integer", v);
  if (n < min || n > max) {
    return Status::InvalidArgument(std::string(v) + " is out of range [" + std::to_string(min) +
                                   ", " + std::to_string(max) + "]");
  }
  return n;
}

Result<std::size_t> ParseSize(std::string_view v, std::size_t min, std::size_t max) {
  std::size_t multiplier = 1;
  std::string_view digits = v;
  if (!v.empty()) {
    switch (std::toupper(static_cast<unsigned char>(v.back()))) {
      case 'K': multiplier = 1024; break;
      case 'M': multiplier = 1024 * 1024; break;
      case 'G': multiplier = 1024 * 1024 * 1024; break;
      default: break;
    }
    if (multiplier != 1) digits.remove_suffix(1);
  }
  unsigned long long n = 0;
  auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), n);
  if (digits.empty() || ec != std::errc() || end != digits.data() + digits.size()) {
    return Bad("a size such as 65536, 64K or 10M", v);
  }
  if (n > max / multiplier || n * multiplier < min) {
    return Status::InvalidArgument(std::string(v) + " is out of range [" + std::to_string(min) +
                                   ", " + std::to_string(max) + "] bytes");
  }
  return static_cast<std::size_t>(n * multiplier);
}

Result<bool> ParseBool(std::string_view v) {
  for (std::string_view t : {"yes", "true", "on", "1"}) {
    if (EqualsIgnoreCase(v, t)) return true;
  }
  for (std::string_view f : {"no", "false", "off", "0"}) {
    if (EqualsIgnoreCase(v, f)) return false;
  }
  return Bad("yes or no", v);
}

Result<ErrorAction> ParseErrorAction(std::string_view v) {
  for (ErrorAction a : {ErrorAction::kAccept, ErrorAction::kTempfail, ErrorAction::kReject}) {
    if (EqualsIgnoreCase(v, ErrorActionName(a))) return a;
  }
  return Bad("accept, tempfail or reject", v);
}

Result<InboundAction> ParseInboundAction(std::string_view v) {
  for (InboundAction a : {InboundAction::kAccept, InboundAction::kTag, InboundAction::kDiscard}) {
    if (EqualsIgnoreCase(v, InboundActionName(a))) return a;
  }
  return Bad("accept, tag or discard", v);
}

Result<std::uint32_t> ParseOctalMode(std::string_view v) {
  unsigned mode = 0;
  auto [end, ec] = std::from_chars(v.data(), v.data() + v.size(), mode, 8);
  if (v.empty() || ec != std::errc() || end != v.data() + v.size() || mode > 0777) {
    return Bad("an octal mode such as 0660", v);
  }
  return static_cast<std::uint32_t>(mode);
}

Result<SocketSpec> ParseSocketSpec(std::string_view spec) {
  SocketSpec socket;
  if (spec.starts_with("unix:") || spec.starts_with("local:")) {
    std::string_view path = spec.substr(spec.find(':') + 1);
    if (path.size() < 2 || path.front() != '/') return Bad("an absolute socket path", spec);
    if (path.size() > 100) return Status::InvalidArgument("socket path longer than 100 bytes");
    socket.kind = SocketSpec::Kind::kUnix;
    socket.path = std::string(path);
    return socket;
  }
  if (spec.starts_with("inet:") || spec.starts_with("inet6:")) {
    socket.kind = spec.starts_with("inet:") ? SocketSpec::Kind::kInet : SocketSpec::Kind::kInet6;
    std::string_view rest = spec.substr(spec.find(':') + 1);
    std::string_view port = rest.substr(0, rest.find('@'));
    Result<long long> n = ParseInteger(port, 1, 65535);
    if (!n.ok()) return Bad("inet:PORT@HOST with PORT 1 to 65535", spec);
    socket.port = static_cast<int>(*n);
    if (rest.find('@') != std::string_view::npos) {
      std::string_view host = rest.substr(rest.find('@') + 1);
      if (host.size() >= 2 && host.front() == '[' && host.back() == ']') {
        host = host.substr(1, host.size() - 2);
      }
      if (host.empty()) return Bad("a host after @", spec);
      socket.host = std::string(host);
    }
    return socket;
  }
  return Bad("inet:PORT@HOST, inet6:PORT@HOST or unix:/PATH", spec);
}

}  // namespace bm::config_text
