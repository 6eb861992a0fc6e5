// The classification applied when no rule of a table matches, and the class
// implied by a recipient's codes. Documented in docs/rules.md ("FALLBACK").
#ifndef BM_RULES_FALLBACK_H_
#define BM_RULES_FALLBACK_H_

#include <string_view>

#include "rules/rule_table.h"

namespace bm {

// The class the codes imply: the enhanced status class (5.x.x permanent,
// 4.x.x transient), else the reply code class (5yz, 4yz), else transient for
// action "delayed", else permanent (a report of failure with no codes).
BounceClass ClassFromCodes(const RuleInput& input);

struct Fallback {
  std::string_view reason;
  BounceClass bounce_class;
  std::string_view rule_id;  // "fallback-..."
  std::string_view why;      // for Classification::explanation
};

// In order: auto-reply -> vacation; feedback report -> feedback; 2.x.x status
// or action delivered/relayed/expanded -> delivered; any status, reply code
// or diagnostic -> onhold; nothing at all -> undefined.
Fallback ClassifyFallback(const RuleInput& input);

}  // namespace bm

#endif  // BM_RULES_FALLBACK_H_
