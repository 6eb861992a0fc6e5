#include "parser/parser.h"

#include <gmime/gmime.h>

#include "parser/address.h"
#include "parser/auto_reply.h"
#include "parser/delivery_status.h"
#include "parser/feedback_report.h"
#include "parser/list_notice.h"
#include "parser/mime_walk.h"
#include "parser/received.h"
#include "parser/ses_notification.h"
#include "parser/smtp_codes.h"
#include "parser/text_bounce.h"
#include "parser/text_util.h"

namespace bm {
namespace {

constexpr std::size_t kMaxOriginalXHeaders = 64;
constexpr std::size_t kMaxHeaderValueBytes = 998;

std::string HeaderValue(const FieldGroup& headers, std::string_view name) {
  const std::string* v = FindField(headers, name);
  return v ? std::string(TruncateUtf8(*v, kMaxHeaderValueBytes)) : std::string();
}

// The report's own header fields say it is a non-delivery report.
bool HeadersSayBounce(const FieldGroup& headers) {
  if (FindField(headers, "X-Failed-Recipients") != nullptr) return true;
  const std::string from = HeaderValue(headers, "From");
  if (IsDaemonAddress(ExtractAddress(from)) || ContainsIgnoreCase(from, "mail delivery") ||
      ContainsIgnoreCase(from, "mailer-daemon") || ContainsIgnoreCase(from, "mail administrator")) {
    return true;
  }
  static constexpr std::string_view kSubjects[] = {
      "undeliver",          "undelivered",       "delivery fail",      "failure notice",
      "returned mail",      "delivery status",   "mail delivery",      "non-delivery",
      "nondeliverable",     "not delivered",     "could not be delivered", "delivery problem",
      "returned to sender", "delivery notification", "mail system error", "delivery failure",
      "unzustellbar",       "message not delivered", "bounce",           "rejected",
  };
  const std::string subject = HeaderValue(headers, "Subject");
  for (std::string_view s : kSubjects) {
    if (ContainsIgnoreCase(subject, s)) return true;
  }
  return false;
}

OriginalMessage OriginalFromHeaders(const FieldGroup& fields) {
  OriginalMessage o;
  o.message_id = ExtractAddress(HeaderValue(fields, "Message-ID"));
  if (o.message_id.empty()) {
    std::string id = HeaderValue(fields, "Message-ID");
    std::string_view t = Trim(id);
    if (!t.empty() && t.front() == '<') t.remove_prefix(1);
    if (!t.empty() && t.back() == '>') t.remove_suffix(1);
    o.message_id = std::string(t);
  }
  o.from = HeaderValue(fields, "From");
  o.to = HeaderValue(fields, "To");
  o.subject = HeaderValue(fields, "Subject");
  for (const HeaderField& f : fields) {
    if (o.x_headers.size() >= kMaxOriginalXHeaders) break;
    if (StartsWithIgnoreCase(f.name, "X-")) {
      o.x_headers.emplace_back(f.name, std::string(TruncateUtf8(f.value, kMaxHeaderValueBytes)));
    }
  }
  o.received_ids = ReceivedQueueIds(fields);
  return o;
}

// Microsoft's Junk Mail Reporting Program sends complaints as the returned
// message alone, marked with the complaining recipient.
bool IsMicrosoftFeedback(const FieldGroup& returned) {
  return FindField(returned, "X-HmXmrOriginalRecipient") != nullptr;
}

// A mail client's automatic unsubscribe request (Apple Mail marks its own
// with X-Apple-Unsubscribe): the sender no longer wants the mail.
bool IsUnsubscribeRequest(const FieldGroup& headers) {
  const std::string* apple = FindField(headers, "X-Apple-Unsubscribe");
  return apple != nullptr && EqualsIgnoreCase(Trim(*apple), "true");
}

bool LooksLikeMessageHeaders(const FieldGroup& fields) {
  return FindField(fields, "From") || FindField(fields, "To") || FindField(fields, "Subject") ||
         FindField(fields, "Message-ID");
}

std::string JoinTexts(const std::vector<std::string>& texts) {
  std::string all;
  for (const std::string& t : texts) {
    all += t;
    all += '\n';
  }
  return all;
}

// Gives DSN recipients the explanation the human-readable part has for them
// when the delivery-status fields carry none.
void EnrichFromText(std::vector<RecipientResult>& recipients, const TextBounce& text,
                    std::size_t max_diagnostic_bytes) {
  for (RecipientResult& r : recipients) {
    for (const RecipientResult& t : text.recipients) {
      if (!EqualsIgnoreCase(t.address, r.address) && !EqualsIgnoreCase(t.address, r.original_address)) {
        continue;
      }
      if (r.smtp_command.empty()) r.smtp_command = t.smtp_command;
      if (!r.diagnostic.empty() && !FindReplyCode(r.diagnostic).empty()) break;
      if (r.diagnostic.empty()) {
        r.diagnostic = t.diagnostic;
      } else if (!t.diagnostic.empty() && (!FindReplyCode(t.diagnostic).empty() ||
                                           FindEnhancedStatus(r.diagnostic).empty())) {
        // "X-Unix; 77" or a Status comment ("permanent failure") says less
        // than the text's "550 5.0.0 ... Insufficient permission": text first.
        r.diagnostic = std::string(TruncateUtf8(t.diagnostic + " " + r.diagnostic, max_diagnostic_bytes));
      }
      if (r.reply_code.empty()) r.reply_code = t.reply_code;
      if (r.status.empty() || IsGenericStatus(r.status)) {
        if (!t.status.empty() && (r.status.empty() || t.status[0] == r.status[0])) r.status = t.status;
      }
      if (r.remote_mta.empty()) r.remote_mta = t.remote_mta;
      break;
    }
  }
}

// A local program's exit status ("Diagnostic-Code: X-Unix; 255") is all the
// fields of a Sendmail DSN say about a pipe or program delivery; the session
// transcript above them quotes the reply that carried it ("554 5.3.0 unknown
// mailer error 255", "451 4.0.0 Operating system error"). Only for a report
// about one recipient, so the transcript cannot belong to another.
void CodesFromTranscript(std::vector<RecipientResult>& recipients, const TextBounce& text) {
  if (recipients.size() != 1) return;
  RecipientResult& r = recipients.front();
  const std::string_view diag = Trim(r.diagnostic);
  const bool exit_status = !diag.empty() && diag.size() <= 3 &&
                           diag.find_first_not_of("0123456789") == std::string_view::npos;
  if (!r.reply_code.empty() || !exit_status) return;
  RecipientResult transcript;
  transcript.diagnostic = text.summary;
  RefineCodesFromDiagnostic(transcript);
  if (transcript.reply_code.empty()) return;
  r.reply_code = transcript.reply_code;
  if ((r.status.empty() || IsGenericStatus(r.status)) && !transcript.status.empty() &&
      (r.status.empty() || transcript.status[0] == r.status[0])) {
    r.status = transcript.status;
  }
}

}  // namespace

GMimeLibrary::GMimeLibrary() { g_mime_init(); }
GMimeLibrary::~GMimeLibrary() { g_mime_shutdown(); }

namespace {

// Decodes what the MIME walk found. Keeps at most `keep` recipients.
BounceReport Decode(const MimeContent& mime, const ParseLimits& limits, std::size_t keep) {
  BounceReport report;
  report.subject = HeaderValue(mime.headers, "Subject");
  report.from = HeaderValue(mime.headers, "From");

  TextBounceOptions text_options;
  text_options.max_recipients = keep;
  text_options.max_diagnostic_bytes = limits.max_diagnostic_bytes;
  for (std::string_view name : {"From", "To"}) {
    std::string a = ExtractAddress(HeaderValue(mime.headers, name));
    if (!a.empty()) text_options.excluded_addresses.push_back(std::move(a));
  }
  const std::string text_body = JoinTexts(mime.texts);
  const TextBounce text = DecodeTextBounce(text_body, text_options);

  FieldGroup returned = mime.returned_headers;
  if (!mime.has_returned_message && LooksLikeMessageHeaders(text.returned_headers)) {
    returned = text.returned_headers;
  }
  report.original = OriginalFromHeaders(returned);

  if (!mime.feedback_report.empty() || mime.report_type == "feedback-report") {
    FeedbackReport arf = ParseFeedbackReport(mime.feedback_report, returned, keep);
    report.kind = ReportKind::kFeedback;
    report.format = "arf";
    report.reporting_mta = arf.reporting_mta;
    report.recipients = std::move(arf.recipients);
    return report;
  }

  if (IsUnsubscribeRequest(mime.headers)) {
    report.kind = ReportKind::kFeedback;
    report.format = "unsubscribe";
    RecipientResult r;
    r.address = ExtractAddress(report.from);
    r.feedback_type = "unsubscribe";
    report.recipients.push_back(std::move(r));
    return report;
  }

  if (IsMicrosoftFeedback(returned)) {
    report.kind = ReportKind::kFeedback;
    report.format = "jmrp";
    RecipientResult r;
    r.address = ExtractAddress(HeaderValue(returned, "X-HmXmrOriginalRecipient"));
    r.feedback_type = "abuse";
    report.recipients.push_back(std::move(r));
    return report;
  }

  if (DecodeSesNotification(text_body, keep,
                            limits.max_diagnostic_bytes, &report)) {
    return report;
  }
  if (DecodeFmlNotice(mime.headers, text_body, limits.max_diagnostic_bytes, &report)) {
    return report;
  }

  std::vector<std::string_view> status_bodies(mime.delivery_status.begin(),
                                              mime.delivery_status.end());
  if (status_bodies.empty()) {
    const std::string_view inline_fields = FindInlineDeliveryStatus(text_body);
    if (!inline_fields.empty()) status_bodies.push_back(inline_fields);
  }
  if (!status_bodies.empty()) {
    report.kind = ReportKind::kDsn;
    report.format = mime.global_delivery_status ? "rfc6533" : "rfc3464";
    for (std::string_view body : status_bodies) {
      DeliveryStatus ds =
          ParseDeliveryStatus(body, keep - report.recipients.size(),
                              limits.max_diagnostic_bytes);
      if (report.reporting_mta.empty()) report.reporting_mta = ds.reporting_mta;
      for (RecipientResult& r : ds.recipients) report.recipients.push_back(std::move(r));
      if (report.recipients.size() >= keep) break;
    }
    if (!report.recipients.empty()) {
      EnrichFromText(report.recipients, text, limits.max_diagnostic_bytes);
      CodesFromTranscript(report.recipients, text);
      return report;
    }
  }

  const bool header_says_bounce = HeadersSayBounce(mime.headers);
  if (!text.recipients.empty() && (header_says_bounce || text.bounce_markers)) {
    report.kind = ReportKind::kDsn;
    if (report.format.empty()) report.format = text.format;
    if (report.reporting_mta.empty()) report.reporting_mta = text.reporting_mta;
    report.recipients = text.recipients;
    return report;
  }
  if (header_says_bounce || report.kind == ReportKind::kDsn) {
    report.kind = ReportKind::kDsn;
    if (report.format.empty()) report.format = text.format;
    // Without a recipient in the text, the X-Failed-Recipients header or
    // else the returned message's single To address names it.
    const std::string* failed = FindField(mime.headers, "X-Failed-Recipients");
    std::vector<AddressHit> named;
    if (failed != nullptr) named = FindAddresses(*failed, keep);
    if (named.empty() && mime.returned_report.empty()) {
      named = FindAddresses(report.original.to, 2);
      if (named.size() != 1) named.clear();
    }
    for (const AddressHit& hit : named) {
      RecipientResult r;
      r.address = hit.address;
      r.action = "failed";
      r.diagnostic = text.summary;
      RefineCodesFromDiagnostic(r);
      report.recipients.push_back(std::move(r));
    }
    return report;
  }

  if (IsAutoReply(mime.headers)) {
    report.kind = ReportKind::kAutoReply;
    report.format = "rfc3834";
    RecipientResult r;
    r.address = ExtractAddress(report.from);
    r.diagnostic = CollapseWhitespace(text_body, limits.max_diagnostic_bytes);
    report.recipients.push_back(std::move(r));
    return report;
  }
  report.kind = ReportKind::kNotBounce;
  return report;
}

}  // namespace

Result<BounceReport> ParseBounce(std::string_view raw, const ParseLimits& limits) {
  Result<MimeContent> walked = WalkMime(raw, limits);
  if (!walked.ok()) return walked.status();
  // One more than allowed is decoded, to tell "exactly at the limit" from "over".
  BounceReport report = Decode(*walked, limits, limits.max_recipients + 1);
  if (report.recipients.empty() && report.kind != ReportKind::kNotBounce &&
      !walked->returned_report.empty()) {
    // A report that only forwards another report (one level deep).
    Result<MimeContent> inner = WalkMime(walked->returned_report, limits);
    if (inner.ok()) {
      BounceReport forwarded = Decode(*inner, limits, limits.max_recipients + 1);
      if (!forwarded.recipients.empty()) report = std::move(forwarded);
    }
  }
  if (report.recipients.size() > limits.max_recipients) {
    return Status::LimitExceeded("report names more than " + std::to_string(limits.max_recipients) +
                                 " recipients");
  }
  return report;
}

}  // namespace bm
