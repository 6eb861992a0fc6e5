// BounceVerifier: does an inbound bounce answer mail we really sent?
//
// The policy as a pure computation, called by the milter in two steps:
//
//  1. CheckEnvelope() with the envelope recipients of the inbound bounce
//     (cheap, before the body is parsed): a valid return-path tag makes the
//     bounce verified (the milter then skips the rate limits), a signed-looking
//     address with a bad tag makes it forged.
//  2. Verify() with the parsed report and the sent-message ledger's answer
//     for the report's original Message-ID: the verdict for each recipient and
//     what to do with it.
//
// Verdicts, per recipient of the report:
//   verified    a fresh VERP tag names the recipient (authoritative: it
//               replaces whatever the report names, which also covers reports
//               that name no recipient); or a fresh per-message tag, and the
//               ledger lists the recipient for the returned Message-ID (or the
//               ledger has no entry and per_message_requires_ledger is false);
//               or no valid tag, and the ledger lists the recipient.
//   forged      a recipient address of the bounce looks signed but the tag is
//               malformed, made with an unknown key, or wrong, and no envelope
//               recipient verified. Never recorded, whatever the ledger says.
//   unverified  everything else (no tag, expired tag, recipient not in the
//               ledger entry, no ledger entry).
//
// Dispositions: verified -> kRecord; unverified -> options.unverified
// (default kLogOnly); forged -> kLogOnly, and the whole message is refused at
// end of data when options.reject_forged.
//
// Thread safety: immutable; call from any number of threads.
#ifndef BM_AUTH_BOUNCE_VERIFIER_H_
#define BM_AUTH_BOUNCE_VERIFIER_H_

#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "auth/return_path.h"
#include "parser/bounce_report.h"

namespace bm {

// The verdict on a bounce, or on one recipient it names.
enum class Trust { kVerified, kUnverified, kForged };
// How a verdict was reached.
enum class Evidence { kVerpTag, kPerMessageTag, kLedger, kExpiredTag, kBadTag, kNone };
enum class Disposition {
  kRecord,   // act fully: record the bounce in the store
  kLogOnly,  // log it, leave the store alone
};

// "verified", "unverified", "forged" / "verp-tag", "per-message-tag", "ledger",
// "expired-tag", "bad-tag", "none" / "record", "log-only".
std::string_view TrustName(Trust verdict);
std::string_view EvidenceName(Evidence evidence);
std::string_view DispositionName(Disposition disposition);

struct VerifierOptions {
  // Unverified recipients: kLogOnly (default: log, do not suppress), or
  // kRecord (act on them as bounce processing did before signing; for a
  // transition period while old unsigned mail still bounces).
  Disposition unverified = Disposition::kLogOnly;
  // Forged bounces are never recorded; when true they are also refused at
  // end of data (a 5xx to the sending client): that keeps them out of
  // mailboxes, but tells a prober that a tag was bad (a discard would not).
  bool reject_forged = false;
  // A per-message tag proves a bounce answers our mail, not which recipient
  // failed. When the report's Message-ID has no ledger entry (not returned,
  // entry expired), its recipients are verified (false, default) or
  // unverified (true).
  bool per_message_requires_ledger = false;
};

// What the envelope recipients of an inbound bounce say, before parsing.
struct EnvelopeCheck {
  Trust verdict = Trust::kUnverified;  // verified: a fresh tag; forged: only bad tags
  Evidence evidence = Evidence::kNone;
  std::vector<std::string> verp_recipients;  // authoritative, from verified VERP tags
  std::vector<DecodedReturnPath> signed_addresses;  // each recipient that looked signed
};

struct VerifiedRecipient {
  RecipientResult facts;  // facts.address is the authoritative recipient
  Trust verdict = Trust::kUnverified;
  Evidence evidence = Evidence::kNone;
  Disposition disposition = Disposition::kLogOnly;
};

struct Verification {
  // The bounce as a whole: verified when a tag verified (it answers our mail)
  // or the ledger confirmed a recipient; forged when only bad tags were found.
  Trust verdict = Trust::kUnverified;
  Evidence evidence = Evidence::kNone;
  bool reject = false;  // refuse the message at end of data
  std::vector<VerifiedRecipient> recipients;
  std::string detail;  // one line for the log, e.g. "verp tag key=b age=2d"
};

class BounceVerifier {
 public:
  // A null codec means no keys are configured: no address is signed, so every
  // envelope recipient counts as not signed and only the ledger can verify.
  BounceVerifier(std::shared_ptr<const ReturnPathCodec> codec, VerifierOptions options);

  EnvelopeCheck CheckEnvelope(const std::vector<std::string>& envelope_recipients,
                              std::chrono::system_clock::time_point now) const;

  // `ledger_recipients`: the recipients the ledger recorded for
  // report.original.message_id, or nullopt when it has no entry (or the
  // report returned no Message-ID).
  Verification Verify(const EnvelopeCheck& envelope, const BounceReport& report,
                      const std::optional<std::vector<std::string>>& ledger_recipients) const;

  const VerifierOptions& options() const { return options_; }
  // The codec, or nullptr when no keys are configured.
  const ReturnPathCodec* codec() const { return codec_.get(); }

 private:
  Disposition DispositionFor(Trust verdict) const;

  std::shared_ptr<const ReturnPathCodec> codec_;
  VerifierOptions options_;
};

}  // namespace bm

#endif  // BM_AUTH_BOUNCE_VERIFIER_H_
