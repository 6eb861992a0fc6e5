// Filter: what bounce-milter does at each step of an SMTP transaction.
//
// Inbound: a message with a null envelope sender, or addressed to one of the
// BounceAddresses, is collected (bounded by MaxMessageSize), parsed, classified
// and recorded at end of message; then accepted, tagged or discarded by kind.
// A bounce that cannot be recorded is answered TEMPFAIL so the MTA retries.
// Recipients of such a message are never refused (Postfix cannot take a
// refused recipient of its own DSN).
//
// With SentLedger queue-id, outbound mail that is not to be signed is
// recorded in the ledger and accepted at DATA, so Postfix need not pass its
// headers to the milter at all.
//
// Outbound: for mail from SMTP-authenticated senders, OutboundClients or
// OutboundDaemons, each recipient is looked up; a suppressed one is refused
// with the SuppressedReply (Mode enforce) or only logged (Mode monitor).
// Accepted recipients are counted per receiving domain. Mail that Postfix
// did not receive over SMTP (sendmail(1), pickup) cannot have a recipient
// refused: its suppressed recipients are removed at end of message instead,
// and when none is left the message is refused there.
//
// Handlers never throw on bad input; FilterConnection (filter_connection.h)
// catches anything else and applies On-InternalError.
//
// Thread safety: a Filter is shared by all connections; a ConnectionContext
// belongs to one connection, which is served on one thread at a time.
#ifndef BM_MILTER_FILTER_H_
#define BM_MILTER_FILTER_H_

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "milter/bounce_verification.h"
#include "milter/matchers.h"
#include "milter/mta_session.h"
#include "milter/policy.h"
#include "milter/reply.h"
#include "milter/store_access.h"

struct sockaddr;

namespace bm {

// State of one message; cleared at the start of each message and on abort.
struct MessageContext {
  std::string sender;           // bare envelope sender, "" for a null sender
  bool null_sender = false;
  bool to_bounce_address = false;  // a recipient matched BounceAddresses
  bool outbound = false;
  std::size_t recipients_seen = 0;
  std::map<std::string, std::uint64_t> accepted_per_domain;  // outbound counting
  std::string raw;              // collected headers + body of a bounce
  bool too_large = false;
  // Bounce verification (milter/bounce_verification.h).
  std::vector<std::string> recipients;  // accepted envelope recipients, <= MaxRecipients
  std::string message_id;   // outbound: Message-ID header, without <>
  std::string from_domain;  // bounce: domain of its From header (claimed reporting domain)
  bool client_admitted = false;  // a client rate-limit token was taken for this bounce
  bool rate_limited = false;     // over a limit with RateLimitedBounces accept
  bool mta_generated = false;    // injected by the MTA itself (Postfix cleanup): not limited
  // Postfix runs non_smtpd_milters for mail submitted with sendmail(1) or
  // pickup(8); it cannot take a refused recipient there ("can't reject
  // recipient in non-smtpd(8) submission"), so suppressed recipients of such
  // mail are removed at end of message instead.
  bool non_smtp = false;
  std::vector<std::string> recipients_to_remove;  // as the MTA passed them

  bool IsBounceCandidate() const { return null_sender || to_bounce_address; }
};

// State of one connection, from connect to close.
struct ConnectionContext {
  std::shared_ptr<const Policy> policy;  // snapshot taken at connect
  std::string client_host;
  std::optional<IpAddress> client_ip;
  bool outbound_client = false;  // client_ip in OutboundClients
  // ledger-queue-id-unavailable was logged for a missing {i} / {j}: the MTA
  // passes the same macros for every message of a connection, so once per
  // macro is enough (bounce_verification.h).
  bool queue_id_missing_i_logged = false;
  bool queue_id_missing_j_logged = false;
  MessageContext message;
};

class Filter {
 public:
  using Clock = std::function<std::int64_t()>;  // unix seconds

  // REQUIRES: policy and store outlive the filter.
  Filter(const PolicyHolder& policy, StoreAccess& store, Clock clock);

  std::unique_ptr<ConnectionContext> OnConnect(std::string_view hostname, const sockaddr* addr);
  Verdict OnEnvFrom(ConnectionContext& c, MtaSession& mta, std::string_view sender);
  Verdict OnEnvRcpt(ConnectionContext& c, MtaSession& mta, std::string_view recipient);
  // Called only on connections that negotiated the DATA step (WantsDataStep).
  Verdict OnData(ConnectionContext& c, MtaSession& mta);
  Verdict OnHeader(ConnectionContext& c, std::string_view name, std::string_view value);
  Verdict OnEndOfHeaders(ConnectionContext& c, MtaSession& mta);
  Verdict OnBody(ConnectionContext& c, MtaSession& mta, std::string_view chunk);
  Verdict OnEndOfMessage(ConnectionContext& c, MtaSession& mta);
  void OnAbort(ConnectionContext& c);

  // The steps whose handlers may wait, for MayWait().
  enum class Step { kEnvRcpt, kData, kEndOfHeaders, kBody, kEndOfMessage };
  // Whether the handler of `step` may wait rather than only compute, so
  // that the milter server runs it off its event loop
  // (PacketHandler::MayBlock): the body and end of message of a bounce
  // candidate (its body is collected, up to MaxMessageSize; its end parses,
  // classifies, may flush the ledger and waits for the durable store
  // write), and any of these steps while the store may have to be opened
  // (StoreAccess::MayWait: its lock is held across the open). Otherwise
  // they only read the store (a lookup, or the ledger's and counters'
  // queues, which take no lock held across I/O). The other handlers use no
  // store and no lock held across I/O: connect, MAIL (macros), headers
  // (bounded copies), abort; the rate limits and the policy are in memory.
  // Not counted as waiting: a store read that faults in a page from disk
  // (a store larger than memory without the lookup index), a map resize
  // (milliseconds), the log.
  bool MayWait(Step step, const ConnectionContext* c) const;

  // Whether a connection negotiated now should include the DATA step: only
  // SentLedger queue-id uses it, and the default configuration keeps the
  // protocol without it (one round trip less per message).
  bool WantsDataStep() const;

  // The verdict for an internal error (On-InternalError of the connection's
  // snapshot, or of the current policy when there is no connection yet).
  Verdict InternalErrorVerdict(const ConnectionContext* c) const;

 private:
  Verdict CheckRecipient(ConnectionContext& c, MtaSession& mta, const std::string& recipient,
                         std::string_view as_given);
  // End of message of non-SMTP mail with suppressed recipients.
  Verdict RemoveSuppressed(ConnectionContext& c, MtaSession& mta);
  Verdict IngestBounce(ConnectionContext& c, MtaSession& mta);
  // Counts the accepted outbound recipients of the message (once).
  void CountOutbound(ConnectionContext& c);
  void Append(ConnectionContext& c, std::string_view bytes);

  const PolicyHolder& policy_;
  StoreAccess& store_;
  Clock clock_;
  BounceRateLimits bounce_limits_;  // sized from the configuration at start-up
};

}  // namespace bm

#endif  // BM_MILTER_FILTER_H_
