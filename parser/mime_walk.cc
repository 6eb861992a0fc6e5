#include "parser/mime_walk.h"

#include <gmime/gmime.h>

#include <cstring>

#include "parser/gmime_util.h"
#include "parser/html_text.h"
#include "parser/mime_prescan.h"
#include "parser/text_util.h"

namespace bm {
namespace {

std::string MediaType(GMimeObject* object) {
  GMimeContentType* ct = g_mime_object_get_content_type(object);
  if (ct == nullptr) return "text/plain";
  const char* type = g_mime_content_type_get_media_type(ct);
  const char* sub = g_mime_content_type_get_media_subtype(ct);
  return ToLowerAscii(std::string(type ? type : "text") + "/" + (sub ? sub : "plain"));
}

std::string ContentTypeParameter(GMimeObject* object, const char* name) {
  GMimeContentType* ct = g_mime_object_get_content_type(object);
  const char* value = ct ? g_mime_content_type_get_parameter(ct, name) : nullptr;
  return value ? std::string(value) : std::string();
}

// Trace and authentication fields: long, numerous, and never read here.
bool IsIgnoredField(const char* name) {
  static constexpr const char* kIgnored[] = {
      "Received", "DKIM-Signature", "Authentication-Results", "Received-SPF",
      "ARC-Seal", "ARC-Message-Signature", "ARC-Authentication-Results",
  };
  for (const char* ignored : kIgnored) {
    if (g_ascii_strcasecmp(name, ignored) == 0) return true;
  }
  return false;
}

// Header fields of an object, values unfolded and RFC 2047-decoded to UTF-8.
FieldGroup HeaderFields(GMimeObject* object, std::size_t max_fields) {
  FieldGroup fields;
  GMimeHeaderList* list = g_mime_object_get_header_list(object);
  const int count = list ? g_mime_header_list_get_count(list) : 0;
  for (int i = 0; i < count && fields.size() < max_fields; ++i) {
    GMimeHeader* h = g_mime_header_list_get_header_at(list, i);
    const char* name = g_mime_header_get_name(h);
    const char* raw = g_mime_header_get_raw_value(h);
    if (name == nullptr || raw == nullptr || IsIgnoredField(name)) continue;
    char* unfolded = g_mime_utils_header_unfold(raw);
    // Only values with RFC 2047 encoded words need GMime's (costly) decoder.
    char* decoded =
        std::strstr(unfolded, "=?") ? g_mime_utils_header_decode_text(nullptr, unfolded) : nullptr;
    fields.push_back({SanitizeUtf8(name), SanitizeUtf8(Trim(decoded ? decoded : unfolded))});
    g_free(decoded);
    g_free(unfolded);
  }
  return fields;
}

class Walker {
 public:
  Walker(const ParseLimits& limits, MimeContent* out) : limits_(limits), out_(out) {}

  Status Walk(GMimeObject* object, int depth) {
    if (depth > limits_.max_mime_depth) {
      return Status::LimitExceeded("MIME nesting deeper than " +
                                   std::to_string(limits_.max_mime_depth) + " levels");
    }
    if (++parts_ > static_cast<std::size_t>(limits_.max_mime_parts)) {
      return Status::LimitExceeded("more than " + std::to_string(limits_.max_mime_parts) +
                                   " MIME parts");
    }
    const std::string type = MediaType(object);
    if (GMIME_IS_MULTIPART(object)) return WalkMultipart(GMIME_MULTIPART(object), type, depth);
    if (GMIME_IS_MESSAGE_PART(object)) {
      GMimeMessage* inner = g_mime_message_part_get_message(GMIME_MESSAGE_PART(object));
      if (inner == nullptr) return Status::Ok();
      if (IsDeliveryStatus(type)) {
        // Some GMime versions parse message/* bodies as messages: write the
        // fields back out as text.
        AddDeliveryStatus(type, ObjectText(GMIME_OBJECT(inner)));
        return Status::Ok();
      }
      TakeReturnedHeaders(HeaderFields(GMIME_OBJECT(inner), kMaxReturnedFields));
      GMimeObject* inner_body = g_mime_message_get_mime_part(inner);
      if (out_->returned_report.empty() && inner_body != nullptr &&
          MediaType(inner_body) == "multipart/report") {
        out_->returned_report = ObjectText(GMIME_OBJECT(inner));
      }
      return Status::Ok();  // the returned message's own parts are not the report
    }
    if (!GMIME_IS_PART(object)) return Status::Ok();
    GMimePart* part = GMIME_PART(object);
    if (IsDeliveryStatus(type)) {
      AddDeliveryStatus(type, DecodedPartContent(part, limits_.max_message_bytes));
    } else if (type == "message/feedback-report") {
      if (out_->feedback_report.empty()) {
        out_->feedback_report = SanitizeUtf8(DecodedPartContent(part, limits_.max_message_bytes));
      }
    } else if (type == "text/rfc822-headers" || type == "message/global-headers" ||
               type == "message/rfc822" || type == "message/global") {
      const std::string text = ToUtf8(DecodedPartContent(part, limits_.max_message_bytes),
                                      ContentTypeParameter(object, "charset"));
      TakeReturnedHeaders(ParseHeaderBlock(text, kMaxReturnedFields));
    } else if (type == "text/plain" || type == "text/html" || type == "text/enriched") {
      if (g_mime_part_is_attachment(part) && !out_->texts.empty()) return Status::Ok();
      std::string text = ToUtf8(DecodedPartContent(part, limits_.max_message_bytes),
                                ContentTypeParameter(object, "charset"));
      if (type == "text/html") text = HtmlToText(text);
      out_->texts.push_back(std::move(text));
    }
    return Status::Ok();
  }

 private:
  static constexpr std::size_t kMaxReturnedFields = 512;

  static bool IsDeliveryStatus(const std::string& type) {
    return type == "message/delivery-status" || type == "message/global-delivery-status";
  }

  Status WalkMultipart(GMimeMultipart* mp, const std::string& type, int depth) {
    const int n = g_mime_multipart_get_count(mp);
    if (n == 0) {
      // No boundary line was found: the whole body is the prologue.
      const char* prologue = g_mime_multipart_get_prologue(mp);
      if (prologue != nullptr) out_->texts.push_back(SanitizeUtf8(prologue));
      return Status::Ok();
    }
    if (type == "multipart/alternative") {
      // Read one rendering only: the plain text one when there is one.
      GMimeObject* chosen = nullptr;
      for (int i = 0; i < n; ++i) {
        GMimeObject* child = g_mime_multipart_get_part(mp, i);
        if (MediaType(child) == "text/plain") {
          chosen = child;
          break;
        }
        if (chosen == nullptr || !GMIME_IS_PART(child)) chosen = child;
      }
      return chosen ? Walk(chosen, depth + 1) : Status::Ok();
    }
    for (int i = 0; i < n; ++i) {
      Status s = Walk(g_mime_multipart_get_part(mp, i), depth + 1);
      if (!s.ok()) return s;
    }
    return Status::Ok();
  }

  void AddDeliveryStatus(const std::string& type, std::string body) {
    if (type == "message/global-delivery-status") out_->global_delivery_status = true;
    out_->delivery_status.push_back(SanitizeUtf8(body));
  }

  void TakeReturnedHeaders(FieldGroup fields) {
    if (out_->has_returned_message) return;  // the first returned message is the original
    out_->has_returned_message = true;
    out_->returned_headers = std::move(fields);
  }

  std::string ObjectText(GMimeObject* object) {
    GPtr<GMimeStream> mem(g_mime_stream_mem_new());
    g_mime_object_write_to_stream(object, nullptr, mem.get());
    GByteArray* array = g_mime_stream_mem_get_byte_array(GMIME_STREAM_MEM(mem.get()));
    return std::string(reinterpret_cast<const char*>(array->data), array->len);
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
  const MimeShape shape = PrescanMime(raw, limits.max_mime_depth,
                                      static_cast<std::size_t>(limits.max_mime_parts));
  if (shape.max_depth > limits.max_mime_depth) {
    return Status::LimitExceeded("MIME nesting deeper than " +
                                 std::to_string(limits.max_mime_depth) + " levels");
  }
  if (shape.parts > static_cast<std::size_t>(limits.max_mime_parts)) {
    return Status::LimitExceeded("more than " + std::to_string(limits.max_mime_parts) +
                                 " MIME parts");
  }

  GPtr<GMimeStream> stream(g_mime_stream_mem_new_with_buffer(raw.data(), raw.size()));
  GPtr<GMimeParser> parser(g_mime_parser_new_with_stream(stream.get()));
  g_mime_parser_set_format(parser.get(), GMIME_FORMAT_MESSAGE);
  GPtr<GMimeMessage> message(g_mime_parser_construct_message(parser.get(), nullptr));
  if (message == nullptr) return Status::InvalidArgument("not an RFC 5322 message");

  MimeContent out;
  out.headers = HeaderFields(GMIME_OBJECT(message.get()), 1024);
  GMimeObject* body = g_mime_message_get_mime_part(message.get());
  if (body == nullptr) return out;
  out.content_type = MediaType(body);
  out.report_type = ToLowerAscii(ContentTypeParameter(body, "report-type"));
  Walker walker(limits, &out);
  Status s = walker.Walk(body, 0);
  if (!s.ok()) return s;
  return out;
}

}  // namespace bm
