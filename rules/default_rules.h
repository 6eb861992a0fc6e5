// The text of rules/default.rules, embedded at build time (see
// rules/CMakeLists.txt and embed_rules.cmake). Used by RuleTable::Default().
#ifndef BM_RULES_DEFAULT_RULES_H_
#define BM_RULES_DEFAULT_RULES_H_

#include <string_view>

namespace bm {

std::string_view DefaultRulesText();

}  // namespace bm

#endif  // BM_RULES_DEFAULT_RULES_H_
