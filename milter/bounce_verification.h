// Bounce verification in the filter: signed return paths on outbound mail,
// the sent-message ledger, the trust policy and the rate limits on inbound
// bounces (issue 5; the mechanisms are in auth/, the threat model and the
// address forms in docs/security.md).
//
// The filter (milter/filter.cc) calls these at fixed points:
//   MAIL              MtaGeneratedMail: bounces the MTA generates itself
//                     (Postfix's own DSNs, through cleanup(8)) are never
//                     rate-limited: Postfix cannot take a refused recipient
//                     there, and they do not come from the network.
//   RCPT of a bounce  AdmitBounceRecipient: a recipient with a valid tag
//                     passes; otherwise the client's token bucket decides,
//                     once per message (451, or accept unprocessed, when empty).
//   DATA, outbound    OutboundAtData: with SentLedger queue-id, the ledger
//                     entry QUEUEID@HOST -> accepted recipients, and the
//                     message is accepted there (Postfix then skips the
//                     header stage), unless it is to be signed.
//   header            NoteHeader: the Message-ID of outbound mail, the From
//                     domain of a bounce (its claimed reporting domain).
//   EOH, outbound     OutboundEndOfHeaders: the ledger entry (Message-ID ->
//                     accepted recipients) unless SentLedger is no; mail to
//                     sign goes on to EOM, the only place the sender can be
//                     changed; other mail need not.
//   EOM, outbound     SignReturnPath: change the sender to the signed return path
//                     (SignSenders).
//   EOM, bounce       LimitBounceBeforeParse: the claimed domain's bucket,
//                     for bounces without a valid tag; then, after parsing,
//                     VerifyBounce: of the ledger entries its Message-ID and
//                     (SentLedger queue-id) returned Received queue ids find,
//                     the one that lists the most of the report's recipients;
//                     the recipients to record; the others are logged
//                     ("inbound-unverified", "inbound-forged"); a 550 for
//                     forged bounces with ForgedBounces reject.
//
// Thread safety: BounceRateLimits is shared by all connections and is
// thread-safe; the functions touch only the connection they are given.
#ifndef BM_MILTER_BOUNCE_VERIFICATION_H_
#define BM_MILTER_BOUNCE_VERIFICATION_H_

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "auth/bounce_verifier.h"
#include "auth/rate_limiter.h"
#include "common/status.h"
#include "milter/config.h"
#include "milter/mta_session.h"
#include "milter/reply.h"
#include "parser/bounce_report.h"

namespace bm {

struct ConnectionContext;
struct MessageContext;
class StoreAccess;

// The verifier of a configuration: the key file of ReturnPathKeys loaded
// (no codec when empty), the policy options from the other keys. Errors:
// those of Keyring::LoadFile (missing file, group/world-readable, bad line),
// as kInvalidArgument prefixed with "ReturnPathKeys: ".
Result<std::shared_ptr<const BounceVerifier>> LoadBounceVerifier(const Config& config);

// The per-client and per-claimed-domain token buckets of the daemon.
class BounceRateLimits {
 public:
  explicit BounceRateLimits(const Config& config);

  bool AdmitClient(std::string_view client, std::int64_t now);
  bool AdmitDomain(std::string_view domain, std::int64_t now);

 private:
  RateLimiter per_client_;
  RateLimiter per_domain_;
};

// True when the milter runs inside Postfix's cleanup(8) (non-SMTP mail:
// the MTA's own bounces, sendmail(1), pickup(8)), which already knows the
// queue id at MAIL FROM, unlike smtpd(8). REQUIRES: called at MAIL FROM.
bool MtaGeneratedMail(MtaSession& mta);

// The rate-limit key of a connection's client: an IPv4 address, the /64 of
// an IPv6 address, or "local" when the MTA gave none (Postfix presents its
// own bounces as 127.0.0.1, but those are not limited: MtaGeneratedMail).
std::string ClientKey(const ConnectionContext& c);

Verdict AdmitBounceRecipient(ConnectionContext& c, MtaSession& mta, BounceRateLimits& limits,
                             const std::string& recipient, std::int64_t now);
// An outbound recipient the MTA will deliver to (ledger, VERP); bounded.
void NoteAcceptedRecipient(MessageContext& m, const std::string& recipient,
                           std::size_t max_recipients);
void NoteHeader(MessageContext& m, std::string_view name, std::string_view value);
// True when the ledger entry of the message was recorded by queue id (macros
// {i} and {j}) and the message needs nothing more; false when it must go on
// (not outbound, a bounce, to be signed, SentLedger not queue-id, or a macro
// missing: then end of headers records the Message-ID entry, and the first
// message of the connection that lacks {i}, and the first that lacks {j},
// are logged).
bool OutboundAtData(ConnectionContext& c, MtaSession& mta, StoreAccess& store, std::int64_t now);
// True when the message must go on to end of message to be signed.
bool OutboundEndOfHeaders(ConnectionContext& c, MtaSession& mta, StoreAccess& store,
                          std::int64_t now);
void SignReturnPath(ConnectionContext& c, MtaSession& mta, std::int64_t now);

// nullopt: go on and parse; otherwise the verdict to answer with.
std::optional<Verdict> LimitBounceBeforeParse(ConnectionContext& c, MtaSession& mta,
                                              BounceRateLimits& limits, std::int64_t now);

struct TrustedReport {
  std::optional<Verdict> verdict;  // set: answer it (tempfail, reject), record nothing
  BounceReport report;             // the parsed report with only the recipients to record
};
TrustedReport VerifyBounce(ConnectionContext& c, MtaSession& mta, StoreAccess& store,
                           const BounceReport& report, std::int64_t now);

}  // namespace bm

#endif  // BM_MILTER_BOUNCE_VERIFICATION_H_
