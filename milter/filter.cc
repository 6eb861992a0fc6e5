#include "milter/filter.h"

#include <algorithm>

#include "common/ascii.h"
#include "common/glob.h"
#include "milter/decision_log.h"
#include "parser/parser.h"

namespace bm {
namespace {

constexpr std::size_t kMaxClassificationHeaders = 10;
constexpr std::size_t kMaxHeaderValueBytes = 900;

// Receiving domain of an address, lower-cased; "" when there is none.
std::string DomainOf(std::string_view address) {
  std::size_t at = address.rfind('@');
  if (at == std::string_view::npos || at + 1 == address.size()) return "";
  return ToLowerAscii(address.substr(at + 1));
}

// Header values are written by us from parsed (untrusted) text: printable
// ASCII only, no line breaks, bounded.
std::string HeaderSafe(std::string_view value) {
  std::string out;
  for (char c : value.substr(0, kMaxHeaderValueBytes)) {
    const auto u = static_cast<unsigned char>(c);
    out += (u < 0x20 || u >= 0x7f || c == ';') ? '?' : c;
  }
  return out;
}

std::string ClassificationHeader(const BounceReport& report, const ClassifiedRecipient& r) {
  const Classification& k = r.classification;
  return "kind=" + std::string(ReportKindName(report.kind)) +
         "; recipient=" + HeaderSafe(r.facts.address) + "; reason=" + HeaderSafe(k.reason) +
         "; class=" + std::string(BounceClassName(k.bounce_class)) +
         "; hard=" + (k.hard ? "yes" : "no") + "; status=" + HeaderSafe(k.status) +
         "; rule=" + HeaderSafe(k.rule_id);
}

InboundAction ActionForKind(const Config& config, ReportKind kind) {
  switch (kind) {
    case ReportKind::kDsn: return config.inbound_dsn;
    case ReportKind::kAutoReply: return config.inbound_autoreply;
    case ReportKind::kFeedback: return config.inbound_feedback;
    case ReportKind::kNotBounce: return config.inbound_not_bounce;
  }
  return InboundAction::kAccept;
}

}  // namespace

Filter::Filter(const PolicyHolder& policy, StoreAccess& store, Clock clock)
    : policy_(policy),
      store_(store),
      clock_(std::move(clock)),
      bounce_limits_(*policy.Current()->config) {}

std::unique_ptr<ConnectionContext> Filter::OnConnect(std::string_view hostname,
                                                     const sockaddr* addr) {
  auto c = std::make_unique<ConnectionContext>();
  c->policy = policy_.Current();
  c->client_host = std::string(hostname.substr(0, 255));
  c->client_ip = IpFromSockaddr(addr);
  if (c->client_ip) {
    for (const NetRange& net : c->policy->config->outbound_clients) {
      if (NetContains(net, *c->client_ip)) {
        c->outbound_client = true;
        break;
      }
    }
  }
  return c;
}

Verdict Filter::OnEnvFrom(ConnectionContext& c, MtaSession& mta, std::string_view sender) {
  const Config& config = *c.policy->config;
  c.message = MessageContext();
  c.message.sender = std::string(StripAngleBrackets(sender).substr(0, 512));
  c.message.null_sender = c.message.sender.empty();
  c.message.mta_generated = MtaGeneratedMail(mta);
  if (!c.message.null_sender) {
    bool outbound = c.outbound_client;
    if (!outbound && config.outbound_authenticated) {
      std::optional<std::string> auth = mta.Macro("{auth_authen}");
      outbound = auth.has_value() && !auth->empty();
    }
    if (!outbound && !config.outbound_daemons.empty()) {
      std::optional<std::string> daemon = mta.Macro("{daemon_name}");
      outbound = daemon.has_value() &&
                 std::find(config.outbound_daemons.begin(), config.outbound_daemons.end(),
                           *daemon) != config.outbound_daemons.end();
    }
    c.message.outbound = outbound;
    // Only Postfix's cleanup(8), which runs the milters of non-SMTP mail,
    // knows the queue id already at MAIL FROM (smtpd assigns it later).
    std::optional<std::string> version = mta.Macro("v");
    std::optional<std::string> queue_id = mta.Macro("i");
    c.message.non_smtp = version.has_value() && version->starts_with("Postfix") &&
                         queue_id.has_value() && !queue_id->empty();
  }
  // Ordinary inbound mail: nothing to check and, without bounce addresses,
  // nothing that could make it a bounce. Let it go without further callbacks.
  if (!c.message.null_sender && !c.message.outbound && config.bounce_addresses.empty()) {
    return Verdict::kAccept;
  }
  return Verdict::kContinue;
}

Verdict Filter::OnEnvRcpt(ConnectionContext& c, MtaSession& mta, std::string_view recipient_arg) {
  const Config& config = *c.policy->config;
  MessageContext& m = c.message;
  std::string recipient(StripAngleBrackets(recipient_arg).substr(0, 512));
  ++m.recipients_seen;
  for (const std::string& pattern : config.bounce_addresses) {
    if (GlobMatch(pattern, recipient)) {
      m.to_bounce_address = true;
      return AdmitBounceRecipient(c, mta, bounce_limits_, recipient, clock_());
    }
  }
  if (m.null_sender) return AdmitBounceRecipient(c, mta, bounce_limits_, recipient, clock_());
  // Recipients of a bounce are never refused (Postfix cannot take a refused
  // recipient of its own DSNs, and a DSN to us must not be lost).
  if (!m.outbound || m.null_sender) return Verdict::kContinue;
  if (m.recipients_seen > config.max_recipients) {
    if (m.recipients_seen == config.max_recipients + 1) {
      LogDecision(config, LogSeverity::kWarning, "recipients-unchecked",
                  {{"queue", QueueId(mta)}, {"limit", std::to_string(config.max_recipients)}});
    }
    return Verdict::kContinue;
  }
  return CheckRecipient(c, mta, recipient, recipient_arg);
}

Verdict Filter::CheckRecipient(ConnectionContext& c, MtaSession& mta,
                               const std::string& recipient, std::string_view as_given) {
  const Config& config = *c.policy->config;
  const bool monitor = config.mode == Mode::kMonitor;
  Result<RecipientStatus> status = store_.Check(recipient, clock_());
  if (!status.ok()) {
    Verdict v = monitor ? Verdict::kContinue : VerdictForError(config.on_store_error);
    // "accept" lets this recipient through; SMFIS_ACCEPT here would also let
    // every later recipient of the message through unchecked.
    if (v == Verdict::kAccept) v = Verdict::kContinue;
    LogDecision(config, LogSeverity::kWarning, "outbound-store-error",
                {{"queue", QueueId(mta)},
                 {"recipient", recipient},
                 {"error", status.status().ToString()},
                 {"verdict", std::string(VerdictName(v))}});
    if (v == Verdict::kTempfail || v == Verdict::kReject) {
      mta.SetReply(StoreUnavailableReply(v == Verdict::kTempfail, recipient));
    }
    return v;
  }
  if (!status->refused) {
    ++c.message.accepted_per_domain[DomainOf(recipient)];
    NoteAcceptedRecipient(c.message, recipient, config.max_recipients);
    return Verdict::kContinue;
  }
  SuppressionFacts facts{recipient, status->reason, status->state, status->since, status->until,
                         status->temporary};
  SmtpReply reply = SuppressedRecipientReply(config, facts);
  Verdict v = reply.rcode[0] == '4' ? Verdict::kTempfail : Verdict::kReject;
  const bool remove = !monitor && c.message.non_smtp;
  if (monitor) {
    ++c.message.accepted_per_domain[DomainOf(recipient)];
    NoteAcceptedRecipient(c.message, recipient, config.max_recipients);
    v = Verdict::kContinue;
  } else if (remove) {
    c.message.recipients_to_remove.emplace_back(as_given.substr(0, 1024));
    v = Verdict::kContinue;
  }
  LogDecision(config, LogSeverity::kInfo,
              monitor ? "outbound-would-refuse" : remove ? "outbound-remove" : "outbound-refuse",
              {{"queue", QueueId(mta)},
               {"sender", c.message.sender},
               {"recipient", recipient},
               {"state", status->state},
               {"reason", status->reason},
               {"reply", reply.rcode + " " + reply.xcode}});
  if (v != Verdict::kContinue) mta.SetReply(reply);
  return v;
}

Verdict Filter::OnData(ConnectionContext& c, MtaSession& mta) {
  // Recipients to remove need end of message.
  if (!c.message.recipients_to_remove.empty()) return Verdict::kContinue;
  if (!OutboundAtData(c, mta, store_, clock_())) return Verdict::kContinue;
  CountOutbound(c);
  return Verdict::kAccept;
}

void Filter::Append(ConnectionContext& c, std::string_view bytes) {
  MessageContext& m = c.message;
  if (m.too_large) return;
  if (m.raw.size() + bytes.size() > c.policy->config->max_message_size) {
    m.too_large = true;
    std::string().swap(m.raw);
    return;
  }
  m.raw.append(bytes);
}

Verdict Filter::OnHeader(ConnectionContext& c, std::string_view name, std::string_view value) {
  NoteHeader(c.message, name, value);
  if (!c.message.IsBounceCandidate()) return Verdict::kContinue;
  std::string line;
  line.reserve(name.size() + value.size() + 4);
  line.append(name).append(": ").append(value).append("\r\n");
  Append(c, line);
  return Verdict::kContinue;
}

Verdict Filter::OnEndOfHeaders(ConnectionContext& c, MtaSession& mta) {
  if (c.message.IsBounceCandidate()) {
    Append(c, "\r\n");
    return Verdict::kContinue;
  }
  // Outbound: the ledger entry; mail to sign goes on to end of message.
  if (OutboundEndOfHeaders(c, mta, store_, clock_())) return Verdict::kContinue;
  // Not a bounce: the body is of no interest, and unless recipients must be
  // removed at end of message, neither is the rest.
  if (!c.message.recipients_to_remove.empty()) return Verdict::kContinue;
  CountOutbound(c);
  return Verdict::kAccept;
}

Verdict Filter::OnBody(ConnectionContext& c, MtaSession& mta, std::string_view chunk) {
  if (!c.message.IsBounceCandidate()) return Verdict::kContinue;
  Append(c, chunk);
  if (!c.message.too_large) return Verdict::kContinue;
  const Config& config = *c.policy->config;
  LogDecision(config, LogSeverity::kWarning, "inbound-too-large",
              {{"queue", QueueId(mta)},
               {"sender", c.message.sender},
               {"limit", std::to_string(config.max_message_size)},
               {"verdict", "accept"}});
  CountOutbound(c);
  return Verdict::kAccept;
}

Verdict Filter::OnEndOfMessage(ConnectionContext& c, MtaSession& mta) {
  Verdict v = Verdict::kAccept;
  if (c.message.IsBounceCandidate() && !c.message.too_large) {
    v = IngestBounce(c, mta);
  } else if (!c.message.recipients_to_remove.empty()) {
    v = RemoveSuppressed(c, mta);
  }
  if (v == Verdict::kAccept) SignReturnPath(c, mta, clock_());
  if (v != Verdict::kTempfail) CountOutbound(c);
  c.message.raw.clear();
  return v;
}

Verdict Filter::RemoveSuppressed(ConnectionContext& c, MtaSession& mta) {
  MessageContext& m = c.message;
  const std::string queue = QueueId(mta);
  if (m.recipients_to_remove.size() >= m.recipients_seen) {
    // Nothing would be left: refuse the message; Postfix returns it to the
    // sender with this reply.
    Result<RecipientStatus> status = store_.Check(
        std::string(StripAngleBrackets(m.recipients_to_remove.front())), clock_());
    SuppressionFacts facts{StripAngleBrackets(m.recipients_to_remove.front()), "", "", 0, 0,
                           false};
    if (status.ok()) {
      facts.reason = status->reason;
      facts.state = status->state;
      facts.since = status->since;
    }
    SmtpReply reply = SuppressedRecipientReply(*c.policy->config, facts);
    reply.rcode = "550";
    reply.xcode = "5.1.1";
    mta.SetReply(reply);
    LogDecision(*c.policy->config, LogSeverity::kInfo, "outbound-refuse-message",
                {{"queue", queue}, {"sender", m.sender},
                 {"recipients", std::to_string(m.recipients_to_remove.size())}});
    return Verdict::kReject;
  }
  for (const std::string& recipient : m.recipients_to_remove) {
    if (!mta.DeleteRecipient(recipient)) {
      LogDecision(*c.policy->config, LogSeverity::kWarning, "outbound-remove-failed",
                  {{"queue", queue}, {"recipient", recipient}});
    }
  }
  return Verdict::kAccept;
}

Verdict Filter::IngestBounce(ConnectionContext& c, MtaSession& mta) {
  const Config& config = *c.policy->config;
  ParseLimits limits;
  limits.max_message_bytes = config.max_message_size;
  limits.max_mime_depth = config.max_mime_depth;
  limits.max_mime_parts = config.max_mime_parts;
  limits.max_recipients = config.max_recipients;
  const std::string queue = QueueId(mta);
  if (std::optional<Verdict> limited = LimitBounceBeforeParse(c, mta, bounce_limits_, clock_())) {
    return *limited;
  }
  Result<BounceReport> report = ParseBounce(c.message.raw, limits);
  if (!report.ok()) {
    // Undecodable: deliver it untouched so a human can look at it.
    LogDecision(config, LogSeverity::kWarning, "inbound-unparsed",
                {{"queue", queue}, {"sender", c.message.sender},
                 {"error", report.status().ToString()}, {"verdict", "accept"}});
    return Verdict::kAccept;
  }
  const InboundAction action = ActionForKind(config, report->kind);
  std::vector<ClassifiedRecipient> classified;
  if (report->kind != ReportKind::kNotBounce) {
    // Only what the verification policy trusts reaches the store.
    TrustedReport trusted = VerifyBounce(c, mta, store_, *report, clock_());
    if (trusted.verdict) return *trusted.verdict;
    classified = ClassifyReport(trusted.report, *c.policy->rules);
    Status s = store_.RecordReport(trusted.report, classified, clock_());
    if (!s.ok()) {
      LogDecision(config, LogSeverity::kWarning, "inbound-store-error",
                  {{"queue", queue}, {"kind", std::string(ReportKindName(report->kind))},
                   {"error", s.ToString()}, {"verdict", "tempfail"}});
      mta.SetReply({"451", "4.3.0", "bounce not recorded, try again later"});
      return Verdict::kTempfail;
    }
  }
  const std::string action_name(InboundActionName(action));
  if (classified.empty()) {
    LogDecision(config, LogSeverity::kInfo, "inbound",
                {{"queue", queue}, {"sender", c.message.sender},
                 {"kind", std::string(ReportKindName(report->kind))},
                 {"format", report->format}, {"recipients", "0"}, {"action", action_name}});
  }
  for (const ClassifiedRecipient& r : classified) {
    LogDecision(config, LogSeverity::kInfo, "inbound",
                {{"queue", queue},
                 {"kind", std::string(ReportKindName(report->kind))},
                 {"format", report->format},
                 {"recipient", r.facts.address},
                 {"action_reported", r.facts.action},
                 {"status", r.classification.status},
                 {"reason", r.classification.reason},
                 {"class", std::string(BounceClassName(r.classification.bounce_class))},
                 {"hard", r.classification.hard ? "yes" : "no"},
                 {"rule", r.classification.rule_id},
                 {"action", action_name}});
  }
  switch (action) {
    case InboundAction::kAccept:
      return Verdict::kAccept;
    case InboundAction::kDiscard:
      return Verdict::kDiscard;
    case InboundAction::kTag:
      for (std::size_t i = 0; i < classified.size() && i < kMaxClassificationHeaders; ++i) {
        mta.AddHeader("X-Bounce-Classification", ClassificationHeader(*report, classified[i]));
      }
      if (classified.empty()) {
        mta.AddHeader("X-Bounce-Classification",
                      "kind=" + std::string(ReportKindName(report->kind)) + "; recipients=0");
      }
      return Verdict::kAccept;
  }
  return Verdict::kAccept;
}

void Filter::CountOutbound(ConnectionContext& c) {
  MessageContext& m = c.message;
  for (const auto& [domain, n] : m.accepted_per_domain) {
    if (domain.empty()) continue;
    Status s = store_.CountSent(domain, n);
    if (!s.ok()) {
      LogDecision(*c.policy->config, LogSeverity::kWarning, "count-sent-failed",
                  {{"domain", domain}, {"error", s.ToString()}});
      break;
    }
  }
  m.accepted_per_domain.clear();
}

void Filter::OnAbort(ConnectionContext& c) { c.message = MessageContext(); }

bool Filter::MayWait(Step step, const ConnectionContext* c) const {
  const bool bounce = c != nullptr && c->message.IsBounceCandidate();
  if (bounce && (step == Step::kBody || step == Step::kEndOfMessage)) return true;
  return store_.MayWait();
}

bool Filter::WantsDataStep() const {
  return policy_.Current()->config->sent_ledger == SentLedger::kQueueId;
}

Verdict Filter::InternalErrorVerdict(const ConnectionContext* c) const {
  std::shared_ptr<const Policy> policy =
      c != nullptr && c->policy != nullptr ? c->policy : policy_.Current();
  return VerdictForError(policy->config->on_internal_error);
}

}  // namespace bm
