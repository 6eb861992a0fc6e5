#include "rules/reason_vocabulary.h"

#include <algorithm>
#include <utility>

namespace bm {

ReasonVocabulary ReasonVocabulary::BuiltIn() {
  // The reason words of the bounce corpus (shared/corpus/reasons.txt) and the
  // pseudo status details that Sisimai derives from them, so that a report
  // without a status code carries the same "X.0.9NN" a Sisimai user expects.
  static constexpr struct {
    const char* name;
    int pseudo;
  } kWords[] = {
      {"authfailure", 975},    {"badreputation", 977}, {"blocked", 971},
      {"contenterror", 960},   {"delivered", 0},       {"exceedlimit", 923},
      {"expired", 947},        {"failedstarttls", 976}, {"feedback", 0},
      {"filtered", 910},       {"hasmoved", 916},      {"hostunknown", 912},
      {"mailboxfull", 922},    {"mailererror", 939},   {"mesgtoobig", 934},
      {"networkerror", 944},   {"norelaying", 909},    {"notaccept", 932},
      {"notcompliantrfc", 974}, {"onhold", 901},       {"policyviolation", 972},
      {"rejected", 918},       {"requireptr", 973},    {"securityerror", 970},
      {"spamdetected", 980},   {"speeding", 942},      {"suppressed", 0},
      {"suspend", 921},        {"syntaxerror", 902},   {"systemerror", 930},
      {"systemfull", 931},     {"toomanyconn", 945},   {"undefined", 900},
      {"userunknown", 911},    {"vacation", 0},        {"virusdetected", 981},
  };
  ReasonVocabulary v;
  for (const auto& w : kWords) v.words_.push_back({w.name, w.pseudo, HardWhen::kNever});
  return v;
}

const ReasonInfo* ReasonVocabulary::Find(std::string_view name) const {
  auto it = std::find_if(words_.begin(), words_.end(),
                         [name](const ReasonInfo& r) { return r.name == name; });
  return it == words_.end() ? nullptr : &*it;
}

ReasonInfo* ReasonVocabulary::FindMutable(std::string_view name) {
  return const_cast<ReasonInfo*>(std::as_const(*this).Find(name));
}

void ReasonVocabulary::Add(ReasonInfo info) { words_.push_back(std::move(info)); }

bool ReasonVocabulary::IsHard(std::string_view reason, BounceClass bounce_class) const {
  const ReasonInfo* info = Find(reason);
  if (info == nullptr) return false;
  switch (info->hard) {
    case HardWhen::kAlways:
      return true;
    case HardWhen::kPermanent:
      return bounce_class == BounceClass::kPermanent;
    case HardWhen::kNever:
      return false;
  }
  return false;
}

std::string ReasonVocabulary::PseudoStatus(std::string_view reason,
                                           BounceClass bounce_class) const {
  const ReasonInfo* info = Find(reason);
  if (info == nullptr || info->pseudo == 0) return "";
  return std::string(bounce_class == BounceClass::kPermanent ? "5" : "4") + ".0." +
         std::to_string(info->pseudo);
}

}  // namespace bm
