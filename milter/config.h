// Config: the daemon's settings, loaded from an OpenDKIM-style file.
//
// File format: one `Key value` per line; the key is case-insensitive, the
// value is the rest of the line with surrounding blanks removed; `#` starts a
// comment at the beginning of a line or after a blank; empty lines are
// ignored. List values are separated by commas and/or blanks. Every key, its
// type, default, bounds and meaning is declared exactly once, in the key table
// (ConfigKeys()); the loader, `bounce-milter -d` and docs/bounce-milter.conf.md
// all come from that table.
//
// Loading is all-or-nothing: the first bad line rejects the whole file with
// "file:line: message". Checks that involve two keys (a reason listed both
// as sender-blamed and as no-change) name the line of the later one. A
// loaded Config is immutable; the daemon shares it between threads as
// std::shared_ptr<const Config>.
#ifndef BM_MILTER_CONFIG_H_
#define BM_MILTER_CONFIG_H_

#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"
#include "milter/matchers.h"

namespace bm {

// The highest MaxConnections: the store's reader table is sized for it
// (milter/config_store.h).
inline constexpr std::size_t kMaxConnectionsLimit = 1000;

enum class Mode { kEnforce, kMonitor };
// What to answer when something goes wrong (OpenDKIM's On-* actions).
enum class ErrorAction { kAccept, kTempfail, kReject };
// What to do with an inbound bounce after it has been recorded.
enum class InboundAction { kAccept, kTag, kDiscard };
enum class LogFormat { kText, kJson };

std::string_view ErrorActionName(ErrorAction a);
std::string_view InboundActionName(InboundAction a);

// Field defaults live in the key table, not here: a Config obtained from
// DefaultConfig() or LoadConfig*() has every field set from it.
// The key of the sent-message ledger (SentLedger; docs/security.md).
enum class SentLedger {
  kNo,
  kMessageId,  // Message-ID -> recipients, recorded at end of headers
  kQueueId,    // QUEUEID@HOST -> recipients, recorded at DATA (mail accepted there)
};

struct Config {
  std::string socket;
  std::string user_id;       // "user" or "user:group"; empty = keep the current user
  std::string socket_owner;  // owner of a unix socket; empty = UserID's user
  std::uint32_t socket_mode = 0;
  std::string pid_file;
  std::string store_path;
  // The store's bounce policy and record options (store/policy.h,
  // store/store.h); StoreOptionsFromConfig() (milter/config_store.h) hands
  // them to the store, in the daemon and in bouncectl alike.
  int soft_bounce_threshold = 0;
  int soft_bounce_window_days = 0;
  int temporary_suppression_days = 0;
  bool suppress_on_complaint = true;
  std::vector<std::string> sender_blamed_reasons;
  std::vector<std::string> no_change_reasons;
  int domain_hostunknown_threshold = 0;
  bool fold_local_part_case = true;
  int event_retention_days = 0;  // 0 keeps every event
  std::size_t max_diagnostic_bytes = 0;
  std::string rules_file;  // empty = the embedded default rules
  Mode mode = Mode::kEnforce;
  ErrorAction on_store_error = ErrorAction::kTempfail;
  ErrorAction on_internal_error = ErrorAction::kAccept;
  int store_retry_seconds = 0;
  // The daemon's lookup index (StoreOptions::lookup_index); not bouncectl's.
  bool lookup_index = true;
  std::size_t lookup_index_max_addresses = 0;

  std::size_t max_message_size = 0;
  std::size_t max_recipients = 0;
  int max_mime_depth = 0;
  int max_mime_parts = 0;
  int milter_timeout = 0;
  int listen_backlog = 0;
  std::size_t max_connections = 0;  // 1..kMaxConnectionsLimit

  std::string log_level;
  std::string log_target;  // stderr | syslog | file:/path
  LogFormat log_format = LogFormat::kText;

  std::vector<std::string> bounce_addresses;  // glob patterns: bounces+*@example.com
  InboundAction inbound_dsn = InboundAction::kTag;
  InboundAction inbound_autoreply = InboundAction::kAccept;
  InboundAction inbound_feedback = InboundAction::kTag;
  InboundAction inbound_not_bounce = InboundAction::kAccept;

  std::vector<NetRange> outbound_clients;
  std::vector<std::string> outbound_daemons;
  bool outbound_authenticated = true;

  std::string suppressed_reply;            // template: {address} {reason} {since} {until}
  int temporary_suppression_class = 4;     // 4 -> 450 4.2.1, 5 -> 550 5.2.1

  // Signed return paths, sent-message ledger, bounce trust and rate limits
  // (milter/bounce_verification.h, docs/security.md).
  std::string return_path_keys;           // key file; empty = no signing, no tags
  std::vector<std::string> sign_senders;  // glob patterns of envelope senders to sign
  std::string return_path_prefix;
  std::string return_path_domain;         // empty = the sender's domain
  int return_path_max_age = 0;            // days
  SentLedger sent_ledger = SentLedger::kMessageId;
  int sent_ledger_days = 0;
  bool record_unverified = false;         // UnverifiedBounces record
  bool reject_forged = false;             // ForgedBounces reject
  bool per_message_requires_ledger = false;
  int client_bounce_rate = 0;             // per minute
  int client_bounce_burst = 0;
  int domain_bounce_rate = 0;             // per minute
  int domain_bounce_burst = 0;
  std::size_t bounce_rate_keys = 0;
  bool rate_limit_tempfail = true;        // RateLimitedBounces tempfail (else accept)

  // The value text each key was last set from (defaults included), indexed
  // like ConfigKeys(); lets a reload tell which keys changed.
  std::vector<std::string> raw_values;
};

// What a changed value does on SIGHUP.
enum class OnReload {
  kApplied,        // takes effect for new connections
  kReopensStore,   // the daemon closes the store and opens it with the new value
  kNeedsRestart,   // logged; takes effect at the next start
};

// One entry of the key table.
struct ConfigKey {
  std::string_view name;           // as written in the file and the docs
  std::string_view type;           // "string", "size", "integer", "yes|no", "a|b|c", "list", ...
  std::string_view default_value;  // as written in a config file; "" = empty
  std::string_view bounds;         // human-readable bounds, "" when any value of the type goes
  std::string_view doc;            // one paragraph
  // Parses value into config; errors are a message without file:line.
  Status (*set)(Config& config, std::string_view value);
  OnReload on_reload = OnReload::kApplied;
};

std::span<const ConfigKey> ConfigKeys();

// Every key at its default.
Config DefaultConfig();

// The file the daemon and bouncectl read when none is named.
inline constexpr const char* kDefaultConfigPath = "/etc/bounce-milter.conf";

// The configuration file to read: `named` when not empty, else
// kDefaultConfigPath when it exists, else "" (the built-in defaults).
std::string ConfigFileToRead(const std::string& named);

// Parses config text; source_name is used in "name:line: message" errors.
Result<std::shared_ptr<const Config>> LoadConfigString(std::string_view text,
                                                       std::string_view source_name);
// Reads (bounded, 1 MiB) and parses a file. Errors: kNotFound, kIOError,
// kInvalidArgument ("path:line: message").
Result<std::shared_ptr<const Config>> LoadConfigFile(const std::string& path);
// LoadConfigFile(path), or DefaultConfig() when path is empty.
Result<std::shared_ptr<const Config>> LoadConfigFileOrDefaults(const std::string& path);

// Names of the keys of kind `kind` whose value differs between a and b (for
// the reload: which changes need a restart, whether to reopen the store).
std::vector<std::string_view> ChangedKeys(const Config& a, const Config& b, OnReload kind);

// Markdown for docs/bounce-milter.conf.md's key section, from the table.
std::string ConfigKeysMarkdown();

// Every key as a commented-out "# Key default" line under its description,
// wrapped at 76 columns: the body of contrib/bounce-milter.conf.
std::string ConfigKeysCommented();

}  // namespace bm

#endif  // BM_MILTER_CONFIG_H_
