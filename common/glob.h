// Shell-style glob over a whole string: `*` matches any run of characters
// (none included), `?` exactly one, every other character itself, ASCII
// case-insensitively. Used by the rule table's `host`/`status` globs and the
// milter's address lists ("bounces+*@example.com").
//
// Iterative with single-star backtracking: never recursive and linear in
// practice, so a hostile pattern or text cannot blow the stack.
#ifndef BM_COMMON_GLOB_H_
#define BM_COMMON_GLOB_H_

#include <string_view>

namespace bm {

bool GlobMatch(std::string_view pattern, std::string_view text);

}  // namespace bm

#endif  // BM_COMMON_GLOB_H_
