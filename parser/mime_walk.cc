#include "parser/mime_walk.h"

#include <gmime/gmime.h>

#include <cstring>

#include "parser/gmime_util.h"
#include "parser/html_text.h"
#include "parser/received.h"
#include "parser/text_util.h"

namespace bm {
namespace {

constexpr std::size_t kMaxTopFields = 1024;
constexpr std::size_t kMaxReturnedFields = 512;

// Trace and authentication fields: long, numerous, and never read here
// (Received fields of a returned message excepted: DecodedFields).
bool IsIgnoredField(std::string_view name) {
  static constexpr std::string_view kIgnored[] = {
      "DKIM-Signature", "Authentication-Results", "Received-SPF",
      "ARC-Seal", "ARC-Message-Signature", "ARC-Authentication-Results",
  };
  for (std::string_view ignored : kIgnored) {
    if (EqualsIgnoreCase(name, ignored)) return true;
  }
  return false;
}

// The fields with values RFC 2047-decoded to valid UTF-8. Of the Received
// fields only the last `keep_received` are kept (a returned message's name
// the queue ids the sent-message ledger may be keyed by, ours among the
// bottom-most: parser/received.h).
FieldGroup DecodedFields(const FieldGroup& raw, std::size_t keep_received) {
  std::size_t skip = ReceivedFieldsAbove(raw, keep_received);
  FieldGroup fields;
  for (const HeaderField& f : raw) {
    if (EqualsIgnoreCase(f.name, "Received")) {
      if (skip > 0) {
        --skip;
        continue;
      }
    } else if (IsIgnoredField(f.name)) {
      continue;
    }
    std::string value;
    // Only values with encoded words need GMime's decoder.
    if (f.value.find("=?") != std::string::npos) {
      char* decoded = g_mime_utils_header_decode_text(nullptr, f.value.c_str());
      value = SanitizeUtf8(Trim(decoded ? decoded : f.value.c_str()));
      g_free(decoded);
    } else {
      value = SanitizeUtf8(f.value);
    }
    fields.push_back({SanitizeUtf8(f.name), std::move(value)});
  }
  return fields;
}

// A MIME entity split into its header block and body.
struct Entity {
  std::string_view header;
  std::string_view body;
};

Entity SplitEntity(std::string_view text) {
  // The header block ends at the first empty line (LF or CRLF).
  if (text.starts_with("\n")) return {{}, text.substr(1)};
  if (text.starts_with("\r\n")) return {{}, text.substr(2)};
  std::size_t pos = 0;
  while (true) {
    const std::size_t eol = text.find('\n', pos);
    if (eol == std::string_view::npos) return {text, {}};
    std::size_t next = eol + 1;
    if (next < text.size() && text[next] == '\r') ++next;
    if (next >= text.size()) return {text, {}};
    if (text[next] == '\n') return {text.substr(0, eol + 1), text.substr(next + 1)};
    pos = eol + 1;
  }
}

// Content-Type: lower-case media type and the parameters this module uses.
struct ContentType {
  std::string type;  // "text/plain"
  std::string boundary;
  std::string charset;
  std::string report_type;
};

std::string ParameterValue(std::string_view value, std::string_view name) {
  std::size_t at = FindIgnoreCase(value, name);
  while (at != std::string_view::npos) {
    const bool starts_word = at == 0 || value[at - 1] == ';' || value[at - 1] == ' ' ||
                             value[at - 1] == '\t';
    std::size_t i = at + name.size();
    while (i < value.size() && (value[i] == ' ' || value[i] == '\t')) ++i;
    if (starts_word && i < value.size() && value[i] == '=') {
      ++i;
      while (i < value.size() && (value[i] == ' ' || value[i] == '\t')) ++i;
      if (i < value.size() && value[i] == '"') {
        const std::size_t end = value.find('"', i + 1);
        return std::string(value.substr(i + 1, (end == std::string_view::npos ? value.size() : end) - i - 1));
      }
      std::size_t end = i;
      while (end < value.size() && value[end] != ';' && value[end] != ' ' && value[end] != '\t') ++end;
      return std::string(value.substr(i, end - i));
    }
    at = FindIgnoreCase(value, name, at + name.size());
  }
  return {};
}

ContentType ParseContentType(const std::string* value, std::string_view default_type) {
  ContentType ct;
  if (value == nullptr) {
    ct.type = default_type;
    return ct;
  }
  std::string_view v = Trim(*value);
  std::size_t end = 0;
  while (end < v.size() && v[end] != ';' && v[end] != ' ' && v[end] != '\t') ++end;
  ct.type = ToLowerAscii(v.substr(0, end));
  if (ct.type.find('/') == std::string::npos) ct.type = default_type;
  const std::string_view params = v.substr(end);
  ct.boundary = ParameterValue(params, "boundary");
  ct.charset = ParameterValue(params, "charset");
  ct.report_type = ToLowerAscii(ParameterValue(params, "report-type"));
  return ct;
}

// Undoes the Content-Transfer-Encoding (base64, quoted-printable, uuencode);
// other encodings pass through. At most max_bytes of output.
std::string DecodeTransfer(std::string_view body, const std::string* encoding, std::size_t max_bytes) {
  body = body.substr(0, std::min(body.size(), max_bytes));
  if (encoding == nullptr) return std::string(body);
  const std::string name(Trim(*encoding));
  const GMimeContentEncoding e = g_mime_content_encoding_from_string(name.c_str());
  if (e != GMIME_CONTENT_ENCODING_BASE64 && e != GMIME_CONTENT_ENCODING_QUOTEDPRINTABLE &&
      e != GMIME_CONTENT_ENCODING_UUENCODE) {
    return std::string(body);
  }
  GMimeEncoding state;
  g_mime_encoding_init_decode(&state, e);
  std::string out(g_mime_encoding_outlen(&state, body.size()), '\0');
  const std::size_t n = g_mime_encoding_step(&state, body.data(), body.size(), out.data());
  out.resize(std::min(n, out.size()));
  return out;
}

bool IsDeliveryStatus(const std::string& type) {
  return type == "message/delivery-status" || type == "message/global-delivery-status";
}

bool IsEmbeddedMessage(const std::string& type) {
  return type == "message/rfc822" || type == "message/global" || type == "message/news";
}

class Walker {
 public:
  Walker(const ParseLimits& limits, MimeContent* out) : limits_(limits), out_(out) {}

  // Walks one entity. `top` is the message itself (its headers are the
  // report's); default_type is text/plain, or message/rfc822 in a digest.
  Status Walk(std::string_view text, int depth, bool top, std::string_view default_type) {
    if (depth > limits_.max_mime_depth) {
      return Status::LimitExceeded("MIME nesting deeper than " +
                                   std::to_string(limits_.max_mime_depth) + " levels");
    }
    if (++parts_ > static_cast<std::size_t>(limits_.max_mime_parts)) {
      return Status::LimitExceeded("more than " + std::to_string(limits_.max_mime_parts) +
                                   " MIME parts");
    }
    const Entity entity = SplitEntity(text);
    const FieldGroup fields = ParseHeaderBlock(entity.header, kMaxTopFields);
    const ContentType ct = ParseContentType(FindField(fields, "Content-Type"), default_type);
    const std::string* encoding = FindField(fields, "Content-Transfer-Encoding");
    if (top) {
      out_->headers = DecodedFields(fields, 0);
      out_->content_type = ct.type;
      out_->report_type = ct.report_type;
    }
    if (ct.type.starts_with("multipart/")) return WalkMultipart(entity.body, ct, depth);
    if (IsEmbeddedMessage(ct.type)) {
      const std::string inner = DecodeTransfer(entity.body, encoding, limits_.max_message_bytes);
      TakeReturnedMessage(inner);
      return Status::Ok();  // the returned message's own parts are not the report
    }
    if (IsDeliveryStatus(ct.type)) {
      if (ct.type == "message/global-delivery-status") out_->global_delivery_status = true;
      out_->delivery_status.push_back(
          SanitizeUtf8(DecodeTransfer(entity.body, encoding, limits_.max_message_bytes)));
    } else if (ct.type == "message/feedback-report") {
      if (out_->feedback_report.empty()) {
        out_->feedback_report =
            SanitizeUtf8(DecodeTransfer(entity.body, encoding, limits_.max_message_bytes));
      }
    } else if (ct.type == "text/rfc822-headers" || ct.type == "message/global-headers") {
      const std::string headers = ToUtf8(
          DecodeTransfer(entity.body, encoding, limits_.max_message_bytes), ct.charset);
      TakeReturnedHeaders(
          DecodedFields(ParseHeaderBlock(headers, kMaxReturnedFields), kMaxReceivedFields));
    } else if (ct.type == "text/plain" || ct.type == "text/html" || ct.type == "text/enriched") {
      const std::string* disposition = FindField(fields, "Content-Disposition");
      if (disposition != nullptr && StartsWithIgnoreCase(Trim(*disposition), "attachment") &&
          !out_->texts.empty()) {
        return Status::Ok();
      }
      std::string decoded =
          ToUtf8(DecodeTransfer(entity.body, encoding, limits_.max_message_bytes), ct.charset);
      if (ct.type == "text/html") decoded = HtmlToText(decoded);
      out_->texts.push_back(std::move(decoded));
    }
    return Status::Ok();
  }

 private:
  Status WalkMultipart(std::string_view body, const ContentType& ct, int depth) {
    std::vector<std::string_view> parts;
    std::string_view prologue = body;
    if (!ct.boundary.empty()) SplitParts(body, ct.boundary, &prologue, &parts);
    if (parts.empty()) {
      // No boundary line was found: the whole body is the prologue.
      out_->texts.push_back(SanitizeUtf8(prologue));
      return Status::Ok();
    }
    const std::string_view child_default = ct.type == "multipart/digest" ? "message/rfc822" : "text/plain";
    if (ct.type == "multipart/alternative") {
      // Read one rendering only: the plain text one when there is one.
      std::string_view chosen = parts.front();
      for (std::string_view p : parts) {
        const Entity e = SplitEntity(p);
        const FieldGroup f = ParseHeaderBlock(e.header, kMaxTopFields);
        if (ParseContentType(FindField(f, "Content-Type"), child_default).type == "text/plain") {
          chosen = p;
          break;
        }
      }
      return Walk(chosen, depth + 1, false, child_default);
    }
    for (std::string_view p : parts) {
      Status s = Walk(p, depth + 1, false, child_default);
      if (!s.ok()) return s;
    }
    return Status::Ok();
  }

  // Splits a multipart body at its delimiter lines ("--boundary", the last
  // one "--boundary--"); a missing closing delimiter ends the last part at
  // the end of the body.
  void SplitParts(std::string_view body, std::string_view boundary, std::string_view* prologue,
                  std::vector<std::string_view>* parts) {
    std::size_t part_start = std::string_view::npos;
    std::size_t pos = 0;
    while (pos < body.size()) {
      std::size_t eol = body.find('\n', pos);
      const std::size_t next = eol == std::string_view::npos ? body.size() : eol + 1;
      std::string_view line = body.substr(pos, next - pos);
      if (line.size() >= boundary.size() + 2 && line[0] == '-' && line[1] == '-' &&
          line.substr(2, boundary.size()) == boundary) {
        std::string_view rest = line.substr(2 + boundary.size());
        const bool closing = rest.starts_with("--");
        if (closing) rest.remove_prefix(2);
        if (Trim(rest).empty()) {
          // The line break before a delimiter belongs to the delimiter.
          std::size_t end = pos;
          if (end > 0 && body[end - 1] == '\n') --end;
          if (end > 0 && body[end - 1] == '\r') --end;
          if (part_start == std::string_view::npos) {
            *prologue = body.substr(0, end);
          } else {
            parts->push_back(body.substr(part_start, end > part_start ? end - part_start : 0));
          }
          if (closing) return;
          part_start = next;
        }
      }
      pos = next;
    }
    if (part_start != std::string_view::npos) parts->push_back(body.substr(std::min(part_start, body.size())));
  }

  void TakeReturnedMessage(std::string_view message) {
    if (out_->has_returned_message) return;  // the first returned message is the original
    const FieldGroup raw_fields = ParseHeaderBlock(SplitEntity(message).header, kMaxReturnedFields);
    TakeReturnedHeaders(DecodedFields(raw_fields, kMaxReceivedFields));
    if (ParseContentType(FindField(raw_fields, "Content-Type"), "text/plain").type ==
        "multipart/report") {
      out_->returned_report = std::string(message);
    }
  }

  void TakeReturnedHeaders(FieldGroup fields) {
    if (out_->has_returned_message) return;
    out_->has_returned_message = true;
    out_->returned_headers = std::move(fields);
  }

  const ParseLimits& limits_;
  MimeContent* out_;
  std::size_t parts_ = 0;
};

}  // namespace

Result<MimeContent> WalkMime(std::string_view raw, const ParseLimits& limits) {
  if (raw.size() > limits.max_message_bytes) {
    return Status::LimitExceeded("message of " + std::to_string(raw.size()) +
                                 " bytes is larger than the limit of " +
                                 std::to_string(limits.max_message_bytes));
  }
  if (Trim(raw).empty()) return Status::InvalidArgument("empty message");
  // The walk checks depth before it descends and counts parts as it goes,
  // so its recursion and work stay bounded whatever the input.
  MimeContent out;
  Walker walker(limits, &out);
  Status s = walker.Walk(raw, 0, true, "text/plain");
  if (!s.ok()) return s;
  return out;
}

}  // namespace bm
