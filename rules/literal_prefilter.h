// Literal prefilter: a cheap necessary condition for a regex to match, so
// that a table of hundreds of diagnostic regexes does not run them all.
//
// From a regex source, RequiredLiterals() derives a set of literals of
// which every match contains at least one: for each top-level alternative
// its most selective necessary part, a run of literal bytes or a group,
// with small groups, classes and optional parts spelled out ("(user|
// recipient) (is )?unknown" needs "user unknown", "user is unknown",
// "recipient unknown" or "recipient is unknown"). A subject can then match
// only if one of those literals occurs in it; TrigramSet answers "may it
// occur?" with a bitmap of the subject's hashed 3-byte windows (false
// positives possible, false negatives not). Everything is compared in ASCII lower case, which keeps
// the condition necessary for caseless and case-sensitive regexes alike
// (patterns are compiled in byte mode, where caseless folds ASCII only).
//
// Thread safety: plain values; a TrigramSet is built per classification.
#ifndef BM_RULES_LITERAL_PREFILTER_H_
#define BM_RULES_LITERAL_PREFILTER_H_

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace bm {

// The trigram hashes of one required literal (a subset is enough: each is a
// necessary condition on its own).
struct RequiredLiteral {
  std::string text;  // lower case, for tests and explanations
  std::vector<uint16_t> trigrams;
};

// The literals, one of which every match contains; nullopt when some
// top-level alternative needs no literal of at least 3 bytes or the syntax is
// beyond this simple reader (the regex then always runs). Parts of the regex
// it does not understand count as unknown text. REQUIRES: source compiles as
// a PCRE2 regex.
std::optional<std::vector<RequiredLiteral>> RequiredLiterals(std::string_view source,
                                                             std::string_view flags);

class TrigramSet {
 public:
  explicit TrigramSet(std::string_view subject);
  // False only when the literal certainly does not occur in the subject.
  bool MayContain(const RequiredLiteral& literal) const;

 private:
  static constexpr int kBits = 4096;
  std::array<uint64_t, kBits / 64> bits_{};
};

}  // namespace bm

#endif  // BM_RULES_LITERAL_PREFILTER_H_
