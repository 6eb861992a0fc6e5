// Rule: one compiled line of a rules file. A rule is a conjunction of
// conditions on the fields of a RuleInput and the classification it yields.
// Internal to rules/; built by the parser (rules/rule_parser.h).
//
// Thread safety: immutable once built; Matches() may run in many threads.
#ifndef BM_RULES_RULE_H_
#define BM_RULES_RULE_H_

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "rules/pattern.h"
#include "rules/rule_table.h"

namespace bm {

// The fields a condition may test, named as in the rules file.
enum class Field { kKind, kAction, kFormat, kFeedback, kCommand, kStatus, kCode, kMta, kDiag };

// nullptr-free lookups between the rules file's field words and Field.
std::optional<Field> FieldFromWord(std::string_view word);
std::string_view FieldWord(Field field);

// The rules file's words for report kinds ("dsn", "autoreply", "feedback",
// "notbounce"), the same words `bouncectl parse --json` prints.
std::optional<ReportKind> KindFromWord(std::string_view word);
std::string_view KindWord(ReportKind kind);

struct Condition {
  Field field;
  bool negated = false;  // `!~` / `!=`: the field must NOT match
  Pattern pattern;       // for kKind: globs of kind words, checked at load

  // Cheap conditions (exact fields, globs) are tested before regexes.
  int Cost() const;
};

// TrigramSets of the fields that regexes mostly test, built once per input.
struct InputGrams {
  explicit InputGrams(const RuleInput& input)
      : diagnostic(input.diagnostic), remote_mta(input.remote_mta) {}
  TrigramSet diagnostic;
  TrigramSet remote_mta;
};

struct Rule {
  std::string id;
  int line = 0;  // line of the rules file where the rule starts
  std::vector<Condition> conditions;  // all must hold; sorted by Cost()
  std::string reason;
  std::optional<BounceClass> bounce_class;  // unset: derived from the codes
  std::optional<bool> hard;                 // unset: from the reason's declaration

  // True when every condition holds. When explanation is not null it
  // receives "status 5.1.* matched \"5.1.1\", diag ~ /full/i matched \"full\"".
  // grams, when not null, holds the TrigramSets of the input's long fields
  // and lets regexes skip texts they cannot match.
  bool Matches(const RuleInput& input, std::string* explanation,
               const struct InputGrams* grams = nullptr) const;
};

}  // namespace bm

#endif  // BM_RULES_RULE_H_
