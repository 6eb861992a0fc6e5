// ReasonVocabulary: the words a rule may yield as a reason, with what each
// implies for the hard flag and for the pseudo status code used when a
// bounce carries no enhanced status code.
//
// The built-in words are those of the bounce corpus (reasons.txt); a rules
// file may add words and change the properties of any word with a `reason`
// line (docs/rules.md). Plain data; copyable; not thread-safe while being
// modified, immutable once a RuleTable owns it.
#ifndef BM_RULES_REASON_VOCABULARY_H_
#define BM_RULES_REASON_VOCABULARY_H_

#include <string>
#include <string_view>
#include <vector>

#include "rules/rule_table.h"

namespace bm {

// When a reason makes the address itself undeliverable.
enum class HardWhen {
  kNever,      // soft: the address may work later (mailbox full, blocked, ...)
  kAlways,     // hard whatever the class (user unknown, even with a 4.x.x)
  kPermanent,  // hard only when the classification is permanent
};

struct ReasonInfo {
  std::string name;
  // Pseudo status detail 900..999: "5.0.<pseudo>" or "4.0.<pseudo>" is
  // reported when the bounce has no status. 0: report no status at all
  // (auto-replies, feedback reports, successful deliveries).
  int pseudo = 0;
  HardWhen hard = HardWhen::kNever;
};

class ReasonVocabulary {
 public:
  // The built-in words, all soft (hardness comes from the rules file).
  static ReasonVocabulary BuiltIn();

  // nullptr when the word is unknown.
  const ReasonInfo* Find(std::string_view name) const;
  ReasonInfo* FindMutable(std::string_view name);
  // REQUIRES: Find(info.name) == nullptr.
  void Add(ReasonInfo info);

  // hard flag for a reason in a class. Unknown reasons are soft.
  bool IsHard(std::string_view reason, BounceClass bounce_class) const;
  // "5.0.911" for userunknown/permanent; "" when the reason has no pseudo code.
  std::string PseudoStatus(std::string_view reason, BounceClass bounce_class) const;

  const std::vector<ReasonInfo>& words() const { return words_; }

 private:
  std::vector<ReasonInfo> words_;
};

}  // namespace bm

#endif  // BM_RULES_REASON_VOCABULARY_H_
