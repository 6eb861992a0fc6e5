#include "milter/config.h"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <filesystem>
#include <limits>
#include <optional>

#include "common/file_util.h"
#include "milter/config_values.h"
#include "milter/reply.h"

namespace bm {
namespace {

using namespace config_text;  // the value parsers, used by every setter

// ---- setters, one per value type; each is instantiated per Config field ----

template <auto Field>
Status SetString(Config& c, std::string_view v) {
  c.*Field = std::string(v);
  return Status::Ok();
}

template <auto Field, std::size_t Min, std::size_t Max>
Status SetSize(Config& c, std::string_view v) {
  Result<std::size_t> n = ParseSize(v, Min, Max);
  if (!n.ok()) return n.status();
  c.*Field = *n;
  return Status::Ok();
}

template <auto Field, long long Min, long long Max>
Status SetInt(Config& c, std::string_view v) {
  Result<long long> n = ParseInteger(v, Min, Max);
  if (!n.ok()) return n.status();
  c.*Field = static_cast<int>(*n);
  return Status::Ok();
}

template <auto Field>
Status SetBool(Config& c, std::string_view v) {
  Result<bool> b = ParseBool(v);
  if (!b.ok()) return b.status();
  c.*Field = *b;
  return Status::Ok();
}

template <auto Field>
Status SetErrorAction(Config& c, std::string_view v) {
  Result<ErrorAction> a = ParseErrorAction(v);
  if (!a.ok()) return a.status();
  c.*Field = *a;
  return Status::Ok();
}

template <auto Field>
Status SetInboundAction(Config& c, std::string_view v) {
  Result<InboundAction> a = ParseInboundAction(v);
  if (!a.ok()) return a.status();
  c.*Field = *a;
  return Status::Ok();
}

template <auto Field>
Status SetWordList(Config& c, std::string_view v) {
  c.*Field = SplitList(v);
  return Status::Ok();
}

Status SetSocket(Config& c, std::string_view v) {
  Result<SocketSpec> spec = ParseSocketSpec(v);
  if (!spec.ok()) return spec.status();
  c.socket = std::string(v);
  return Status::Ok();
}

Status SetSocketMode(Config& c, std::string_view v) {
  Result<std::uint32_t> mode = ParseOctalMode(v);
  if (!mode.ok()) return mode.status();
  c.socket_mode = *mode;
  return Status::Ok();
}

Status SetMode(Config& c, std::string_view v) {
  if (EqualsIgnoreCase(v, "enforce")) {
    c.mode = Mode::kEnforce;
  } else if (EqualsIgnoreCase(v, "monitor")) {
    c.mode = Mode::kMonitor;
  } else {
    return Status::InvalidArgument("expected enforce or monitor, got '" + std::string(v) + "'");
  }
  return Status::Ok();
}

Status SetLogLevel(Config& c, std::string_view v) {
  static constexpr std::string_view kLevels[] = {"trace", "debug", "info", "warning",
                                                 "error", "critical", "off"};
  for (std::string_view level : kLevels) {
    if (EqualsIgnoreCase(v, level)) {
      c.log_level = std::string(level);
      return Status::Ok();
    }
  }
  return Status::InvalidArgument("unknown log level '" + std::string(v) + "'");
}

Status SetLogTarget(Config& c, std::string_view v) {
  if (v == "stderr" || v == "syslog" || (v.starts_with("file:/") && v.size() > 6)) {
    c.log_target = std::string(v);
    return Status::Ok();
  }
  return Status::InvalidArgument("expected stderr, syslog or file:/path, got '" +
                                 std::string(v) + "'");
}

Status SetLogFormat(Config& c, std::string_view v) {
  if (EqualsIgnoreCase(v, "text")) {
    c.log_format = LogFormat::kText;
  } else if (EqualsIgnoreCase(v, "json")) {
    c.log_format = LogFormat::kJson;
  } else {
    return Status::InvalidArgument("expected text or json, got '" + std::string(v) + "'");
  }
  return Status::Ok();
}

Status SetOutboundClients(Config& c, std::string_view v) {
  std::vector<NetRange> nets;
  for (const std::string& item : SplitList(v)) {
    Result<NetRange> net = ParseNetRange(item);
    if (!net.ok()) return net.status();
    nets.push_back(std::move(*net));
  }
  c.outbound_clients = std::move(nets);
  return Status::Ok();
}

Status SetSuppressedReply(Config& c, std::string_view v) {
  Status s = ValidateReplyTemplate(v);
  if (!s.ok()) return s;
  c.suppressed_reply = std::string(v);
  return Status::Ok();
}

Status SetTemporaryClass(Config& c, std::string_view v) {
  if (EqualsIgnoreCase(v, "4xx")) {
    c.temporary_suppression_class = 4;
  } else if (EqualsIgnoreCase(v, "5xx")) {
    c.temporary_suppression_class = 5;
  } else {
    return Status::InvalidArgument("expected 4xx or 5xx, got '" + std::string(v) + "'");
  }
  return Status::Ok();
}

Status SetSentLedger(Config& c, std::string_view v) {
  // "yes" is the boolean form of earlier versions, which had only this key.
  if (EqualsIgnoreCase(v, "message-id") || EqualsIgnoreCase(v, "yes")) {
    c.sent_ledger = SentLedger::kMessageId;
  } else if (EqualsIgnoreCase(v, "queue-id")) {
    c.sent_ledger = SentLedger::kQueueId;
  } else if (EqualsIgnoreCase(v, "no")) {
    c.sent_ledger = SentLedger::kNo;
  } else {
    return Status::InvalidArgument("expected message-id, queue-id or no (yes: message-id), got '" +
                                   std::string(v) + "'");
  }
  return Status::Ok();
}

// A keyword with two values: the field is true for `yes_word`.
template <auto Field>
Status SetChoice(Config& c, std::string_view v, std::string_view yes_word,
                 std::string_view no_word) {
  if (EqualsIgnoreCase(v, yes_word)) {
    c.*Field = true;
  } else if (EqualsIgnoreCase(v, no_word)) {
    c.*Field = false;
  } else {
    return Status::InvalidArgument("expected " + std::string(yes_word) + " or " +
                                   std::string(no_word) + ", got '" + std::string(v) + "'");
  }
  return Status::Ok();
}

Status SetUnverifiedBounces(Config& c, std::string_view v) {
  return SetChoice<&Config::record_unverified>(c, v, "record", "log-only");
}

Status SetForgedBounces(Config& c, std::string_view v) {
  return SetChoice<&Config::reject_forged>(c, v, "reject", "ignore");
}

Status SetRateLimitedBounces(Config& c, std::string_view v) {
  return SetChoice<&Config::rate_limit_tempfail>(c, v, "tempfail", "accept");
}

// The prefix becomes the start of a local part: letters, digits, '-', '_', '.'.
Status SetReturnPathPrefix(Config& c, std::string_view v) {
  bool ok = !v.empty() && v.size() <= 20 && v.front() != '.' && v.back() != '.';
  for (char ch : v) {
    ok = ok && (std::isalnum(static_cast<unsigned char>(ch)) || ch == '-' || ch == '_' ||
                ch == '.');
  }
  if (!ok) {
    return Status::InvalidArgument("expected 1 to 20 letters, digits, '-', '_' or '.', got '" +
                                   std::string(v) + "'");
  }
  c.return_path_prefix = std::string(v);
  return Status::Ok();
}

// Reason names as the rule table writes them: lower-case letters, digits,
// '-' and '_'. A name no rule produces is allowed (a custom rules file may
// add it later) but never matches.
template <auto Field>
Status SetReasonList(Config& c, std::string_view v) {
  constexpr std::size_t kMaxReasons = 64;
  constexpr std::size_t kMaxReasonBytes = 32;
  std::vector<std::string> reasons = SplitList(v);
  if (reasons.size() > kMaxReasons) {
    return Status::InvalidArgument("more than " + std::to_string(kMaxReasons) + " reasons");
  }
  for (const std::string& reason : reasons) {
    bool ok = reason.size() <= kMaxReasonBytes;
    for (char ch : reason) {
      ok = ok && ((ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9') || ch == '-' || ch == '_');
    }
    if (!ok) {
      return Status::InvalidArgument("'" + reason +
                                     "' is not a reason name (lower-case letters, digits, "
                                     "'-', '_'; at most 32)");
    }
  }
  c.*Field = std::move(reasons);
  return Status::Ok();
}

Status SetLocalPartCase(Config& c, std::string_view v) {
  return SetChoice<&Config::fold_local_part_case>(c, v, "insensitive", "sensitive");
}

constexpr std::size_t kKiB = 1024;
constexpr std::size_t kMiB = 1024 * kKiB;

// store/policy.h's default (config_store_test checks that they agree).
constexpr const char* kDefaultSenderBlamedReasons =
    "blocked, spamdetected, policyviolation, authfailure, badreputation, requireptr, rejected, "
    "securityerror, virusdetected, contenterror, notcompliantrfc, speeding, toomanyconn, "
    "failedstarttls, norelaying, syntaxerror, mesgtoobig, exceedlimit";

constexpr OnReload kReopensStore = OnReload::kReopensStore;
constexpr OnReload kNeedsRestart = OnReload::kNeedsRestart;

// THE key table. Order = order in the docs and in the default config file.
const ConfigKey kKeys[] = {
    {"Socket", "socket", "inet:8895@127.0.0.1",
     "inet:PORT@HOST, inet6:PORT@HOST, unix:/PATH or local:/PATH",
     "Where the daemon listens for the MTA, in the syntax of libmilter-based milters (note: "
     "Postfix writes the same socket as inet:HOST:PORT). HOST is an IP address or a name "
     "resolved at start; without @HOST, every address. A unix socket is created (a stale one "
     "removed; one another process still listens on makes the start fail) before privileges "
     "are dropped and is then given to SocketOwner with SocketMode. "
     "Prefer a unix socket: TCP costs more, even on loopback (docs/performance.md). Over TCP "
     "the daemon acknowledges every packet at once, so that the MTA's Nagle algorithm does not "
     "hold back a command that follows a packet without reply (a 40 ms stall each time).",
     &SetSocket, kNeedsRestart},
    {"UserID", "user[:group]", "", "",
     "Run as this user (and group; default: the user's primary group) once the socket is open. "
     "Empty: keep the user the daemon was started as. Starting as root without UserID logs a "
     "warning.",
     &SetString<&Config::user_id>, kNeedsRestart},
    {"SocketOwner", "user[:group]", "", "",
     "Owner of a unix socket. Empty: the UserID user, or root when UserID is empty. Postfix "
     "connects as user postfix, which must be the owner or in the group.",
     &SetString<&Config::socket_owner>, kNeedsRestart},
    {"SocketMode", "octal mode", "0660", "0000 to 0777",
     "Permission bits of a unix socket.", &SetSocketMode, kNeedsRestart},
    {"PidFile", "path", "", "",
     "Write the daemon's process id to this file at start and remove it at exit. Empty: no "
     "file.",
     &SetString<&Config::pid_file>, kNeedsRestart},
    {"StorePath", "path", "/var/lib/bounce-milter/store", "",
     "Directory of the LMDB suppression store. Created when missing. bouncectl uses it too "
     "unless given --db.",
     &SetString<&Config::store_path>, kReopensStore},
    {"StoreRetryInterval", "seconds", "10", "1 to 3600",
     "When the store cannot be opened, the daemon keeps running, applies On-StoreError, and "
     "tries again at most this often.",
     &SetInt<&Config::store_retry_seconds, 1, 3600>, kNeedsRestart},
    {"LookupIndex", "yes|no", "yes", "",
     "yes: the daemon keeps the lookup data of every address record of the store in memory "
     "(about 40 bytes per address) and answers the recipient check from it, with the same "
     "answers as the database, which it follows as it changes, including writes by bouncectl. "
     "It is built in the background when the store is opened (about a second per million "
     "addresses); lookups read the database until it is ready, and whenever it is behind. "
     "no: every lookup reads the database (slower on large stores). bouncectl never builds "
     "it.",
     &SetBool<&Config::lookup_index>, kReopensStore},
    {"LookupIndexMaxAddresses", "integer", "10000000", "1 to 50000000",
     "A store with more address records than this is not indexed (logged once; lookups read "
     "the database), which bounds the memory of LookupIndex.",
     &SetSize<&Config::lookup_index_max_addresses, 1, 50000000>, kReopensStore},
    {"SoftBounceThreshold", "integer", "3", "1 to 32",
     "Soft (transient) bounces of one address within SoftBounceWindow that make it "
     "suppressed-temporary for TemporarySuppressionPeriod. This key and the ones down to "
     "MaxDiagnosticSize are the store's policy, which bouncectl reads from this file too "
     "(docs/bounce-milter.conf.md, STORE POLICY).",
     &SetInt<&Config::soft_bounce_threshold, 1, 32>, kReopensStore},
    {"SoftBounceWindow", "days", "7", "1 to 3650",
     "Soft bounces older than this many days no longer count towards SoftBounceThreshold.",
     &SetInt<&Config::soft_bounce_window_days, 1, 3650>, kReopensStore},
    {"TemporarySuppressionPeriod", "days", "14", "1 to 3650",
     "How long a suppressed-temporary address stays suppressed; the suppression then lifts "
     "itself. Applies to suppressions made after the change.",
     &SetInt<&Config::temporary_suppression_days, 1, 3650>, kReopensStore},
    {"SuppressOnComplaint", "yes|no", "yes", "",
     "yes: an ARF complaint (feedback report) suppresses the address permanently. no: "
     "complaints are only counted.",
     &SetBool<&Config::suppress_on_complaint>, kReopensStore},
    {"SenderBlamedReasons", "list of reasons", kDefaultSenderBlamedReasons,
     "at most 64 names of lower-case letters, digits, '-', '_'",
     "Bounce reasons that blame the sender (its IP address, domain, content or "
     "authentication) rather than the recipient: such a bounce never suppresses the address "
     "and is counted per receiving domain instead. Reason names are those of the rule table "
     "(docs/rules.md); a name may not also be in NoChangeReasons.",
     &SetReasonList<&Config::sender_blamed_reasons>, kReopensStore},
    {"NoChangeReasons", "list of reasons", "vacation, delivered, feedback",
     "at most 64 names of lower-case letters, digits, '-', '_'",
     "Bounce reasons that say the mail was or will be read (auto-replies, delivery "
     "notices): the address record is left unchanged.",
     &SetReasonList<&Config::no_change_reasons>, kReopensStore},
    {"DomainHostUnknownThreshold", "integer", "3", "0 to 1000000",
     "hostunknown hard bounces from this many different addresses of one domain suppress the "
     "whole domain (a domain entry, lifted with `bouncectl unblock --domain`). 0: bounces "
     "never create domain entries.",
     &SetInt<&Config::domain_hostunknown_threshold, 0, 1000000>, kReopensStore},
    {"LocalPartCase", "insensitive|sensitive", "insensitive", "",
     "insensitive: User@example.com and user@example.com are one record (ASCII letters of "
     "the local part folded to lower case). sensitive: they are two. Domains are always "
     "compared case-insensitively. Records keep the key they were written under: choose "
     "before the store fills up.",
     &SetLocalPartCase, kReopensStore},
    {"EventRetention", "days", "365", "0 to 36500",
     "Events of the store's log (bounces, complaints, unblocks, imports, expiries) older "
     "than this are deleted by the periodic expiry. 0 keeps every event. Address records "
     "are never deleted by it.",
     &SetInt<&Config::event_retention_days, 0, 36500>, kReopensStore},
    {"MaxDiagnosticSize", "size", "512", "64 to 64K",
     "Bytes of a bounce's diagnostic text kept in the address record; longer texts are cut.",
     &SetSize<&Config::max_diagnostic_bytes, 64, 64 * kKiB>, kReopensStore},
    {"RulesFile", "path", "", "",
     "Classification rules (docs/rules.md). Empty: the rules built into the daemon. Re-read "
     "on SIGHUP; a broken file is logged and the rules in use stay.",
     &SetString<&Config::rules_file>},
    {"Mode", "enforce|monitor", "enforce", "",
     "enforce refuses suppressed recipients. monitor records bounces the same way but only "
     "logs the recipients it would have refused.",
     &SetMode},
    {"On-StoreError", "accept|tempfail|reject", "tempfail", "",
     "Answer for an outbound recipient when the store cannot be read. Inbound bounces that "
     "cannot be recorded are always answered with tempfail so the MTA retries them.",
     &SetErrorAction<&Config::on_store_error>},
    {"On-InternalError", "accept|tempfail|reject", "accept", "",
     "Answer when the daemon itself fails (a bug, out of memory) in any callback.",
     &SetErrorAction<&Config::on_internal_error>},
    {"MaxMessageSize", "size", "10M", "64K to 1G",
     "Bytes of a bounce (headers and body) kept for parsing. Beyond it the daemon stops "
     "collecting, logs the fact, and accepts the message without recording it. Accepts K, M "
     "and G suffixes.",
     &SetSize<&Config::max_message_size, 64 * kKiB, 1024 * kMiB>},
    {"MaxRecipients", "integer", "1000", "1 to 100000",
     "Recipients checked or kept per message; recipients beyond are passed without a check "
     "and logged.",
     &SetSize<&Config::max_recipients, 1, 100000>},
    {"MaxMimeDepth", "integer", "32", "1 to 256",
     "MIME nesting the parser follows in one bounce.",
     &SetInt<&Config::max_mime_depth, 1, 256>},
    {"MaxMimeParts", "integer", "2000", "1 to 100000",
     "MIME parts the parser visits in one bounce.",
     &SetInt<&Config::max_mime_parts, 1, 100000>},
    {"MilterTimeout", "seconds", "300", "10 to 7200",
     "How long the daemon waits on a connection for the MTA's next command, or for the MTA to "
     "take a reply, before it closes the connection (the MTA then applies its default action). "
     "A command begun must also be complete within this time, and the MTA's first one (the "
     "negotiation, sent as it connects) within 10 seconds, so that a client trickling bytes "
     "cannot keep a connection slot (MaxConnections).",
     &SetInt<&Config::milter_timeout, 10, 7200>, kNeedsRestart},
    {"ListenBacklog", "integer", "128", "1 to 65535",
     "listen(2) backlog of the milter socket. Connections beyond MaxConnections wait there.",
     &SetInt<&Config::listen_backlog, 1, 65535>, kNeedsRestart},
    {"MaxConnections", "integer", "512", "1 to 1000",
     "MTA connections served at once. Postfix opens one per SMTP session and per submission "
     "through sendmail(1) or pickup; one event loop serves them all, and a step that may wait "
     "(a bounce's body and end of message) is handled by a worker thread, kept for the next "
     "such step and ended after a minute without one. Each thread holds one of "
     "the store's LMDB reader slots from its first lookup until it ends; the store has 2126, "
     "room for twice the highest MaxConnections (the workers of one step each, and as many "
     "left idle by steps that ended as others began) and for bouncectl "
     "(docs/store.md, Reader slots). Beyond the limit the daemon accepts "
     "no more (a warning is logged): new connections wait in the listen backlog until one "
     "closes, or the MTA gives up waiting for the negotiation's reply (Postfix: "
     "milter_connect_timeout over TCP, milter_command_timeout over a unix socket, whose "
     "connect succeeds into the backlog) and applies its default action. Any local user can "
     "connect to an inet socket and hold connections: where local users are not trusted, use "
     "a unix socket in a directory only the MTA can reach.",
     &SetSize<&Config::max_connections, 1, kMaxConnectionsLimit>, kNeedsRestart},
    {"LogLevel", "level", "info", "trace, debug, info, warning, error, critical, off",
     "Least severe message logged. Decisions are logged at info.", &SetLogLevel},
    {"LogTarget", "stderr|syslog|file:/PATH", "stderr", "",
     "Where log lines go. syslog uses facility mail and ident bounce-milter. A file is "
     "opened for appending before privileges are dropped; rotate it with copytruncate "
     "(contrib/bounce-milter.logrotate). Lines are written synchronously by the thread that "
     "logs, the event loop that serves every connection among them: a target that stalls (a "
     "syslog or journald that does not keep up, a pipe nobody reads) holds every connection "
     "back until it takes the line.",
     &SetLogTarget, kNeedsRestart},
    {"LogFormat", "text|json", "text", "",
     "text: one readable line per event. json: one JSON object per line (decisions carry "
     "their fields as JSON members).",
     &SetLogFormat, kNeedsRestart},
    {"BounceAddresses", "list", "", "",
     "Recipient patterns that mark a message as a bounce even when its envelope sender is not "
     "empty, e.g. bounces@example.com, bounces+*@example.com (VERP). Case-insensitive globs: "
     "* any run of characters, ? one character.",
     &SetWordList<&Config::bounce_addresses>},
    {"InboundAction-Dsn", "accept|tag|discard", "tag", "",
     "What happens to a recorded delivery status notification: accept it unchanged, tag it "
     "with an X-Bounce-Classification header, or discard it.",
     &SetInboundAction<&Config::inbound_dsn>},
    {"InboundAction-AutoReply", "accept|tag|discard", "accept", "",
     "Same, for auto-replies (vacation, out of office).",
     &SetInboundAction<&Config::inbound_autoreply>},
    {"InboundAction-Feedback", "accept|tag|discard", "tag", "",
     "Same, for ARF feedback reports (complaints).",
     &SetInboundAction<&Config::inbound_feedback>},
    {"InboundAction-NotBounce", "accept|tag|discard", "accept", "",
     "Same, for a message that looked like a bounce by its envelope but whose content is not "
     "one.",
     &SetInboundAction<&Config::inbound_not_bounce>},
    {"OutboundClients", "list of networks", "127.0.0.0/8, ::1/128", "",
     "Mail from clients in these networks is outbound: its recipients are checked against "
     "the store. Postfix presents locally submitted mail (sendmail, pickup) as 127.0.0.1.",
     &SetOutboundClients},
    {"OutboundDaemons", "list", "", "",
     "Mail received by a Postfix service whose {daemon_name} is in this list (set in "
     "master.cf with -o milter_macro_daemon_name=NAME) is outbound.",
     &SetWordList<&Config::outbound_daemons>},
    {"OutboundAuthenticated", "yes|no", "yes", "",
     "Mail from SMTP-authenticated senders ({auth_authen} set) is outbound.",
     &SetBool<&Config::outbound_authenticated>},
    {"SuppressedReply", "template", "<{address}>: recipient suppressed ({reason} since {since})",
     "at most 400 bytes; placeholders {address} {reason} {since} {until} {state}",
     "Text of the reply to a suppressed recipient. The daemon puts 550 5.1.1 (permanent "
     "suppression) or the TemporarySuppressionReply codes in front. {since} and {until} are "
     "UTC dates (YYYY-MM-DD).",
     &SetSuppressedReply},
    {"TemporarySuppressionReply", "4xx|5xx", "4xx", "",
     "Reply class for a temporarily suppressed recipient: 4xx answers 450 4.2.1 (the sender "
     "retries later), 5xx answers 550 5.2.1.",
     &SetTemporaryClass},
    {"ReturnPathKeys", "path", "", "",
     "Key file of the return-path signing keys (`bouncectl keys generate`; mode 0600, "
     "readable by the UserID user; a file readable by group or others is refused). Empty: "
     "outgoing mail is not signed and bounces are verified by the sent-message ledger only. "
     "Re-read on SIGHUP, so a `bouncectl keys rotate` takes effect with a reload. See "
     "docs/security.md.",
     &SetString<&Config::return_path_keys>},
    {"SignSenders", "list", "", "",
     "Envelope senders of outbound mail whose return path is signed (at end of message), as "
     "case-insensitive globs like BounceAddresses: *@example.com, news@example.org. A message "
     "with one recipient gets ReturnPathPrefix+TAG+local=domain@domain (VERP), one with "
     "several recipients prvs=TAG=local@domain. The MTA must accept mail to those addresses "
     "(Postfix: recipient_delimiter = +, a ReturnPathPrefix mailbox or alias), and "
     "BounceAddresses should match them. Empty: nothing is signed. Needs ReturnPathKeys.",
     &SetWordList<&Config::sign_senders>},
    {"ReturnPathPrefix", "word", "bounces", "1 to 20 letters, digits, '-', '_', '.'",
     "Local part before the first '+' of the VERP return path.", &SetReturnPathPrefix},
    {"ReturnPathDomain", "domain", "", "",
     "Domain of the VERP return path. Empty: the original sender's domain (keeps SPF and "
     "DMARC alignment). The per-message form always keeps the sender's domain.",
     &SetString<&Config::return_path_domain>},
    {"ReturnPathMaxAge", "days", "10", "1 to 511",
     "A tag verifies for this many days after the day it was made; older tags are expired "
     "(the bounce is then unverified unless the ledger knows the message).",
     &SetInt<&Config::return_path_max_age, 1, 511>},
    {"SentLedger", "message-id|queue-id|no", "message-id", "",
     "Record the accepted recipients of outbound mail in the sent-message ledger, so that a "
     "bounce returning the message verifies even without a signed return path. message-id: "
     "keyed by the Message-ID header, so outbound mail is kept until end of headers; a "
     "random Message-ID is hard to guess. queue-id: keyed by QUEUEID@HOST, the MTA's queue "
     "id (macro {i} at DATA; Postfix sends it by default, milter_data_macros = i) and host "
     "name (macro {j} at connect, Postfix milter_connect_macros); the DATA step is then "
     "negotiated and outbound mail that is not to be signed is accepted there, which saves "
     "the MTA its header stage (much of the milter's cost); a bounce verifies through the "
     "bottom-most Received headers it returns (two at most, with SentLedger queue-id only). A "
     "queue id is far easier to guess than a random Message-ID (docs/security.md). Without "
     "{i} or {j} a message is recorded by Message-ID (logged as ledger-queue-id-unavailable, "
     "once per connection and missing macro). A reload changes the protocol "
     "only for connections opened after it. no: no ledger. yes, the value of earlier "
     "versions, means message-id.",
     &SetSentLedger},
    {"SentLedgerTTL", "days", "14", "1 to 365",
     "How long a ledger entry is kept.", &SetInt<&Config::sent_ledger_days, 1, 365>},
    {"UnverifiedBounces", "log-only|record", "log-only", "",
     "What happens to a bounce recipient that cannot be verified (no valid tag, not in the "
     "ledger): log-only logs it (inbound-unverified) and leaves the store alone; record "
     "records it like a verified one (bounce processing without verification, e.g. while "
     "mail sent before signing still bounces).",
     &SetUnverifiedBounces},
    {"ForgedBounces", "ignore|reject", "ignore", "",
     "A bounce to a signed-looking address whose tag is wrong is never recorded and is "
     "logged as inbound-forged. ignore then handles the message like any other bounce; "
     "reject refuses it at end of data with 550 5.7.1.",
     &SetForgedBounces},
    {"PerMessageTagRequiresLedger", "yes|no", "no", "",
     "A valid per-message (prvs=) tag proves a bounce answers our mail, not which recipient "
     "failed. yes: when the ledger has no entry for the returned Message-ID, its recipients "
     "are unverified; no: they are verified.",
     &SetBool<&Config::per_message_requires_ledger>},
    {"ClientBounceRate", "per minute", "60", "1 to 1000000",
     "Bounces without a valid tag accepted per minute from one client (an IPv4 address or "
     "an IPv6 /64). Checked at the first RCPT, before any parsing. Bounces with a valid tag, "
     "and bounces Postfix generates itself (non-SMTP mail), are never limited.",
     &SetInt<&Config::client_bounce_rate, 1, 1000000>, kNeedsRestart},
    {"ClientBounceBurst", "integer", "60", "1 to 1000000",
     "Bounces a client may send at once before ClientBounceRate applies.",
     &SetInt<&Config::client_bounce_burst, 1, 1000000>, kNeedsRestart},
    {"DomainBounceRate", "per minute", "300", "1 to 1000000",
     "Same per claimed reporting domain (the domain of the bounce's From: header), checked "
     "at end of data before parsing.",
     &SetInt<&Config::domain_bounce_rate, 1, 1000000>, kNeedsRestart},
    {"DomainBounceBurst", "integer", "300", "1 to 1000000",
     "Bounces a domain may send at once before DomainBounceRate applies.",
     &SetInt<&Config::domain_bounce_burst, 1, 1000000>, kNeedsRestart},
    {"BounceRateKeys", "integer", "100000", "1 to 10000000",
     "Clients and domains tracked at once by each rate limit (about 150 bytes each); the "
     "least recently seen is forgotten first.",
     &SetSize<&Config::bounce_rate_keys, 1, 10000000>, kNeedsRestart},
    {"RateLimitedBounces", "tempfail|accept", "tempfail", "",
     "A bounce over a rate limit: tempfail answers 451 4.7.1 (the sender retries later, so a "
     "real bounce is delayed, not lost); accept takes it without processing it.",
     &SetRateLimitedBounces},
};

constexpr std::size_t kKeyCount = sizeof kKeys / sizeof kKeys[0];

const ConfigKey* FindKey(std::string_view name, std::size_t* index) {
  for (std::size_t i = 0; i < kKeyCount; ++i) {
    if (EqualsIgnoreCase(kKeys[i].name, name)) {
      *index = i;
      return &kKeys[i];
    }
  }
  return nullptr;
}

// A reason may be sender-blamed or no-change, not both: the store would
// apply whichever it checks first.
std::optional<std::string> ReasonInBothLists(const Config& c) {
  for (const std::string& reason : c.sender_blamed_reasons) {
    if (std::find(c.no_change_reasons.begin(), c.no_change_reasons.end(), reason) !=
        c.no_change_reasons.end()) {
      return reason;
    }
  }
  return std::nullopt;
}

std::string_view OnReloadText(OnReload r) {
  switch (r) {
    case OnReload::kApplied: return "reloaded";
    case OnReload::kReopensStore: return "reloaded; the store is closed and opened again";
    case OnReload::kNeedsRestart: return "needs a restart";
  }
  return "?";
}

}  // namespace

std::string_view ErrorActionName(ErrorAction a) {
  switch (a) {
    case ErrorAction::kAccept: return "accept";
    case ErrorAction::kTempfail: return "tempfail";
    case ErrorAction::kReject: return "reject";
  }
  return "?";
}

std::string_view InboundActionName(InboundAction a) {
  switch (a) {
    case InboundAction::kAccept: return "accept";
    case InboundAction::kTag: return "tag";
    case InboundAction::kDiscard: return "discard";
  }
  return "?";
}

std::span<const ConfigKey> ConfigKeys() { return {kKeys, kKeyCount}; }

Config DefaultConfig() {
  Config c;
  c.raw_values.resize(kKeyCount);
  for (std::size_t i = 0; i < kKeyCount; ++i) {
    // A default that does not parse is a bug caught by config_test.
    (void)kKeys[i].set(c, kKeys[i].default_value);
    c.raw_values[i] = std::string(kKeys[i].default_value);
  }
  return c;
}

Result<std::shared_ptr<const Config>> LoadConfigString(std::string_view text,
                                                       std::string_view source_name) {
  auto config = std::make_shared<Config>(DefaultConfig());
  std::vector<int> line_of(kKeyCount, 0);  // 0 = not set in the file
  int line_number = 0;
  auto error = [&](const std::string& message) {
    return Status::InvalidArgument(std::string(source_name) + ":" +
                                   std::to_string(line_number) + ": " + message);
  };
  for (std::string_view line : SplitLines(text)) {
    ++line_number;
    std::string_view content = Trim(StripComment(line));
    if (content.empty()) continue;
    std::size_t blank = content.find_first_of(" \t");
    std::string_view name = content.substr(0, blank);
    std::string_view value =
        blank == std::string_view::npos ? std::string_view() : Trim(content.substr(blank));
    std::size_t index = 0;
    const ConfigKey* key = FindKey(name, &index);
    if (key == nullptr) return error("unknown key '" + std::string(name) + "'");
    if (line_of[index] != 0) return error("key '" + std::string(key->name) + "' set twice");
    line_of[index] = line_number;
    Status s = key->set(*config, value);
    if (!s.ok()) return error(std::string(key->name) + ": " + s.message());
    config->raw_values[index] = std::string(value);
  }
  if (std::optional<std::string> overlap = ReasonInBothLists(*config)) {
    std::size_t sender_blamed = 0, no_change = 0;
    FindKey("SenderBlamedReasons", &sender_blamed);
    FindKey("NoChangeReasons", &no_change);
    line_number = std::max(line_of[sender_blamed], line_of[no_change]);
    return error("reason '" + *overlap +
                 "' is in both SenderBlamedReasons and NoChangeReasons");
  }
  return std::shared_ptr<const Config>(std::move(config));
}

Result<std::shared_ptr<const Config>> LoadConfigFile(const std::string& path) {
  Result<std::string> text = ReadFileBounded(path, 1 * kMiB);
  if (!text.ok()) return text.status();
  return LoadConfigString(*text, path);
}

Result<std::shared_ptr<const Config>> LoadConfigFileOrDefaults(const std::string& path) {
  if (path.empty()) return std::shared_ptr<const Config>(std::make_shared<Config>(DefaultConfig()));
  return LoadConfigFile(path);
}

std::string ConfigFileToRead(const std::string& named) {
  if (!named.empty()) return named;
  std::error_code ec;
  return std::filesystem::exists(kDefaultConfigPath, ec) ? kDefaultConfigPath : "";
}

std::vector<std::string_view> ChangedKeys(const Config& a, const Config& b, OnReload kind) {
  std::vector<std::string_view> changed;
  for (std::size_t i = 0; i < kKeyCount; ++i) {
    if (kKeys[i].on_reload == kind && a.raw_values.at(i) != b.raw_values.at(i)) {
      changed.push_back(kKeys[i].name);
    }
  }
  return changed;
}

std::string ConfigKeysMarkdown() {
  std::string md;
  for (const ConfigKey& key : kKeys) {
    md += "### " + std::string(key.name) + "\n\n";
    md += "- Type: " + std::string(key.type) + "\n";
    md += "- Default: " +
          (key.default_value.empty() ? std::string("(empty)")
                                     : "`" + std::string(key.default_value) + "`") +
          "\n";
    if (!key.bounds.empty()) md += "- Bounds: " + std::string(key.bounds) + "\n";
    md += "- On SIGHUP: " + std::string(OnReloadText(key.on_reload)) + "\n\n";
    md += std::string(key.doc) + "\n\n";
  }
  return md;
}

std::string ConfigKeysCommented() {
  std::string out;
  for (const ConfigKey& key : kKeys) {
    out += "\n";
    std::string line = "#";
    std::string_view doc = key.doc;
    while (!doc.empty()) {
      std::size_t blank = doc.find(' ');
      std::string_view word = doc.substr(0, blank);
      if (line.size() + 1 + word.size() > 76) {
        out += line + "\n";
        line = "#";
      }
      line += " ";
      line += word;
      doc.remove_prefix(blank == std::string_view::npos ? doc.size() : blank + 1);
    }
    out += line + "\n";
    out += "#   default: " +
           (key.default_value.empty() ? std::string("(empty)") : std::string(key.default_value)) +
           (key.bounds.empty() ? "" : "; bounds: " + std::string(key.bounds)) + "\n";
    out += "# " + std::string(key.name) +
           (key.default_value.empty() ? "" : " " + std::string(key.default_value)) + "\n";
  }
  return out;
}

}  // namespace bm
