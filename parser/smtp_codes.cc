#include "parser/smtp_codes.h"

#include <vector>

#include "parser/text_util.h"

namespace bm {
namespace {

bool IsCodeClass(char c) { return c == '2' || c == '4' || c == '5'; }

constexpr std::size_t kMaxCodes = 16;

// Number of digits starting at text[i] (at most limit+1 are counted).
std::size_t DigitRun(std::string_view text, std::size_t i, std::size_t limit) {
  std::size_t n = 0;
  while (i + n < text.size() && IsAsciiDigit(text[i + n]) && n <= limit) ++n;
  return n;
}

// End of the enhanced status code ("5.1.1", "4.4.7") that starts at
// text[i] as a whole token, or 0 when none does: not inside a longer number,
// an IP address ("10.5.1.1") or a word.
std::size_t EnhancedStatusEnd(std::string_view text, std::size_t i) {
  if (i + 4 >= text.size() || !IsCodeClass(text[i]) || text[i + 1] != '.') return 0;
  if (i > 0 && (IsAsciiAlnum(text[i - 1]) || text[i - 1] == '.')) return 0;
  const std::size_t s = DigitRun(text, i + 2, 3);
  if (s == 0 || s > 3 || i + 2 + s >= text.size() || text[i + 2 + s] != '.') return 0;
  const std::size_t d_at = i + 3 + s;
  const std::size_t d = DigitRun(text, d_at, 3);
  if (d == 0 || d > 3) return 0;
  const std::size_t end = d_at + d;
  if (end < text.size() &&
      (IsAsciiAlnum(text[end]) || (text[end] == '.' && end + 1 < text.size() && IsAsciiDigit(text[end + 1])))) {
    return 0;
  }
  return end;
}

// Offset of the last occurrence of `status` in text as a whole token (see
// EnhancedStatusEnd), or npos.
std::size_t RFindEnhancedStatus(std::string_view text, std::string_view status) {
  for (std::size_t at = text.rfind(status); at != std::string_view::npos;
       at = at == 0 ? std::string_view::npos : text.rfind(status, at - 1)) {
    if (EnhancedStatusEnd(text, at) == at + status.size()) return at;
  }
  return std::string_view::npos;
}

// The failure reply code written just before the status at text[at], of the
// same class ("421 4.4.2", "550-5.7.1"), or "" when there is none.
std::string ReplyCodeBefore(std::string_view text, std::size_t at) {
  std::size_t end = at;
  if (end > 0 && (text[end - 1] == ' ' || text[end - 1] == '-')) --end;
  if (end < 3) return {};
  const std::string_view code = text.substr(end - 3, 3);
  if (code[0] != text[at] || code[0] == '2' || !IsAsciiDigit(code[1]) || !IsAsciiDigit(code[2])) return {};
  if (end > 3 && (IsAsciiAlnum(text[end - 4]) || text[end - 4] == '.')) return {};
  return std::string(code);
}

}  // namespace

std::vector<std::string> FindEnhancedStatuses(std::string_view text, std::size_t max_codes) {
  std::vector<std::string> codes;
  for (std::size_t i = 0; i + 4 < text.size() && codes.size() < max_codes; ++i) {
    const std::size_t end = EnhancedStatusEnd(text, i);
    if (end == 0) continue;
    codes.emplace_back(text.substr(i, end - i));
    i = end;
  }
  return codes;
}

std::vector<std::string> FindReplyCodes(std::string_view text, std::size_t max_codes) {
  std::vector<std::string> codes;
  for (std::size_t i = 0; i + 3 <= text.size() && codes.size() < max_codes; ++i) {
    if (!IsCodeClass(text[i]) || !IsAsciiDigit(text[i + 1]) || !IsAsciiDigit(text[i + 2])) continue;
    if (i > 0) {
      const char p = text[i - 1];
      if (IsAsciiAlnum(p) || p == '.' || p == '-' || p == '#' || p == '/' || p == ',' || p == '+' ||
          p == '_') {
        continue;
      }
    }
    if (i + 3 < text.size()) {
      const char n = text[i + 3];
      if (n != ' ' && n != '-' && n != '\t' && n != ')' && n != ']' && n != ',' && n != ':' &&
          n != ';' && n != '\'' && n != '"') {
        continue;
      }
      if (n == '-' && (i + 4 >= text.size() || text[i + 4] == ' ')) continue;
    }
    codes.emplace_back(text.substr(i, 3));
    i += 3;
  }
  return codes;
}

std::string FindEnhancedStatus(std::string_view text) {
  std::vector<std::string> codes = FindEnhancedStatuses(text, 1);
  return codes.empty() ? std::string() : codes.front();
}

std::string FindReplyCode(std::string_view text) {
  std::vector<std::string> codes = FindReplyCodes(text, 1);
  return codes.empty() ? std::string() : codes.front();
}

std::string SmtpCommandIn(std::string_view text) {
  static constexpr struct {
    std::string_view phrase;
    std::string_view command;
  } kPhrases[] = {
      {"in reply to rcpt to command", "RCPT"},  {"in reply to end of data command", "DATA"},
      {"in reply to data command", "DATA"},     {"in reply to mail from command", "MAIL"},
      {"in reply to helo command", "HELO"},     {"in reply to ehlo command", "EHLO"},
      {"after rcpt to", "RCPT"},                {"after rcpt command", "RCPT"},
      {"after end of data", "DATA"},            {"after data", "DATA"},
      {"after mail from", "MAIL"},              {"after helo", "HELO"},
      // Exim says so when the refused command was sent pipelined (RFC 2920).
      {"after pipelined rcpt to", "RCPT"},      {"after pipelined mail from", "MAIL"},
      {"after pipelined data", "DATA"},
      {"after ehlo", "EHLO"},                   {"after initial connection", "CONN"},
      {"for text command", "DATA"},             {"smtp command data", "DATA"},
      {"[rcpt_to]", "RCPT"},                    {"[data]", "DATA"},
      {"[mail_from]", "MAIL"},                  {"rcpt to response", "RCPT"},
      {"but my name was rejected", "HELO"},     {"but sender was rejected", "MAIL"},
      // qmail-remote ("does not like recipient", "failed after I sent the
      // message", "but greeting failed") and the OpenSMTPD/DragonFly DMA
      // wording ("did not like our RCPT TO", "... our final DATA").
      {"does not like recipient", "RCPT"},      {"failed after i sent the message", "DATA"},
      {"but greeting failed", "CONN"},          {"did not like our rcpt to", "RCPT"},
      {"did not like our final data", "DATA"},  {"did not like our data", "DATA"},
      {"did not like our mail from", "MAIL"},
  };
  std::size_t best = std::string_view::npos;
  std::string_view command;
  // Every phrase has one of these words (as written by MTAs, in lower case
  // or capitalised); most texts have none of them.
  static constexpr std::string_view kAnchors[] = {"eply",   "fter",    "ommand", "[",
                                                  "esponse", "ejected", "like",   "reeting",
                                                  "EPLY",   "FTER",    "OMMAND", "ESPONSE"};
  bool anchored = false;
  for (std::string_view a : kAnchors) anchored = anchored || text.find(a) != std::string_view::npos;
  if (anchored) {
    const std::string lower = ToLowerAscii(text);
    for (const auto& p : kPhrases) {
      const std::size_t at = lower.find(p.phrase);  // phrases are written in lower case
      if (at < best) {
        best = at;
        command = p.command;
      }
    }
  }
  if (!command.empty()) return std::string(command);
  // A Sendmail transcript: the last command sent before the failure reply.
  static constexpr std::string_view kSent[] = {"DATA", "RCPT", "MAIL", "HELO", "EHLO"};
  std::size_t at = text.rfind(">>> ");
  while (at != std::string_view::npos) {
    const std::string_view sent = text.substr(at + 4);
    for (std::string_view c : kSent) {
      if (StartsWithIgnoreCase(sent, c)) return std::string(c);
    }
    if (sent.starts_with(".")) return "DATA";  // end of message data
    if (at == 0) break;
    at = text.rfind(">>> ", at - 1);
  }
  return {};
}

bool IsGenericStatus(std::string_view status) {
  return status.size() == 5 && status.substr(1) == ".0.0";
}

void RefineCodesFromDiagnostic(RecipientResult& r) {
  if (r.diagnostic.empty()) return;
  const bool code_from_text = r.reply_code.empty();
  if (code_from_text) {
    // The first failure reply; a transcript also quotes the 250s before it.
    std::vector<std::string> replies = FindReplyCodes(r.diagnostic, kMaxCodes);
    for (const std::string& code : replies) {
      if (code[0] != '2') {
        r.reply_code = code;
        break;
      }
    }
    if (r.reply_code.empty() && !replies.empty()) r.reply_code = replies.front();
  }
  // A diagnostic that quotes several statuses (a relay's own text wrapping
  // the remote answer) ends with the one that explains the failure.
  std::vector<std::string> found = FindEnhancedStatuses(r.diagnostic, kMaxCodes);
  while (!found.empty() && IsGenericStatus(found.back()) && found.size() > 1) found.pop_back();
  if (found.empty()) return;
  const std::string& specific = found.back();
  if (r.status.empty()) {
    r.status = specific;
  } else if (!IsGenericStatus(specific) && specific != r.status && specific[0] == r.status[0]) {
    r.status = specific;
  }
  // The reply that carried the explaining status is the one to report
  // ("554 4.4.7 Message expired ... <421 4.4.2 Connection timed out>").
  if (code_from_text && r.status == specific) {
    const std::size_t at = RFindEnhancedStatus(r.diagnostic, specific);
    std::string code = at == std::string::npos ? std::string() : ReplyCodeBefore(r.diagnostic, at);
    if (!code.empty()) r.reply_code = std::move(code);
  }
}

}  // namespace bm
