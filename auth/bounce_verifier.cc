#include "auth/bounce_verifier.h"

#include <algorithm>
#include <utility>

#include "common/ascii.h"

namespace bm {
namespace {

bool Names(const RecipientResult& r, std::string_view address) {
  return EqualsIgnoreCase(r.address, address) ||
         (!r.original_address.empty() && EqualsIgnoreCase(r.original_address, address));
}

bool Listed(const std::vector<std::string>& list, const RecipientResult& r) {
  return std::any_of(list.begin(), list.end(), [&](const std::string& a) { return Names(r, a); });
}

// The report's facts about the recipient a VERP tag names: its own entry when
// the report names it, else the first failed (or first) entry with the address
// replaced (a forwarded or rewritten recipient), else the bare address.
RecipientResult FactsFor(const std::string& recipient, const BounceReport& report) {
  const auto& all = report.recipients;
  auto it = std::find_if(all.begin(), all.end(),
                         [&](const RecipientResult& r) { return Names(r, recipient); });
  if (it == all.end()) {
    it = std::find_if(all.begin(), all.end(),
                      [](const RecipientResult& r) { return r.action == "failed"; });
  }
  if (it == all.end()) it = all.begin();
  RecipientResult facts;
  if (it != all.end()) facts = *it;
  if (!EqualsIgnoreCase(facts.address, recipient) && !facts.address.empty()) {
    facts.original_address = facts.address;
  }
  facts.address = recipient;
  return facts;
}

std::string DescribeTag(const DecodedReturnPath& d) {
  std::string s(ReturnPathFormName(d.form));
  s += " tag key=";
  s += d.key_id ? d.key_id : '-';
  s += " age=" + std::to_string(d.age_days) + "d";
  if (!d.recipient.empty()) s += " recipient=" + d.recipient;
  if (!d.original_sender.empty()) s += " sender=" + d.original_sender;
  return s;
}

const DecodedReturnPath* FirstIn(const EnvelopeCheck& env, TagState state) {
  for (const DecodedReturnPath& d : env.signed_addresses) {
    if (d.state == state) return &d;
  }
  return nullptr;
}

}  // namespace

std::string_view TrustName(Trust verdict) {
  switch (verdict) {
    case Trust::kVerified: return "verified";
    case Trust::kUnverified: return "unverified";
    case Trust::kForged: return "forged";
  }
  return "?";
}

std::string_view EvidenceName(Evidence evidence) {
  switch (evidence) {
    case Evidence::kVerpTag: return "verp-tag";
    case Evidence::kPerMessageTag: return "per-message-tag";
    case Evidence::kLedger: return "ledger";
    case Evidence::kExpiredTag: return "expired-tag";
    case Evidence::kBadTag: return "bad-tag";
    case Evidence::kNone: return "none";
  }
  return "?";
}

std::string_view DispositionName(Disposition disposition) {
  return disposition == Disposition::kRecord ? "record" : "log-only";
}

BounceVerifier::BounceVerifier(std::shared_ptr<const ReturnPathCodec> codec,
                               VerifierOptions options)
    : codec_(std::move(codec)), options_(options) {}

Disposition BounceVerifier::DispositionFor(Trust verdict) const {
  switch (verdict) {
    case Trust::kVerified: return Disposition::kRecord;
    case Trust::kUnverified: return options_.unverified;
    case Trust::kForged: return Disposition::kLogOnly;
  }
  return Disposition::kLogOnly;
}

EnvelopeCheck BounceVerifier::CheckEnvelope(const std::vector<std::string>& envelope_recipients,
                                            std::chrono::system_clock::time_point now) const {
  EnvelopeCheck out;
  bool per_message = false, forged = false, expired = false;
  if (codec_ == nullptr) return out;
  for (const std::string& address : envelope_recipients) {
    DecodedReturnPath d = codec_->Decode(address, now);
    if (d.form == ReturnPathForm::kNone) continue;
    if (d.state == TagState::kVerified && d.form == ReturnPathForm::kVerp) {
      bool seen = std::any_of(out.verp_recipients.begin(), out.verp_recipients.end(),
                              [&](const std::string& r) { return EqualsIgnoreCase(r, d.recipient); });
      if (!seen) out.verp_recipients.push_back(d.recipient);
    }
    per_message |= d.state == TagState::kVerified && d.form == ReturnPathForm::kPerMessage;
    forged |= d.state == TagState::kForged;
    expired |= d.state == TagState::kExpired;
    out.signed_addresses.push_back(std::move(d));
  }
  if (!out.verp_recipients.empty()) {
    out.verdict = Trust::kVerified;
    out.evidence = Evidence::kVerpTag;
  } else if (per_message) {
    out.verdict = Trust::kVerified;
    out.evidence = Evidence::kPerMessageTag;
  } else if (forged) {
    out.verdict = Trust::kForged;
    out.evidence = Evidence::kBadTag;
  } else if (expired) {
    out.evidence = Evidence::kExpiredTag;
  }
  return out;
}

Verification BounceVerifier::Verify(
    const EnvelopeCheck& envelope, const BounceReport& report,
    const std::optional<std::vector<std::string>>& ledger_recipients) const {
  Verification v;
  v.verdict = envelope.verdict;
  v.evidence = envelope.evidence;
  auto add = [&](RecipientResult facts, Trust verdict, Evidence evidence) {
    v.recipients.push_back({std::move(facts), verdict, evidence, DispositionFor(verdict)});
  };

  if (envelope.evidence == Evidence::kVerpTag) {
    // The tag names the recipient; other recipients in the report are not ours.
    for (const std::string& recipient : envelope.verp_recipients) {
      add(FactsFor(recipient, report), Trust::kVerified, Evidence::kVerpTag);
    }
    v.detail = DescribeTag(*FirstIn(envelope, TagState::kVerified));
    return v;
  }
  if (envelope.verdict == Trust::kForged) {
    for (const RecipientResult& r : report.recipients) add(r, Trust::kForged, Evidence::kBadTag);
    v.reject = options_.reject_forged;
    const DecodedReturnPath* bad = FirstIn(envelope, TagState::kForged);
    v.detail = "forged " + std::string(ReturnPathFormName(bad->form)) + " address: " + bad->detail;
    return v;
  }

  const bool tagged = envelope.evidence == Evidence::kPerMessageTag;
  std::size_t listed = 0;
  for (const RecipientResult& r : report.recipients) {
    if (ledger_recipients && Listed(*ledger_recipients, r)) {
      ++listed;
      add(r, Trust::kVerified, tagged ? Evidence::kPerMessageTag : Evidence::kLedger);
    } else if (tagged && !ledger_recipients && !options_.per_message_requires_ledger) {
      add(r, Trust::kVerified, Evidence::kPerMessageTag);
    } else {
      add(r, Trust::kUnverified, envelope.evidence);
    }
  }
  if (!tagged && listed > 0) {
    v.verdict = Trust::kVerified;
    v.evidence = Evidence::kLedger;
  }

  if (tagged) {
    v.detail = DescribeTag(*FirstIn(envelope, TagState::kVerified));
  } else if (const DecodedReturnPath* old = FirstIn(envelope, TagState::kExpired)) {
    v.detail = std::string(ReturnPathFormName(old->form)) + " tag expired: " + old->detail;
  } else {
    v.detail = "no return-path tag";
  }
  // The entry may have been found by the Message-ID or by a returned queue
  // id (SentLedger queue-id); the milter's log says which.
  if (ledger_recipients) {
    v.detail += "; ledger lists " + std::to_string(listed) + " of " +
                std::to_string(report.recipients.size()) + " recipient(s)";
  } else if (report.original.message_id.empty()) {
    v.detail += "; no Message-ID returned";
  } else {
    // Not "the Message-ID is not in the ledger": with SentLedger queue-id the
    // returned queue ids were looked up as well.
    v.detail += "; not in the ledger (Message-ID <" + report.original.message_id + ">)";
  }
  return v;
}

}  // namespace bm
