#include "rules/literal_prefilter.h"

#include <algorithm>
#include <cstring>
#include <limits>
#include <tuple>

#include "common/ascii.h"

namespace bm {
namespace {

constexpr std::size_t kMinLiteral = 3;
constexpr std::size_t kMaxTrigramsPerLiteral = 6;
// How many strings a part of a regex may be spelled out into ("(is )?full"
// is "full" or "is full"); a part with more is only used as a set of
// literals of its own, which is less selective but still necessary.
constexpr std::size_t kMaxSpelled = 16;

using Strings = std::vector<std::string>;

unsigned char Lower(char c) { return static_cast<unsigned char>(LowerAscii(c)); }

uint16_t TrigramHash(unsigned char a, unsigned char b, unsigned char c) {
  uint32_t v = (uint32_t{a} | uint32_t{b} << 8 | uint32_t{c} << 16) * 2654435761u;
  return static_cast<uint16_t>(v >> 20);  // 12 bits: 0..4095
}

void SortUnique(Strings* s) {
  std::sort(s->begin(), s->end());
  s->erase(std::unique(s->begin(), s->end()), s->end());
}

// What a regex, or a part of it, says about the text it matches (in lower
// case). Either may be unknown; both are necessary conditions only.
struct Knowledge {
  std::optional<Strings> whole;     // every match is one of these strings
  std::optional<Strings> required;  // every match contains one of these (each >= kMinLiteral)
};

// How often a quantifier lets the atom before it occur.
enum class Repeat {
  kOnce,
  kOptional /* ? */,
  kAnyCount /* *, {0,n} */,
  kAtLeastOnce /* +, {n,} */
};

// Reads an alternation (a whole regex, or the inside of a group) and derives
// its Knowledge. Groups are read recursively; anything it does not fully
// understand is treated as matching unknown text, and syntax it cannot even
// delimit makes it give up, which only costs speed.
class AlternationReader {
 public:
  explicit AlternationReader(std::string_view re) : re_(re) {}

  // nullopt when the syntax is beyond this reader.
  std::optional<Knowledge> Read() {
    std::optional<Strings> whole = Strings{};
    std::optional<Strings> required = Strings{};
    while (true) {
      Knowledge alternative = ReadSequence();
      if (!ok_) return std::nullopt;
      if (whole && alternative.whole && whole->size() + alternative.whole->size() <= kMaxSpelled) {
        whole->insert(whole->end(), alternative.whole->begin(), alternative.whole->end());
      } else {
        whole.reset();
      }
      if (required && alternative.required) {
        required->insert(required->end(), alternative.required->begin(),
                         alternative.required->end());
      } else {
        required.reset();
      }
      if (pos_ >= re_.size()) break;
      ++pos_;  // '|'
    }
    if (whole) SortUnique(&*whole);
    if (required) SortUnique(&*required);
    return Knowledge{std::move(whole), std::move(required)};
  }

 private:
  // One alternative, up to the next '|' of this level or the end.
  Knowledge ReadSequence() {
    run_ = {""};
    tail_.clear();
    exact_ = true;
    best_.reset();
    while (pos_ < re_.size() && ok_ && re_[pos_] != '|') {
      char c = re_[pos_];
      if (c == '(') {
        ReadGroup();
      } else if (c == '[') {
        ReadClass();
      } else if (c == '\\') {
        ReadEscape();
      } else if (c == '.' || c == '^' || c == '$') {
        ++pos_;
        Break();
        ReadRepeat();
      } else if (c == ')' || c == '{' || c == '*' || c == '+' || c == '?') {
        ok_ = false;  // stray metacharacter: leave it to PCRE2
      } else {
        ++pos_;
        Atom(Strings{std::string(1, static_cast<char>(Lower(c)))});
      }
    }
    Knowledge k;
    if (exact_) k.whole = run_;
    Break();
    k.required = best_;
    return k;
  }

  // An atom that matches one of `strings`, followed by its quantifier.
  void Atom(const Strings& strings) {
    switch (ReadRepeat()) {
      case Repeat::kOnce:
        Append(strings);
        break;
      case Repeat::kOptional: {
        Strings maybe = strings;
        maybe.push_back("");
        Append(maybe);
        break;
      }
      case Repeat::kAnyCount:
        Break();
        break;
      case Repeat::kAtLeastOnce:
        Append(strings);  // once is required, the rest may repeat: the run ends here
        Break();
        break;
    }
  }

  // An atom about whose text only `k` is known, followed by its quantifier.
  void Atom(const Knowledge& k) {
    if (k.whole) {
      Atom(*k.whole);
      return;
    }
    Repeat repeat = ReadRepeat();
    Break();
    if (k.required && (repeat == Repeat::kOnce || repeat == Repeat::kAtLeastOnce)) {
      Offer(*k.required);
    }
  }

  void ReadGroup() {
    std::size_t start = pos_;
    SkipGroup();
    if (!ok_) return;
    std::string_view inside = re_.substr(start + 1, pos_ - start - 2);
    std::size_t skip = 0;  // bytes before the group's own pattern
    if (inside.substr(0, 1) == "*") {
      ok_ = false;  // verbs and start-of-pattern options
      return;
    }
    if (inside.substr(0, 1) == "?") {
      skip = ContentOffset(inside);
      if (!ok_) return;
      if (skip == std::string_view::npos) {
        // Lookaround, option setting, condition, recursion...: zero width or
        // unknown text, nothing can be said about it.
        Break();
        ReadRepeat();
        return;
      }
    }
    std::optional<Knowledge> k = AlternationReader(inside.substr(skip)).Read();
    // A group this reader does not understand still matches *some* text.
    Atom(k ? *k : Knowledge{});
  }

  // For a group's inside that starts with '?': the offset of its pattern when
  // it matches like a plain group ((?:..), (?|..), (?>..), (?<name>..),
  // (?i:..)), npos when it does not.
  std::size_t ContentOffset(std::string_view inside) {
    std::string_view rest = inside.substr(1);
    if (rest.empty()) return std::string_view::npos;
    char k = rest[0];
    if (k == ':' || k == '|' || k == '>') return 2;
    if (k == '#') {
      ok_ = false;  // a comment may hold parentheses SkipGroup counted
      return 0;
    }
    std::size_t name_start = 0;
    if (rest.substr(0, 2) == "P<") name_start = 2;
    if (k == '\'' || (k == '<' && rest.size() > 1 && rest[1] != '=' && rest[1] != '!')) {
      name_start = 1;
    }
    if (name_start != 0) {
      std::size_t end = rest.find_first_of(">'", name_start);
      return end == std::string_view::npos ? end : end + 2;
    }
    // Options, (?x) changes what whitespace means.
    std::size_t i = 0;
    while (i < rest.size() && (IsAsciiAlpha(rest[i]) || rest[i] == '-' || rest[i] == '^')) {
      if (rest[i] == 'x') ok_ = false;
      ++i;
    }
    if (i > 0 && i < rest.size() && rest[i] == ':') return i + 2;
    return std::string_view::npos;
  }

  // A class of a few plain characters ([sz], [ea], [o']) is an atom of one
  // of them; any other class matches one unknown byte.
  void ReadClass() {
    std::size_t start = pos_;
    SkipClass();
    if (!ok_) return;
    std::string_view inside = re_.substr(start + 1, pos_ - start - 2);
    bool simple = !inside.empty() && inside.size() <= 4 &&
                  inside.find_first_of("^-\\[]") == std::string_view::npos;
    if (!simple) {
      Break();
      ReadRepeat();
      return;
    }
    Strings chars;
    for (char c : inside) chars.push_back(std::string(1, static_cast<char>(Lower(c))));
    SortUnique(&chars);
    Atom(chars);
  }

  void ReadEscape() {
    if (pos_ + 1 >= re_.size()) {
      ok_ = false;
      return;
    }
    char e = re_[pos_ + 1];
    pos_ += 2;
    if (!IsAsciiAlnum(e)) {
      Atom(Strings{std::string(1, static_cast<char>(Lower(e)))});  // \. \/ \- ...
    } else if (std::strchr("bBdDwWsShHvVRNAzZG", e) != nullptr) {
      Break();
      ReadRepeat();
    } else {
      ok_ = false;  // \x{..}, back-references, properties: give up
    }
  }

  // Moves pos_ past the group that starts at pos_.
  void SkipGroup() {
    int depth = 0;
    while (pos_ < re_.size()) {
      char c = re_[pos_];
      if (c == '\\') {
        pos_ += 2;
        continue;
      }
      if (c == '[') {
        SkipClass();
        continue;
      }
      ++pos_;
      if (c == '(') ++depth;
      if (c == ')' && --depth == 0) return;
    }
    ok_ = false;
  }

  void SkipClass() {
    ++pos_;  // '['
    if (pos_ < re_.size() && re_[pos_] == '^') ++pos_;
    if (pos_ < re_.size() && re_[pos_] == ']') ++pos_;  // a leading ] is literal
    while (pos_ < re_.size()) {
      char c = re_[pos_];
      if (c == '\\') {
        pos_ += 2;
      } else if (c == '[' && pos_ + 1 < re_.size() && re_[pos_ + 1] == ':') {
        std::size_t end = re_.find(":]", pos_ + 2);
        if (end == std::string_view::npos) break;
        pos_ = end + 2;
      } else if (c == ']') {
        ++pos_;
        return;
      } else {
        ++pos_;
      }
    }
    ok_ = false;
  }

  // Reads the quantifier at pos_, if any.
  Repeat ReadRepeat() {
    if (pos_ >= re_.size()) return Repeat::kOnce;
    Repeat repeat;
    char c = re_[pos_];
    if (c == '?') {
      repeat = Repeat::kOptional;
      ++pos_;
    } else if (c == '*') {
      repeat = Repeat::kAnyCount;
      ++pos_;
    } else if (c == '+') {
      repeat = Repeat::kAtLeastOnce;
      ++pos_;
    } else if (c == '{') {
      // Only digits and a comma make a quantifier; any other '{' is a
      // literal, which the sequence reader gives up on.
      std::size_t end = re_.find_first_not_of("0123456789,", pos_ + 1);
      if (end == std::string_view::npos || re_[end] != '}' || end == pos_ + 1) {
        return Repeat::kOnce;
      }
      // {0}, {0,n} and {,n} allow none; {n}, {n,} and {n,m} at least one.
      bool none = re_[pos_ + 1] == '0' || re_[pos_ + 1] == ',';
      repeat = none ? Repeat::kAnyCount : Repeat::kAtLeastOnce;
      pos_ = end + 1;
    } else {
      return Repeat::kOnce;
    }
    if (pos_ < re_.size() && (re_[pos_] == '?' || re_[pos_] == '+')) ++pos_;  // lazy, possessive
    return repeat;
  }

  // The run continues with one of `strings`: spell out every combination
  // while there are few; otherwise the run ends and `strings` start the next.
  void Append(const Strings& strings) {
    if (strings.size() == 1) {
      tail_ += strings[0];
    } else {
      // Plain text before a choice is a literal of its own, and a cheaper one.
      Offer({tail_});
      tail_.clear();
    }
    if (run_.size() * strings.size() > kMaxSpelled) {
      Offer(run_);
      run_ = strings;
      exact_ = false;
      return;
    }
    Strings next;
    for (const std::string& a : run_) {
      for (const std::string& b : strings) next.push_back(a + b);
    }
    SortUnique(&next);
    run_ = std::move(next);
  }

  void Break() {
    Offer(run_);
    Offer({tail_});
    run_ = {""};
    tail_.clear();
    exact_ = false;
  }

  // Keeps `set` as the alternative's required literals if it is usable and
  // more selective than the best so far: a longer shortest member (up to the
  // length whose trigrams are all checked), then fewer members (each costs
  // a check per recipient), then a longer shortest member still.
  void Offer(const Strings& set) {
    std::size_t shortest = std::string::npos;
    for (const std::string& s : set) shortest = std::min(shortest, s.size());
    if (set.empty() || shortest < kMinLiteral) return;
    auto rank = [](std::size_t shortest, std::size_t members) {
      return std::make_tuple(std::min(shortest, kMaxTrigramsPerLiteral + 2),
                             std::numeric_limits<std::size_t>::max() - members, shortest);
    };
    if (best_ && rank(shortest, set.size()) <= rank(best_shortest_, best_->size())) return;
    best_ = set;
    best_shortest_ = shortest;
  }

  std::string_view re_;
  std::size_t pos_ = 0;
  bool ok_ = true;
  // The current alternative: the strings its latest run of known text may
  // be, whether the run is the whole alternative so far, and the best set
  // of required literals seen in it.
  Strings run_;
  std::string tail_;  // the run's text since its last choice, a suffix of each string
  bool exact_ = true;
  std::optional<Strings> best_;
  std::size_t best_shortest_ = 0;
};

// Drops members that contain another member: when the shorter one does not
// occur, neither does the longer.
void DropImplied(Strings* set) {
  Strings kept;
  for (const std::string& s : *set) {
    bool implied = std::any_of(set->begin(), set->end(), [&s](const std::string& t) {
      return t.size() < s.size() && s.find(t) != std::string::npos;
    });
    if (!implied) kept.push_back(s);
  }
  *set = std::move(kept);
}

}  // namespace

std::optional<std::vector<RequiredLiteral>> RequiredLiterals(std::string_view source,
                                                             std::string_view flags) {
  if (flags.find('x') != std::string_view::npos) return std::nullopt;
  // \Q..\E quotes metacharacters, parentheses included, so groups would be
  // misplaced; a verb such as (*ACCEPT) may end a match before text that
  // follows it, even inside a group.
  if (source.find("\\Q") != std::string_view::npos || source.find("(*") != std::string_view::npos) {
    return std::nullopt;
  }
  std::optional<Knowledge> k = AlternationReader(source).Read();
  if (!k || !k->required) return std::nullopt;
  DropImplied(&*k->required);
  std::vector<RequiredLiteral> out;
  for (std::string& text : *k->required) {
    RequiredLiteral literal;
    std::size_t windows = text.size() - 2;
    std::size_t step = windows <= kMaxTrigramsPerLiteral ? 1 : windows / kMaxTrigramsPerLiteral;
    for (std::size_t i = 0; i < windows && literal.trigrams.size() < kMaxTrigramsPerLiteral;
         i += step) {
      literal.trigrams.push_back(TrigramHash(text[i], text[i + 1], text[i + 2]));
    }
    literal.text = std::move(text);
    out.push_back(std::move(literal));
  }
  return out;
}

TrigramSet::TrigramSet(std::string_view subject) {
  if (subject.size() < kMinLiteral) return;
  unsigned char a = Lower(subject[0]), b = Lower(subject[1]);
  for (std::size_t i = 2; i < subject.size(); ++i) {
    unsigned char c = Lower(subject[i]);
    uint16_t h = TrigramHash(a, b, c);
    bits_[h >> 6] |= uint64_t{1} << (h & 63);
    a = b;
    b = c;
  }
}

bool TrigramSet::MayContain(const RequiredLiteral& literal) const {
  for (uint16_t h : literal.trigrams) {
    if ((bits_[h >> 6] & (uint64_t{1} << (h & 63))) == 0) return false;
  }
  return true;
}

}  // namespace bm
