#include "milter/bounce_verification.h"

#include <arpa/inet.h>

#include <algorithm>
#include <array>
#include <chrono>
#include <utility>

#include "auth/keyring.h"
#include "common/ascii.h"
#include "common/glob.h"
#include "auth/return_path.h"
#include "milter/config_values.h"
#include "milter/decision_log.h"
#include "milter/filter.h"
#include "milter/matchers.h"
#include "milter/store_access.h"

namespace bm {
namespace {

constexpr std::int64_t kSecondsPerDay = 24 * 60 * 60;
constexpr std::size_t kMaxMessageIdBytes = 250;
constexpr std::size_t kMaxDomainBytes = 255;

std::chrono::system_clock::time_point WallTime(std::int64_t unix_seconds) {
  return std::chrono::system_clock::time_point(std::chrono::seconds(unix_seconds));
}

RateLimiter::Clock::time_point LimiterTime(std::int64_t unix_seconds) {
  return RateLimiter::Clock::time_point(std::chrono::seconds(unix_seconds));
}

RateLimitOptions PerMinute(int rate, int burst, std::size_t keys) {
  return {.per_second = rate / 60.0, .burst = static_cast<double>(burst), .max_keys = keys};
}


// "<abc@example.com>" -> "abc@example.com", the form in which the parser
// reports a returned Message-ID, so that ledger keys match.
std::string BareMessageId(std::string_view value) {
  std::size_t open = value.find('<');
  if (open != std::string_view::npos) {
    std::size_t close = value.find('>', open);
    if (close != std::string_view::npos) value = value.substr(open + 1, close - open - 1);
  }
  return std::string(config_text::Trim(value).substr(0, kMaxMessageIdBytes));
}

// Domain of the last address of a From: value ("Mail Delivery System
// <MAILER-DAEMON@mx.example.net>" -> "mx.example.net").
std::string FromDomain(std::string_view value) {
  std::size_t at = value.rfind('@');
  if (at == std::string_view::npos) return "";
  std::string_view rest = value.substr(at + 1);
  return ToLowerAscii(rest.substr(0, std::min(rest.find_first_of("> \t\r\n,;)"), kMaxDomainBytes)));
}

bool SenderIsSigned(const Config& config, std::string_view sender) {
  return std::any_of(config.sign_senders.begin(), config.sign_senders.end(),
                     [&](const std::string& pattern) { return GlobMatch(pattern, sender); });
}

// A bounce over a limit: 451 (the sender retries later, so a real bounce is
// delayed, not lost), or accepted unprocessed (RateLimitedBounces accept).
Verdict OverLimit(const Config& config, MtaSession& mta, MessageContext& m,
                  std::string_view limit, const std::string& key) {
  Verdict v = Verdict::kContinue;
  if (config.rate_limit_tempfail) {
    mta.SetReply({"451", "4.7.1", "too many unverified bounces, try again later"});
    v = Verdict::kTempfail;
  } else {
    m.rate_limited = true;
  }
  LogDecision(config, LogSeverity::kWarning, "inbound-rate-limited",
              {{"queue", QueueId(mta)},
               {"limit", std::string(limit)},
               {"key", key},
               {"verdict", v == Verdict::kTempfail ? "tempfail" : "accept-unprocessed"}});
  return v;
}

bool TagVerified(const Policy& policy, const std::vector<std::string>& recipients,
                 std::int64_t now) {
  return policy.verifier->CheckEnvelope(recipients, WallTime(now)).verdict == Trust::kVerified;
}

}  // namespace

Result<std::shared_ptr<const BounceVerifier>> LoadBounceVerifier(const Config& config) {
  std::shared_ptr<const ReturnPathCodec> codec;
  if (!config.return_path_keys.empty()) {
    Result<Keyring> keys = Keyring::LoadFile(config.return_path_keys);
    if (!keys.ok()) return Status::InvalidArgument("ReturnPathKeys: " + keys.status().message());
    ReturnPathOptions options;
    options.prefix = config.return_path_prefix;
    options.verp_domain = config.return_path_domain;
    options.max_age_days = config.return_path_max_age;
    codec = std::make_shared<const ReturnPathCodec>(
        std::make_shared<const Keyring>(std::move(keys).value()), options);
  }
  VerifierOptions options;
  options.unverified = config.record_unverified ? Disposition::kRecord : Disposition::kLogOnly;
  options.reject_forged = config.reject_forged;
  options.per_message_requires_ledger = config.per_message_requires_ledger;
  return std::make_shared<const BounceVerifier>(std::move(codec), options);
}

BounceRateLimits::BounceRateLimits(const Config& config)
    : per_client_(PerMinute(config.client_bounce_rate, config.client_bounce_burst,
                            config.bounce_rate_keys)),
      per_domain_(PerMinute(config.domain_bounce_rate, config.domain_bounce_burst,
                            config.bounce_rate_keys)) {}

bool BounceRateLimits::AdmitClient(std::string_view client, std::int64_t now) {
  return per_client_.Admit(client, LimiterTime(now));
}

bool BounceRateLimits::AdmitDomain(std::string_view domain, std::int64_t now) {
  return per_domain_.Admit(domain, LimiterTime(now));
}

bool MtaGeneratedMail(MtaSession& mta) {
  std::optional<std::string> version = mta.Macro("v");
  std::optional<std::string> queue_id = mta.Macro("i");
  return version && version->starts_with("Postfix") && queue_id && !queue_id->empty();
}

std::string ClientKey(const ConnectionContext& c) {
  if (!c.client_ip) return "local";
  const std::array<std::uint8_t, 16>& b = c.client_ip->bytes;
  static constexpr std::uint8_t kMapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
  char text[INET6_ADDRSTRLEN] = {};
  if (std::equal(kMapped, kMapped + 12, b.begin())) {
    inet_ntop(AF_INET, b.data() + 12, text, sizeof text);
    return text;
  }
  // One IPv6 client usually holds a whole /64: count it as one.
  std::array<std::uint8_t, 16> prefix{};
  std::copy(b.begin(), b.begin() + 8, prefix.begin());
  inet_ntop(AF_INET6, prefix.data(), text, sizeof text);
  return std::string(text) + "/64";
}

Verdict AdmitBounceRecipient(ConnectionContext& c, MtaSession& mta, BounceRateLimits& limits,
                             const std::string& recipient, std::int64_t now) {
  const Config& config = *c.policy->config;
  MessageContext& m = c.message;
  if (!m.mta_generated && !m.client_admitted && !m.rate_limited &&
      !TagVerified(*c.policy, {recipient}, now)) {
    const std::string client = ClientKey(c);
    if (limits.AdmitClient(client, now)) {
      m.client_admitted = true;
    } else if (Verdict v = OverLimit(config, mta, m, "client", client); v != Verdict::kContinue) {
      return v;
    }
  }
  if (m.recipients.size() < config.max_recipients) m.recipients.push_back(recipient);
  return Verdict::kContinue;
}

void NoteAcceptedRecipient(MessageContext& m, const std::string& recipient,
                           std::size_t max_recipients) {
  if (m.recipients.size() < max_recipients) m.recipients.push_back(recipient);
}

void NoteHeader(MessageContext& m, std::string_view name, std::string_view value) {
  if (m.outbound && m.message_id.empty() && EqualsIgnoreCase(name, "Message-ID")) {
    m.message_id = BareMessageId(value);
  } else if (m.IsBounceCandidate() && m.from_domain.empty() &&
             EqualsIgnoreCase(name, "From")) {
    m.from_domain = FromDomain(value);
  }
}

namespace {

// Writes a ledger entry (asynchronously: a failure shows in a later call);
// an error is logged and the message goes on: the ledger is evidence for
// later bounces, never a reason to hold mail.
void RecordLedger(const Config& config, MtaSession& mta, StoreAccess& store,
                  const std::string& key, const std::vector<std::string>& recipients,
                  std::int64_t now) {
  Status s = store.RecordSent(key, recipients, config.sent_ledger_days * kSecondsPerDay, now);
  if (!s.ok()) {
    LogDecision(config, LogSeverity::kWarning, "ledger-error",
                {{"queue", QueueId(mta)}, {"key", key}, {"error", s.ToString()}});
  }
}

// Ledger key of a queue id: QUEUEID@HOST behind a prefix that begins with a
// space, which no Message-ID key can (BareMessageId trims), so an outbound
// Message-ID can never name, nor overwrite, a queue-id entry.
constexpr std::string_view kQueueIdKeyPrefix = " queue-id:";

std::string QueueIdLedgerKey(std::string_view queue_id_at_host) {
  return std::string(kQueueIdKeyPrefix) + std::string(queue_id_at_host);
}

// Bottom-most Received fields of a returned message whose queue ids are tried
// against the ledger: ours is one of the first hops of the original message.
// Few, so that one forged report cannot try many guesses.
constexpr std::size_t kReceivedIdsTried = 2;

// The ledger keys of a returned message: its Message-ID; with SentLedger
// queue-id, then the queue ids of its bottom-most Received fields.
std::vector<std::string> LedgerKeys(const Config& config, const BounceReport& report) {
  std::vector<std::string> keys;
  if (!report.original.message_id.empty()) keys.push_back(report.original.message_id);
  if (config.sent_ledger == SentLedger::kQueueId) {
    const std::vector<std::string>& ids = report.original.received_ids;
    for (std::size_t i = ids.size() > kReceivedIdsTried ? ids.size() - kReceivedIdsTried : 0;
         i < ids.size(); ++i) {
      keys.push_back(QueueIdLedgerKey(ids[i]));
    }
  }
  return keys;
}

bool OutboundToLedger(const MessageContext& m) {
  return m.outbound && !m.IsBounceCandidate() && !m.recipients.empty();
}

// Whether the return path of the message will be signed at end of message.
bool ToBeSigned(const Policy& policy, const MessageContext& m) {
  return policy.verifier->codec() != nullptr && SenderIsSigned(*policy.config, m.sender);
}

// ledger-queue-id-unavailable for one missing macro ("i" or "j"), unless it
// was logged on this connection already (*logged).
void LogQueueIdUnavailable(const Config& config, const MessageContext& m, std::string_view macro,
                           bool* logged) {
  if (*logged) return;
  *logged = true;
  LogDecision(config, LogSeverity::kWarning, "ledger-queue-id-unavailable",
              {{"sender", m.sender},
               {"missing", std::string(macro)},
               {"fix", macro == "i"
                           ? "pass the queue id at DATA (Postfix: milter_data_macros = i)"
                           : "pass the host name at connect (Postfix: milter_connect_macros "
                             "= j ..., Sendmail: confMILTER_MACROS_CONNECT)"},
               {"fallback", "message-id"}});
}

}  // namespace

bool OutboundAtData(ConnectionContext& c, MtaSession& mta, StoreAccess& store, std::int64_t now) {
  const Policy& policy = *c.policy;
  const Config& config = *policy.config;
  const MessageContext& m = c.message;
  if (config.sent_ledger != SentLedger::kQueueId || !OutboundToLedger(m)) return false;
  if (ToBeSigned(policy, m)) return false;  // the sender can be changed at end of message only
  const std::string queue = QueueId(mta);
  const std::string host = ToLowerAscii(mta.Macro("j").value_or(""));
  if (queue.empty() || host.empty()) {
    // End of headers then records the Message-ID entry instead. The MTA
    // passes the same macros for every message of a connection: one warning
    // per missing macro and connection, not one per message.
    if (queue.empty()) LogQueueIdUnavailable(config, m, "i", &c.queue_id_missing_i_logged);
    if (host.empty()) LogQueueIdUnavailable(config, m, "j", &c.queue_id_missing_j_logged);
    return false;
  }
  RecordLedger(config, mta, store, QueueIdLedgerKey(queue + "@" + host), m.recipients, now);
  return true;
}

bool OutboundEndOfHeaders(ConnectionContext& c, MtaSession& mta, StoreAccess& store,
                          std::int64_t now) {
  const Policy& policy = *c.policy;
  const Config& config = *policy.config;
  const MessageContext& m = c.message;
  if (!OutboundToLedger(m)) return false;
  // With SentLedger queue-id, mail reaches this point when it is signed, when
  // the queue id was missing at DATA, or when its connection was negotiated
  // without DATA before a reload: the Message-ID entry then stands in.
  if (config.sent_ledger != SentLedger::kNo && !m.message_id.empty()) {
    RecordLedger(config, mta, store, m.message_id, m.recipients, now);
  }
  return ToBeSigned(policy, m);
}

void SignReturnPath(ConnectionContext& c, MtaSession& mta, std::int64_t now) {
  const Policy& policy = *c.policy;
  const Config& config = *policy.config;
  const MessageContext& m = c.message;
  const ReturnPathCodec* codec = policy.verifier->codec();
  if (!m.outbound || m.null_sender || m.recipients.empty() || codec == nullptr ||
      !SenderIsSigned(config, m.sender)) {
    return;
  }
  Result<std::string> signed_sender = codec->Sign(m.sender, m.recipients, WallTime(now));
  if (!signed_sender.ok()) {
    LogDecision(config, LogSeverity::kWarning, "outbound-unsigned",
                {{"queue", QueueId(mta)}, {"sender", m.sender},
                 {"error", signed_sender.status().ToString()}});
    return;
  }
  if (*signed_sender == m.sender) return;  // signed on an earlier pass
  const bool changed = mta.ChangeSender("<" + *signed_sender + ">");
  LogDecision(config, changed ? LogSeverity::kInfo : LogSeverity::kWarning,
              changed ? "outbound-signed" : "outbound-sign-failed",
              {{"queue", QueueId(mta)},
               {"sender", m.sender},
               {"return_path", *signed_sender},
               {"recipients", std::to_string(m.recipients.size())}});
}

std::optional<Verdict> LimitBounceBeforeParse(ConnectionContext& c, MtaSession& mta,
                                              BounceRateLimits& limits, std::int64_t now) {
  const Config& config = *c.policy->config;
  MessageContext& m = c.message;
  if (!m.mta_generated && !m.rate_limited && !TagVerified(*c.policy, m.recipients, now)) {
    const std::string domain = m.from_domain.empty() ? "(none)" : m.from_domain;
    if (!limits.AdmitDomain(domain, now)) {
      Verdict v = OverLimit(config, mta, m, "domain", domain);
      if (v != Verdict::kContinue) return v;
    }
  }
  if (!m.rate_limited) return std::nullopt;
  return Verdict::kAccept;
}

TrustedReport VerifyBounce(ConnectionContext& c, MtaSession& mta, StoreAccess& store,
                           const BounceReport& report, std::int64_t now) {
  const Policy& policy = *c.policy;
  const Config& config = *policy.config;
  const std::string queue = QueueId(mta);
  TrustedReport out;
  const EnvelopeCheck envelope =
      policy.verifier->CheckEnvelope(c.message.recipients, WallTime(now));
  std::optional<std::vector<std::string>> ledger;
  std::string_view ledger_key = "none";  // which key found the entry given to the verifier
  // A valid VERP tag, or a bad tag, decides without the ledger.
  if (envelope.evidence != Evidence::kVerpTag && envelope.verdict != Trust::kForged) {
    const std::vector<std::string> keys = LedgerKeys(config, report);
    // How many of the report's recipients an entry would verify, matched
    // as the verdict itself matches them.
    auto verified_by = [&](const std::vector<std::string>& entry) {
      const std::vector<VerifiedRecipient> all =
          policy.verifier->Verify(envelope, report, entry).recipients;
      return std::count_if(all.begin(), all.end(), [](const VerifiedRecipient& r) {
        return r.verdict == Trust::kVerified;
      });
    };
    Result<StoreAccess::SentEntries> sent = store.LookupSent(
        keys, now, [&](const std::vector<std::string>& entry) { return verified_by(entry) > 0; });
    if (!sent.ok()) {
      LogDecision(config, LogSeverity::kWarning, "inbound-store-error",
                  {{"queue", queue}, {"error", sent.status().ToString()},
                   {"verdict", "tempfail"}});
      mta.SetReply({"451", "4.3.0", "bounce not verified, try again later"});
      out.verdict = Verdict::kTempfail;
      return out;
    }
    // Several keys may find entries (a Message-ID reused by another message,
    // say): the entry that lists the most of the report's recipients is the
    // message that bounced; on a tie, the first key's.
    std::ptrdiff_t best = -1;
    for (std::size_t i = 0; i < sent->size(); ++i) {
      const std::optional<std::vector<std::string>>& entry = (*sent)[i];
      if (!entry) continue;
      if (const std::ptrdiff_t listed = verified_by(*entry); listed > best) {
        best = listed;
        ledger = *entry;
        ledger_key = keys[i].starts_with(kQueueIdKeyPrefix) ? "queue-id" : "message-id";
      }
    }
  }
  const Verification v = policy.verifier->Verify(envelope, report, ledger);
  out.report = report;
  out.report.recipients.clear();
  for (const VerifiedRecipient& r : v.recipients) {
    if (r.disposition == Disposition::kRecord) out.report.recipients.push_back(r.facts);
    if (r.verdict == Trust::kVerified) continue;
    const bool forged = r.verdict == Trust::kForged;
    LogDecision(config, forged ? LogSeverity::kWarning : LogSeverity::kInfo,
                forged ? "inbound-forged" : "inbound-unverified",
                {{"queue", queue},
                 {"client", ClientKey(c)},
                 {"recipient", r.facts.address},
                 {"status", r.facts.status},
                 {"evidence", std::string(EvidenceName(r.evidence))},
                 {"disposition", std::string(DispositionName(r.disposition))}});
  }
  LogDecision(config, v.verdict == Trust::kForged ? LogSeverity::kWarning : LogSeverity::kInfo,
              "inbound-trust",
              {{"queue", queue},
               {"client", ClientKey(c)},
               {"trust", std::string(TrustName(v.verdict))},
               {"evidence", std::string(EvidenceName(v.evidence))},
               {"ledger", std::string(ledger_key)},
               {"recorded", std::to_string(out.report.recipients.size())},
               {"named", std::to_string(v.recipients.size())},
               {"detail", v.detail}});
  if (v.reject) {
    mta.SetReply({"550", "5.7.1", "bounce refused: its return-path tag is not valid"});
    out.verdict = Verdict::kReject;
  }
  return out;
}

}  // namespace bm
