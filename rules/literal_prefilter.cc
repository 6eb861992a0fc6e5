#include "rules/literal_prefilter.h"

#include <cstring>

#include "common/ascii.h"

namespace bm {
namespace {

constexpr std::size_t kMinLiteral = 3;
constexpr std::size_t kMaxTrigramsPerLiteral = 6;

unsigned char Lower(char c) { return static_cast<unsigned char>(LowerAscii(c)); }

uint16_t TrigramHash(unsigned char a, unsigned char b, unsigned char c) {
  uint32_t v = (uint32_t{a} | uint32_t{b} << 8 | uint32_t{c} << 16) * 2654435761u;
  return static_cast<uint16_t>(v >> 20);  // 12 bits: 0..4095
}

// Reads one top-level alternative of a regex and keeps its longest run of
// bytes that every match must contain literally. Anything it does not fully
// understand makes it give up (ok_ = false), which only costs speed.
class AlternativeReader {
 public:
  explicit AlternativeReader(std::string_view re) : re_(re) {}

  // Returns false when the regex is beyond this reader.
  bool Read(std::vector<std::string>* alternatives) {
    while (pos_ < re_.size() && ok_) {
      char c = re_[pos_];
      if (c == '|') {
        EndAlternative(alternatives);
        ++pos_;
      } else if (c == '(') {
        SkipGroup();
        Break();
        SkipQuantifier();
      } else if (c == '[') {
        SkipClass();
        Break();
        SkipQuantifier();
      } else if (c == '\\') {
        ReadEscape();
      } else if (c == '.' || c == '^' || c == '$') {
        ++pos_;
        Break();
        SkipQuantifier();
      } else if (c == ')' || c == '{' || c == '*' || c == '+' || c == '?') {
        return false;  // stray metacharacter: leave it to PCRE2
      } else {
        ++pos_;
        AddLiteral(c);
      }
    }
    if (!ok_) return false;
    EndAlternative(alternatives);
    return true;
  }

 private:
  void AddLiteral(char c) {
    // A quantifier may make this byte optional or repeat it.
    if (pos_ < re_.size() &&
        (re_[pos_] == '?' || re_[pos_] == '*' ||
         (re_[pos_] == '{' && pos_ + 1 < re_.size() && (re_[pos_ + 1] == '0' || re_[pos_ + 1] == ',')))) {
      Break();
      SkipQuantifier();
      return;
    }
    run_.push_back(static_cast<char>(Lower(c)));
    if (pos_ < re_.size() && (re_[pos_] == '+' || re_[pos_] == '{')) {
      Break();  // once is required, the rest may repeat: the run ends here
      SkipQuantifier();
    }
  }

  void ReadEscape() {
    if (pos_ + 1 >= re_.size()) {
      ok_ = false;
      return;
    }
    char e = re_[pos_ + 1];
    pos_ += 2;
    if (!IsAsciiAlnum(e)) {
      AddLiteral(e);  // \. \/ \- ...: the character itself
    } else if (std::strchr("bBdDwWsShHvVRNAzZG", e) != nullptr) {
      Break();
      SkipQuantifier();
    } else {
      ok_ = false;  // \x{..}, \Q..\E, back-references, properties: give up
    }
  }

  void SkipGroup() {
    if (re_.substr(pos_, 2) == "(*") {
      ok_ = false;  // verbs and start-of-pattern options
      return;
    }
    if (re_.substr(pos_, 2) == "(?") {
      // Inline options: (?x) changes what whitespace means.
      std::size_t i = pos_ + 2;
      while (i < re_.size() &&
             (IsAsciiAlpha(re_[i]) || re_[i] == '-' || re_[i] == '^')) {
        if (re_[i] == 'x') ok_ = false;
        ++i;
      }
    }
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

  void SkipQuantifier() {
    if (pos_ >= re_.size()) return;
    char c = re_[pos_];
    if (c == '?' || c == '*' || c == '+') {
      ++pos_;
    } else if (c == '{') {
      std::size_t end = re_.find('}', pos_);
      if (end == std::string_view::npos) {
        ok_ = false;
        return;
      }
      pos_ = end + 1;
    } else {
      return;
    }
    if (pos_ < re_.size() && (re_[pos_] == '?' || re_[pos_] == '+')) ++pos_;  // lazy, possessive
  }

  void Break() {
    if (run_.size() > best_.size()) best_ = run_;
    run_.clear();
  }

  void EndAlternative(std::vector<std::string>* alternatives) {
    Break();
    alternatives->push_back(best_);
    best_.clear();
  }

  std::string_view re_;
  std::size_t pos_ = 0;
  bool ok_ = true;
  std::string run_;
  std::string best_;
};

}  // namespace

std::optional<std::vector<RequiredLiteral>> RequiredLiterals(std::string_view source,
                                                             std::string_view flags) {
  if (flags.find('x') != std::string_view::npos) return std::nullopt;
  std::vector<std::string> alternatives;
  if (!AlternativeReader(source).Read(&alternatives)) return std::nullopt;
  std::vector<RequiredLiteral> out;
  for (std::string& text : alternatives) {
    if (text.size() < kMinLiteral) return std::nullopt;
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
