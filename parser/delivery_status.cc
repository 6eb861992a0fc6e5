#include "parser/delivery_status.h"

#include "parser/address.h"
#include "parser/header_block.h"
#include "parser/smtp_codes.h"
#include "parser/text_util.h"

namespace bm {
namespace {

// The first whitespace-separated word of a field value, lower-cased.
std::string FirstWord(std::string_view value) {
  value = Trim(value);
  std::size_t n = 0;
  while (n < value.size() && value[n] != ' ' && value[n] != '\t' && value[n] != '(' &&
         value[n] != ';') {
    ++n;
  }
  return ToLowerAscii(value.substr(0, n));
}

bool IsRecipientField(std::string_view name) {
  static constexpr std::string_view kNames[] = {
      "final-recipient", "original-recipient", "action", "status", "remote-mta",
      "diagnostic-code", "last-attempt-date", "will-retry-until", "x-actual-recipient",
  };
  for (std::string_view n : kNames) {
    if (EqualsIgnoreCase(name, n)) return true;
  }
  return false;
}

struct Builder {
  RecipientResult r;
  bool has_final = false;
  bool has_original = false;
  bool has_status = false;
  bool exit_status_diagnostic = false;  // a non-SMTP Diagnostic-Code that is only a number
  std::string status_comment;           // text in parentheses after the Status code
  bool empty() const { return !has_final && !has_original && !has_status; }
};

}  // namespace

std::string_view StripTypePrefix(std::string_view value) {
  value = Trim(value);
  const std::size_t semi = value.find(';');
  if (semi == std::string_view::npos || semi > 16) return value;
  // Only a short token without blanks is an address / diagnostic type.
  for (std::size_t i = 0; i < semi; ++i) {
    if (value[i] == ' ' || value[i] == '\t') return value;
  }
  return Trim(value.substr(semi + 1));
}

std::string_view FindInlineDeliveryStatus(std::string_view text) {
  std::size_t start = std::string_view::npos;
  bool has_recipient = false;
  std::size_t pos = 0;
  while (pos < text.size() && !has_recipient) {
    std::size_t eol = text.find('\n', pos);
    if (eol == std::string_view::npos) eol = text.size();
    const std::string_view line = text.substr(pos, eol - pos);
    const bool recipient = StartsWithIgnoreCase(line, "Final-Recipient:");
    if (start == std::string_view::npos &&
        (recipient || StartsWithIgnoreCase(line, "Reporting-MTA:"))) {
      start = pos;
    }
    has_recipient = recipient;
    pos = eol + 1;
  }
  return has_recipient ? text.substr(start) : std::string_view();
}

DeliveryStatus ParseDeliveryStatus(std::string_view text, std::size_t max_recipients,
                                   std::size_t max_diagnostic_bytes) {
  DeliveryStatus out;
  Builder cur;
  auto flush = [&] {
    if (cur.empty()) return;
    RecipientResult& r = cur.r;
    if (r.address.empty()) r.address = r.original_address;
    if (EqualsIgnoreCase(r.original_address, r.address)) r.original_address.clear();
    if (r.diagnostic.empty()) r.diagnostic = CollapseWhitespace(cur.status_comment, max_diagnostic_bytes);
    RefineCodesFromDiagnostic(r);
    // "X-Unix; 255" is a local mailer's exit status, not an SMTP reply.
    if (cur.exit_status_diagnostic) r.reply_code.clear();
    r.smtp_command = SmtpCommandIn(r.diagnostic);
    if (!r.address.empty()) {
      if (out.recipients.size() < max_recipients) {
        out.recipients.push_back(std::move(r));
      } else {
        out.truncated = true;
      }
    }
    cur = Builder();
  };

  for (const FieldGroup& group : ParseFieldGroups(text)) {
    flush();  // a blank line ends a recipient group
    for (const HeaderField& f : group) {
      const std::string& name = f.name;
      if (!IsRecipientField(name)) {
        if (EqualsIgnoreCase(name, "reporting-mta") && out.reporting_mta.empty()) {
          out.reporting_mta = std::string(StripTypePrefix(f.value));
        } else if (EqualsIgnoreCase(name, "arrival-date") && out.arrival_date.empty()) {
          out.arrival_date = f.value;
        }
        continue;
      }
      RecipientResult& r = cur.r;
      if (EqualsIgnoreCase(name, "final-recipient")) {
        if (cur.has_final) flush();
        cur.has_final = true;
        cur.r.address = ExtractAddress(f.value);
      } else if (EqualsIgnoreCase(name, "original-recipient")) {
        if (cur.has_original) flush();
        cur.has_original = true;
        cur.r.original_address = ExtractAddress(f.value);
      } else if (EqualsIgnoreCase(name, "x-actual-recipient")) {
        if (r.address.empty()) r.address = ExtractAddress(f.value);
      } else if (EqualsIgnoreCase(name, "action")) {
        r.action = FirstWord(f.value);
      } else if (EqualsIgnoreCase(name, "status")) {
        cur.has_status = true;
        r.status = FindEnhancedStatus(f.value);
        // "Status: 4.0.0 (example.net: host name lookup failure)": the
        // comment explains when no Diagnostic-Code does.
        const std::size_t open = f.value.find('(');
        const std::size_t close = f.value.rfind(')');
        if (open != std::string::npos && close != std::string::npos && close > open + 1) {
          cur.status_comment = f.value.substr(open + 1, close - open - 1);
        }
      } else if (EqualsIgnoreCase(name, "remote-mta")) {
        r.remote_mta = std::string(StripTypePrefix(f.value));
      } else if (EqualsIgnoreCase(name, "diagnostic-code")) {
        r.diagnostic = CollapseWhitespace(StripTypePrefix(f.value), max_diagnostic_bytes);
        cur.exit_status_diagnostic =
            FirstWord(f.value) != "smtp" && !r.diagnostic.empty() &&
            r.diagnostic.find_first_not_of("0123456789") == std::string::npos;
      } else if (EqualsIgnoreCase(name, "last-attempt-date")) {
        r.last_attempt = f.value;
      }
    }
  }
  flush();
  if (!out.arrival_date.empty()) {
    for (RecipientResult& r : out.recipients) {
      if (r.last_attempt.empty()) r.last_attempt = out.arrival_date;
    }
  }
  return out;
}

}  // namespace bm
