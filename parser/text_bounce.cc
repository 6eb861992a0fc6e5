#include "parser/text_bounce.h"

#include <unordered_map>

#include "parser/address.h"
#include "parser/smtp_codes.h"
#include "parser/text_util.h"

namespace bm {
namespace {

struct Marker {
  std::string_view format;
  std::string_view phrase;
};

// Sentences that only non-delivery reports contain (in lower case), with
// the MTA family that writes them. The first one found names the format.
constexpr Marker kFormatMarkers[] = {
    {"exim", "this message was created automatically by mail delivery software"},
    {"qmail", "this is the qmail-send program"},
    {"qmail", "i'm afraid i wasn't able to deliver your message"},
    {"postfix", "this is the mail system at host"},
    {"postfix", "this is the postfix program"},
    {"sendmail", "----- transcript of session follows -----"},
    {"sendmail", "the following addresses had permanent fatal errors"},
    {"sendmail", "had transient non-fatal errors"},
    {"opensmtpd", "this is the mailer-daemon, please do not reply"},
    {"gmail", "delivery to the following recipient failed"},
    {"gmail", "google tried to deliver your message"},
    {"exchange", "did not reach the following recipient"},
    {"exchange", "delivery has failed to these recipients or groups"},
    {"exchange", "your message did not reach some or all of the intended recipients"},
    {"exchange", "your message couldn't be delivered"},
    {"exchange", "your message wasn't delivered"},
    {"courier", "courier mail server at"},
    {"domino", "was not delivered to:"},
    {"yahoo", "sorry, we were unable to deliver your message to the following address"},
    {"messagingserver", "this report relates to a message you sent"},
    {"text", "could not be delivered to one or more"},
    {"text", "could not be delivered"},
    {"text", "couldn't be delivered"},
    {"text", "was not delivered"},
    {"text", "undeliverable"},
    {"text", "delivery failed"},
    {"text", "delivery has failed"},
    {"text", "delivery to the following"},
    {"text", "failed permanently"},
    {"text", "permanent error"},
    {"text", "permanent fatal error"},
    {"text", "unable to deliver"},
    {"text", "could not deliver"},
    {"text", "mail delivery failed"},
    {"text", "failed to deliver"},
    {"text", "non-delivery"},
    {"text", "returned mail"},
    {"text", "was undeliverable"},
    {"text", "delivery failure"},
};

// A line naming the start of the returned message (or its headers).
bool IsReturnedMessageMarker(std::string_view line) {
  static constexpr std::string_view kAlways[] = {
      "copy of the message",      "copy of your message",  "original message follows",
      "original message headers", "unsent message below",  "original message:",
  };
  static constexpr std::string_view kAfterRule[] = {
      "original message", "returned message",      "unsent message", "message follows",
      "original mail",    "header of the original", "headers of the original",
      "message header",   "rejected message",      "undelivered message",
  };
  const std::string_view t = Trim(line);
  if (t.size() < 10) return false;
  const char c = t[0];
  if ((c != '-' && c != '=' && c != '_') || t[1] != c) {
    // Every kAlways phrase has "message"; a plain find rules most lines out.
    if (t.find("essag") == std::string_view::npos && t.find("ESSAG") == std::string_view::npos) {
      return false;
    }
    for (std::string_view p : kAlways) {
      if (ContainsIgnoreCase(t, p)) return true;
    }
    return false;
  }
  for (std::string_view p : kAlways) {
    if (ContainsIgnoreCase(t, p)) return true;
  }
  for (std::string_view p : kAfterRule) {
    if (ContainsIgnoreCase(t, p)) return true;
  }
  return false;
}

// Fields that start a returned message's header block, or delivery-status
// fields written into the text (parsed as such, not as prose).
bool IsQuotedHeaderStart(std::string_view line) {
  return StartsWithIgnoreCase(line, "Return-Path:") || StartsWithIgnoreCase(line, "Received: from") ||
         StartsWithIgnoreCase(line, "DKIM-Signature:") || StartsWithIgnoreCase(line, "Reporting-MTA:") ||
         StartsWithIgnoreCase(line, "Final-Recipient:");
}

// Labels that introduce a recipient's address at the start of a line.
constexpr std::string_view kRecipientLabels[] = {
    "RCPT TO:",           "Failed recipient:",   "Failed recipients:",
    "Failed address:",    "Recipient address:",  "Recipient:",
    "Recipients:",        "Invalid recipient:",  "Unknown recipient:",
    "Address:",           "Original recipient:", "Delivery to:",
};

struct LedAddress {
  std::string address;
  std::string rest;  // the text after the address on the same line
};

// When line starts with a recipient address (after indentation, a bullet,
// one of kRecipientLabels or an opening '<'), returns it.
bool AddressLedLine(std::string_view line, LedAddress* out) {
  std::string_view t = Trim(line);
  if (StartsWithIgnoreCase(t, ">>>")) {
    // Only the RCPT command of an SMTP transcript names a recipient.
    t = Trim(t.substr(3));
    if (!StartsWithIgnoreCase(t, "RCPT TO:")) return false;
  }
  while (!t.empty() && (t[0] == '*' || t[0] == '-' || t[0] == '#')) t = Trim(t.substr(1));
  // Sendmail's "550 <user@example.com>... User unknown": a reply code, then
  // the address in brackets. The code follows the text in the diagnostic, as
  // a remote reply quoted in the text ("554 <a@b>... 550 Host unknown") is
  // the more telling one.
  std::string_view reply_led;
  if (t.size() > 5 && !FindReplyCode(t.substr(0, 4)).empty() && t[3] == ' ') {
    std::string_view after = Trim(t.substr(4));
    const std::string status = FindEnhancedStatus(after.substr(0, std::min<std::size_t>(after.size(), 9)));
    if (!status.empty() && StartsWithIgnoreCase(after, status)) after = Trim(after.substr(status.size()));
    if (!after.empty() && after[0] == '<' && after.find(">...") != std::string_view::npos) {
      reply_led = t.substr(0, t.size() - after.size());
      t = after;
    }
  }
  for (std::string_view label : kRecipientLabels) {
    if (StartsWithIgnoreCase(t, label)) {
      t = Trim(t.substr(label.size()));
      break;
    }
  }
  std::size_t skip = 0;
  while (skip < t.size() && skip < 2 && (t[skip] == '<' || t[skip] == '"' || t[skip] == '\'')) ++skip;
  t.remove_prefix(skip);
  std::vector<AddressHit> hits = FindAddresses(t.substr(0, std::min<std::size_t>(t.size(), 320)), 1);
  if (hits.empty() || hits.front().begin != 0) return false;
  out->address = hits.front().address;
  std::string_view rest = t.substr(hits.front().end);
  while (!rest.empty() && (rest[0] == '>' || rest[0] == '"' || rest[0] == '\'' || rest[0] == ':' ||
                           rest[0] == '.' || rest[0] == ',' || rest[0] == ' ' || rest[0] == '\t')) {
    rest.remove_prefix(1);
  }
  out->rest = std::string(rest);
  if (!reply_led.empty()) {
    out->rest += ' ';
    out->rest.append(Trim(reply_led));
  }
  return true;
}

bool IsBlank(std::string_view line) { return Trim(line).empty(); }

// A line that explains nothing: a command we sent or a positive (2xx/3xx)
// reply in an SMTP transcript, or a section rule ("----- Transcript of
// session follows -----").
bool IsTranscriptNoise(std::string_view line) {
  std::string_view t = Trim(line);
  if (t.size() >= 6 && t.starts_with("---") && t.ends_with("---")) return true;
  if (StartsWithIgnoreCase(t, ">>>") || StartsWithIgnoreCase(t, "In:")) return true;
  if (StartsWithIgnoreCase(t, "<<<")) {
    t = Trim(t.substr(3));
  } else if (StartsWithIgnoreCase(t, "Out:")) {
    t = Trim(t.substr(4));
  } else {
    return false;
  }
  return t.size() >= 3 && (t[0] == '2' || t[0] == '3') && t[1] >= '0' && t[1] <= '9';
}

class Decoder {
 public:
  Decoder(std::string_view text, const TextBounceOptions& options)
      : options_(options), lines_(SplitLines(text)) {}

  TextBounce Run() {
    FindCut();
    DetectFormat();
    ReadAddressLedRecipients();
    if (out_.recipients.empty()) ReadMentionedRecipients();
    FindTranscriptReplies();
    // An SMTP transcript naming the recipient and a failure reply is a
    // report even without any of the known sentences.
    if (rcpt_command_seen_ && HasFailureReply(out_.summary)) out_.bounce_markers = true;
    for (RecipientResult& r : out_.recipients) FinishRecipient(r);
    return std::move(out_);
  }

 private:
  static constexpr std::size_t kMaxDiagnosticLines = 12;
  static constexpr int kMaxDiagnosticParagraphs = 5;
  static constexpr std::size_t kMaxSkippedLines = 64;
  static constexpr std::size_t kMaxTranscriptReplies = 256;

  static bool HasFailureReply(std::string_view text) {
    for (const std::string& code : FindReplyCodes(text, 16)) {
      if (code[0] == '4' || code[0] == '5') return true;
    }
    return false;
  }

  static bool HasCode(std::string_view text) {
    return !FindReplyCode(text).empty() || !FindEnhancedStatus(text).empty();
  }

  void FindCut() {
    cut_ = lines_.size();
    for (std::size_t i = 0; i < lines_.size(); ++i) {
      if (IsReturnedMessageMarker(lines_[i]) || IsQuotedHeaderStart(lines_[i])) {
        cut_ = i;
        break;
      }
    }
    // The returned message's header block follows the marker.
    std::size_t h = cut_ < lines_.size() && !IsQuotedHeaderStart(lines_[cut_]) ? cut_ + 1 : cut_;
    while (h < lines_.size() && IsBlank(lines_[h])) ++h;
    if (h < lines_.size()) {
      std::string block;
      for (std::size_t i = h; i < lines_.size() && !IsBlank(lines_[i]) && block.size() < 65536; ++i) {
        block.append(lines_[i]);
        block += '\n';
      }
      out_.returned_headers = ParseHeaderBlock(block, 512);
    }
    std::string summary;
    for (std::size_t i = 0; i < cut_ && summary.size() < options_.max_diagnostic_bytes; ++i) {
      summary.append(lines_[i]);
      summary += ' ';
    }
    out_.summary = CollapseWhitespace(summary, options_.max_diagnostic_bytes);
  }

  void DetectFormat() {
    out_.format = "text";
    const std::string lower = ToLowerAscii(out_.summary);
    for (const Marker& m : kFormatMarkers) {
      if (lower.find(m.phrase) != std::string::npos) {
        out_.format = std::string(m.format);
        out_.bounce_markers = true;
        break;
      }
    }
    static constexpr std::string_view kHostLeads[] = {"qmail-send program at ",
                                                      "mail system at host ", "MAILER-DAEMON at "};
    for (std::string_view lead : kHostLeads) {
      const std::size_t at = FindIgnoreCase(out_.summary, lead);
      if (at == std::string::npos) continue;
      std::string_view host = std::string_view(out_.summary).substr(at + lead.size());
      host = host.substr(0, host.find_first_of(" ,;"));
      while (!host.empty() && host.back() == '.') host.remove_suffix(1);
      out_.reporting_mta = std::string(host);
      break;
    }
  }

  bool Excluded(const std::string& address) const {
    if (IsDaemonAddress(address)) return true;
    for (const std::string& e : options_.excluded_addresses) {
      if (EqualsIgnoreCase(e, address)) return true;
    }
    return false;
  }

  // Line i introduces a recipient. Not when the line before says whose
  // message it was ("A message sent by\n  <sender>\ncould not be ...").
  bool LedAt(std::size_t i, LedAddress* led) const {
    if (!AddressLedLine(lines_[i], led)) return false;
    std::size_t p = i;
    while (p > 0 && IsBlank(lines_[p - 1])) --p;
    if (p == 0) return true;
    const std::string_view prev = Trim(lines_[p - 1]);
    static constexpr std::string_view kSenderLeads[] = {"sent by", "from", "sender"};
    for (std::string_view lead : kSenderLeads) {
      if (prev.size() >= lead.size() &&
          EqualsIgnoreCase(prev.substr(prev.size() - lead.size()), lead)) {
        return false;
      }
    }
    return true;
  }

  // The paragraphs after line `from` (skipping blank and address lines
  // first) up to the first that quotes a reply or status code.
  std::string FollowingParagraphs(std::size_t from) const {
    std::size_t i = from;
    LedAddress led;
    // A list of recipients may share the reason after it; look that far.
    const std::size_t skip_end = std::min(cut_, from + kMaxSkippedLines);
    while (i < skip_end && (IsBlank(lines_[i]) || LedAt(i, &led))) ++i;
    std::string text;
    std::size_t taken = 0;
    int paragraphs = 0;
    for (; i < cut_ && taken < kMaxDiagnosticLines; ++i) {
      if (IsBlank(lines_[i])) {
        if (++paragraphs >= kMaxDiagnosticParagraphs || HasCode(text)) break;
        continue;
      }
      if (LedAt(i, &led)) break;
      if (IsTranscriptNoise(lines_[i])) continue;
      text.append(lines_[i]);
      text += ' ';
      ++taken;
    }
    return text;
  }

  void ReadAddressLedRecipients() {
    LedAddress led;
    // A report names each recipient a few times at most (summary, transcript):
    // more address lines than that are not worth reading, whatever they say.
    const std::size_t max_led_lines = 4 * options_.max_recipients;
    std::size_t led_lines = 0;
    for (std::size_t i = 0; i < cut_ && out_.recipients.size() < options_.max_recipients; ++i) {
      if (!LedAt(i, &led)) continue;
      if (++led_lines > max_led_lines) break;
      if (ContainsIgnoreCase(lines_[i], "RCPT TO:")) rcpt_command_seen_ = true;
      std::string diagnostic(led.rest);
      std::size_t j = i + 1;
      LedAddress next;
      for (; j < cut_ && j < i + 1 + kMaxDiagnosticLines; ++j) {
        if (IsBlank(lines_[j])) break;
        // A wrapped reply may quote the same address at the start of an
        // indented continuation line.
        if (LedAt(j, &next) &&
            !(EqualsIgnoreCase(next.address, led.address) && (lines_[j][0] == ' ' || lines_[j][0] == '\t'))) {
          break;
        }
        if (IsTranscriptNoise(lines_[j])) continue;
        diagnostic += ' ';
        diagnostic.append(lines_[j]);
      }
      // "Remote host said:" and the reply in the next paragraph.
      if (!HasCode(diagnostic)) {
        diagnostic += ' ';
        diagnostic += FollowingParagraphs(j);
      }
      AddRecipient(led.address, diagnostic, TranscriptCommand(i, j));
    }
  }

  // No line starts with an address: take the addresses the text mentions
  // ("Your message to <x> could not be delivered"), with their paragraph.
  void ReadMentionedRecipients() {
    for (std::size_t i = 0; i < cut_ && out_.recipients.size() < options_.max_recipients; ++i) {
      std::string_view t = Trim(lines_[i]);
      while (!t.empty() && t[0] == '>') t = Trim(t.substr(1));  // a quoted (forwarded) report
      if (StartsWithIgnoreCase(t, "From:") || StartsWithIgnoreCase(t, "Sender:") ||
          StartsWithIgnoreCase(t, "Reply-To:") || StartsWithIgnoreCase(t, "Message-ID:") ||
          StartsWithIgnoreCase(t, "In-Reply-To:") || StartsWithIgnoreCase(t, "References:")) {
        continue;
      }
      for (const AddressHit& hit : FindAddresses(lines_[i], 8)) {
        if (Excluded(hit.address)) continue;
        const std::string_view before = lines_[i].substr(0, hit.begin);
        if (ContainsIgnoreCase(before.substr(before.size() > 12 ? before.size() - 12 : 0), "FROM:")) {
          continue;  // MAIL FROM:<sender> in a transcript
        }
        AddRecipient(hit.address, ParagraphAround(i), TranscriptCommand(i, i + 1));
      }
    }
  }

  std::string ParagraphAround(std::size_t i) const {
    std::size_t b = i;
    while (b > 0 && !IsBlank(lines_[b - 1]) && i - b < kMaxDiagnosticLines) --b;
    std::string text;
    std::size_t e = b;
    for (; e < cut_ && !IsBlank(lines_[e]) && e - b < kMaxDiagnosticLines; ++e) {
      if (IsTranscriptNoise(lines_[e])) continue;
      text.append(lines_[e]);
      text += ' ';
    }
    if (!HasCode(text)) text += FollowingParagraphs(e);
    return text;
  }

  // A Sendmail transcript quotes the remote reply about a recipient
  // ("<<< 550 Unknown user a@b") after the command it answered: for
  // recipients whose own lines did not say, that command.
  void FindTranscriptReplies() {
    std::vector<std::size_t> replies;  // indices of "<<<" lines, the first few
    for (std::size_t k = 0; k < cut_ && replies.size() < kMaxTranscriptReplies; ++k) {
      if (Trim(lines_[k]).starts_with("<<<")) replies.push_back(k);
    }
    if (replies.empty()) return;
    for (RecipientResult& r : out_.recipients) {
      for (std::size_t k : replies) {
        if (!r.smtp_command.empty()) break;
        if (ContainsIgnoreCase(lines_[k], r.address)) r.smtp_command = TranscriptCommand(k, k + 1);
      }
    }
  }

  // The SMTP command that lines [begin, end) answer, looking back over the
  // transcript lines just before them (">>> DATA" then "<<< 550 ...").
  std::string TranscriptCommand(std::size_t begin, std::size_t end) const {
    std::size_t b = begin;
    while (b > 0 && begin - b < kMaxDiagnosticLines && !IsBlank(lines_[b - 1])) --b;
    std::string context;
    for (std::size_t k = b; k < end && k < cut_; ++k) {
      context.append(lines_[k]);
      context += '\n';
    }
    return SmtpCommandIn(context);
  }

  void AddRecipient(const std::string& address, const std::string& diagnostic,
                    const std::string& command) {
    const auto [it, added] = index_.try_emplace(ToLowerAscii(address), out_.recipients.size());
    if (!added) {
      RecipientResult& r = out_.recipients[it->second];
      if (r.smtp_command.empty()) r.smtp_command = command;
      if (r.diagnostic.size() >= options_.max_diagnostic_bytes) return;  // enough detail
      // Seen before (a summary line and a transcript): keep the detail.
      if (FindReplyCode(r.diagnostic).empty() && !FindReplyCode(diagnostic).empty()) {
        r.diagnostic = diagnostic + " " + r.diagnostic;
      } else if (!HasCode(r.diagnostic) && !HasCode(diagnostic) &&
                 r.diagnostic.find(Trim(diagnostic)) == std::string::npos) {
        r.diagnostic += ' ';
        r.diagnostic += diagnostic;
      }
      return;
    }
    if (out_.recipients.size() >= options_.max_recipients) {
      index_.erase(it);
      return;
    }
    RecipientResult r;
    r.address = address;
    r.diagnostic = diagnostic;
    r.smtp_command = command;
    out_.recipients.push_back(std::move(r));
  }

  void FinishRecipient(RecipientResult& r) {
    r.diagnostic = CollapseWhitespace(r.diagnostic, options_.max_diagnostic_bytes);
    // A report about one recipient may give the reason before naming it
    // ("Could not be delivered because of 550 5.1.1 User unknown. The
    // following recipients were affected: ...").
    if (!HasCode(r.diagnostic) && out_.recipients.size() == 1 && HasCode(out_.summary)) {
      r.diagnostic = CollapseWhitespace(r.diagnostic + " " + out_.summary, options_.max_diagnostic_bytes);
    }
    if (r.diagnostic.empty()) r.diagnostic = out_.summary;
    r.remote_mta = RemoteHost(r.diagnostic);
    if (r.smtp_command.empty()) r.smtp_command = SmtpCommandIn(r.diagnostic);
    // A report about one recipient may name the command anywhere
    // ("-------SMTP command DATA" after the server's reply).
    if (r.smtp_command.empty() && out_.recipients.size() == 1) {
      r.smtp_command = SmtpCommandIn(out_.summary);
    }
    RefineCodesFromDiagnostic(r);
    r.action = (!r.status.empty() && r.status[0] == '4') ? "delayed" : "failed";
  }

  // "host mx.example.com [192.0.2.1] said: ..." / "while talking to mx.example.com.:"
  static std::string RemoteHost(std::string_view diagnostic) {
    static constexpr std::string_view kLeads[] = {"remote host ", "host ", "while talking to "};
    for (std::string_view lead : kLeads) {
      const std::size_t at = FindIgnoreCase(diagnostic, lead);
      if (at == std::string_view::npos) continue;
      std::string_view host = diagnostic.substr(at + lead.size());
      host = host.substr(0, host.find_first_of(" [:;,()"));
      while (!host.empty() && host.back() == '.') host.remove_suffix(1);
      if (host.find('.') != std::string_view::npos) return std::string(host);
    }
    return {};
  }

  const TextBounceOptions& options_;
  std::vector<std::string_view> lines_;
  std::size_t cut_ = 0;
  std::unordered_map<std::string, std::size_t> index_;  // lower-case address -> recipients index
  bool rcpt_command_seen_ = false;  // a recipient came from a "RCPT TO:" line
  TextBounce out_;
};

}  // namespace

TextBounce DecodeTextBounce(std::string_view text, const TextBounceOptions& options) {
  return Decoder(text, options).Run();
}

}  // namespace bm
