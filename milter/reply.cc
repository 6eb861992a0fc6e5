#include "milter/reply.h"

#include <ctime>

namespace bm {
namespace {

constexpr std::size_t kMaxReplyText = 400;
constexpr std::size_t kMaxFieldBytes = 200;
constexpr std::size_t kMaxLineText = 480;
constexpr std::string_view kPlaceholders[] = {"address", "reason", "since", "until", "state"};

// Printable ASCII only; '%' doubled because Sendmail hands the reply text of
// a milter to a printf-like formatter (Postfix undoes the doubling too).
void AppendSafe(std::string& out, std::string_view text, std::size_t limit) {
  for (char c : text.substr(0, limit)) {
    const auto u = static_cast<unsigned char>(c);
    if (c == '%') {
      out += "%%";
    } else if (u < 0x20 || u >= 0x7f) {
      out += '?';
    } else {
      out += c;
    }
  }
}

}  // namespace

std::string_view VerdictName(Verdict v) {
  switch (v) {
    case Verdict::kContinue: return "continue";
    case Verdict::kAccept: return "accept";
    case Verdict::kReject: return "reject";
    case Verdict::kTempfail: return "tempfail";
    case Verdict::kDiscard: return "discard";
  }
  return "?";
}

Verdict VerdictForError(ErrorAction action) {
  switch (action) {
    case ErrorAction::kAccept: return Verdict::kAccept;
    case ErrorAction::kTempfail: return Verdict::kTempfail;
    case ErrorAction::kReject: return Verdict::kReject;
  }
  return Verdict::kTempfail;
}

Status ValidateReplyTemplate(std::string_view tmpl) {
  if (tmpl.size() > kMaxReplyText) {
    return Status::InvalidArgument("reply template longer than 400 bytes");
  }
  for (std::size_t i = 0; i < tmpl.size(); ++i) {
    const auto u = static_cast<unsigned char>(tmpl[i]);
    if (u < 0x20 || u >= 0x7f) return Status::InvalidArgument("reply template is not printable ASCII");
    if (tmpl[i] != '{') continue;
    std::size_t close = tmpl.find('}', i);
    if (close == std::string_view::npos) return Status::InvalidArgument("unclosed { in reply template");
    std::string_view name = tmpl.substr(i + 1, close - i - 1);
    bool known = false;
    for (std::string_view p : kPlaceholders) known = known || p == name;
    if (!known) return Status::InvalidArgument("unknown placeholder {" + std::string(name) + "}");
    i = close;
  }
  return Status::Ok();
}

std::string FormatDate(std::int64_t unix_seconds) {
  if (unix_seconds <= 0) return "unknown";
  std::time_t t = static_cast<std::time_t>(unix_seconds);
  std::tm tm{};
  if (gmtime_r(&t, &tm) == nullptr) return "unknown";
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%d", &tm);
  return buf;
}

SmtpReply StoreUnavailableReply(bool tempfail, std::string_view recipient) {
  SmtpReply reply{tempfail ? "451" : "550", tempfail ? "4.3.0" : "5.3.0", "<"};
  AppendSafe(reply.text, recipient, kMaxFieldBytes);
  reply.text += tempfail ? ">: suppression list unavailable, try again later"
                         : ">: suppression list unavailable";
  return reply;
}

SmtpReply SuppressedRecipientReply(const Config& config, const SuppressionFacts& facts) {
  SmtpReply reply;
  if (!facts.temporary) {
    reply.rcode = "550";
    reply.xcode = "5.1.1";
  } else if (config.temporary_suppression_class == 5) {
    reply.rcode = "550";
    reply.xcode = "5.2.1";
  } else {
    reply.rcode = "450";
    reply.xcode = "4.2.1";
  }
  std::string_view tmpl = config.suppressed_reply;
  for (std::size_t i = 0; i < tmpl.size(); ++i) {
    std::size_t close = tmpl[i] == '{' ? tmpl.find('}', i) : std::string_view::npos;
    if (close == std::string_view::npos) {
      AppendSafe(reply.text, tmpl.substr(i, 1), 1);
      continue;
    }
    std::string_view name = tmpl.substr(i + 1, close - i - 1);
    if (name == "address") {
      AppendSafe(reply.text, facts.address, kMaxFieldBytes);
    } else if (name == "reason") {
      AppendSafe(reply.text, facts.reason.empty() ? "unknown" : facts.reason, kMaxFieldBytes);
    } else if (name == "state") {
      AppendSafe(reply.text, facts.state, kMaxFieldBytes);
    } else if (name == "since") {
      reply.text += FormatDate(facts.since);
    } else if (name == "until") {
      reply.text += FormatDate(facts.until);
    }
    i = close;
  }
  // An SMTP reply line is at most 512 bytes; keep room for the codes.
  if (reply.text.size() > kMaxLineText) {
    reply.text.resize(kMaxLineText);
    while (!reply.text.empty() && reply.text.back() == '%') reply.text.pop_back();
  }
  return reply;
}

}  // namespace bm
