// ParseRules: the text of a rules file -> compiled rules and the reason
// vocabulary they use. The format is documented in docs/rules.md.
//
// All or nothing: the first error stops parsing and is returned as
// "source:line: message"; no partial result exists.
#ifndef BM_RULES_RULE_PARSER_H_
#define BM_RULES_RULE_PARSER_H_

#include <cstddef>
#include <string_view>
#include <vector>

#include "common/status.h"
#include "rules/reason_vocabulary.h"
#include "rules/rule.h"

namespace bm {

// Bounds on what a rules file may make the loader do.
struct RulesLimits {
  std::size_t max_file_bytes = 4 * 1024 * 1024;
  std::size_t max_line_bytes = 8192;  // one physical line
  std::size_t max_rules = 20000;
  std::size_t max_conditions = 16;  // per rule
  std::size_t max_id_bytes = 64;
};

struct RuleSet {
  std::vector<Rule> rules;  // in file order
  ReasonVocabulary vocabulary;
};

// Errors: kInvalidArgument "source:line: message"; kLimitExceeded when a
// RulesLimits bound is exceeded (also with source:line).
Result<RuleSet> ParseRules(std::string_view text, std::string_view source,
                           const RulesLimits& limits = {});

}  // namespace bm

#endif  // BM_RULES_RULE_PARSER_H_
