// Pattern: one compiled test on a text field of a bounce, either a list of
// shell-style globs ("5.1.*,5.2.2", "55?") or a PCRE2 regular expression
// compiled with JIT ("/mailbox (is )?full/i").
//
// Thread safety: a Pattern is immutable after construction; Matches() may be
// called from any number of threads at once (match data is per thread).
// Matching is bounded: a regex that exceeds the PCRE2 match limit counts as
// not matching.
#ifndef BM_RULES_PATTERN_H_
#define BM_RULES_PATTERN_H_

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"
#include "rules/literal_prefilter.h"

// pcre2_code_8, without pulling pcre2.h into every includer.
struct pcre2_real_code_8;

namespace bm {

class Pattern {
 public:
  // Comma-separated globs; `*` matches any run of characters, `?` one
  // character; the word `none` matches an empty field. Case-insensitive.
  // Errors: kInvalidArgument for an empty alternative.
  static Result<Pattern> Glob(std::string_view list);
  // A PCRE2 pattern with flags from "i" (caseless, ASCII letters) and "x"
  // (extended). Compiled in byte mode: any bytes match, UTF-8 text in a
  // pattern matches the same bytes.
  // Errors: kInvalidArgument with PCRE2's message and the offset in the pattern.
  static Result<Pattern> Regex(std::string_view source, std::string_view flags);

  Pattern(Pattern&&) noexcept;
  Pattern& operator=(Pattern&&) noexcept;
  ~Pattern();

  // True when text matches. When matched is not null it receives the part of
  // text that matched (the whole field for globs). When grams is not null it
  // must be the TrigramSet of text; a regex whose required literals cannot
  // occur in text is then not run at all.
  bool Matches(std::string_view text, std::string_view* matched = nullptr,
               const TrigramSet* grams = nullptr) const;

  // The pattern as written in a rules file: "5.1.*,5.2.2" or "/full/i".
  const std::string& source() const { return source_; }
  bool is_regex() const { return code_ != nullptr; }

 private:
  struct CodeDeleter {
    void operator()(pcre2_real_code_8* code) const;
  };
  Pattern() = default;

  std::string source_;
  std::vector<std::string> globs_;  // lower case
  std::unique_ptr<pcre2_real_code_8, CodeDeleter> code_;
  bool jit_ = false;
  // Literals one of which every match contains (see literal_prefilter.h);
  // empty when none could be derived and the regex must always run.
  std::vector<RequiredLiteral> literals_;
};

}  // namespace bm

#endif  // BM_RULES_PATTERN_H_
