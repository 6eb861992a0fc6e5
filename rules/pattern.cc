#include "rules/pattern.h"

#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>

#include <algorithm>

#include "common/ascii.h"
#include "common/glob.h"

namespace bm {
namespace {

// Bounds the work of one match: a pathological regex written by an admin
// must not stall a milter thread. Exceeding it counts as no match.
constexpr uint32_t kMatchLimit = 200000;

pcre2_match_context* SharedMatchContext() {
  // Created once and only read afterwards, so all threads may share it.
  static pcre2_match_context* const context = [] {
    pcre2_match_context* c = pcre2_match_context_create(nullptr);
    pcre2_set_match_limit(c, kMatchLimit);
    pcre2_set_depth_limit(c, kMatchLimit);
    return c;
  }();
  return context;
}

struct MatchDataDeleter {
  void operator()(pcre2_match_data* d) const { pcre2_match_data_free(d); }
};

// One pair of offsets is all a match needs (the whole match); captures are
// not used. One per thread, so that matching needs no lock.
pcre2_match_data* ThreadMatchData() {
  thread_local std::unique_ptr<pcre2_match_data, MatchDataDeleter> data(
      pcre2_match_data_create(1, nullptr));
  return data.get();
}

}  // namespace

void Pattern::CodeDeleter::operator()(pcre2_real_code_8* code) const { pcre2_code_free(code); }

Pattern::Pattern(Pattern&&) noexcept = default;
Pattern& Pattern::operator=(Pattern&&) noexcept = default;
Pattern::~Pattern() = default;

Result<Pattern> Pattern::Glob(std::string_view list) {
  Pattern pattern;
  pattern.source_ = std::string(list);
  std::size_t start = 0;
  while (true) {
    std::size_t comma = list.find(',', start);
    std::string_view item =
        list.substr(start, comma == std::string_view::npos ? std::string_view::npos : comma - start);
    if (item.empty()) {
      return Status::InvalidArgument("empty alternative in '" + std::string(list) + "'");
    }
    pattern.globs_.push_back(ToLowerAscii(item));
    if (comma == std::string_view::npos) break;
    start = comma + 1;
  }
  return pattern;
}

Result<Pattern> Pattern::Regex(std::string_view source, std::string_view flags) {
  uint32_t options = 0;
  for (char f : flags) {
    if (f == 'i') {
      options |= PCRE2_CASELESS;
    } else if (f == 'x') {
      options |= PCRE2_EXTENDED;
    } else {
      return Status::InvalidArgument(std::string("unknown regex flag '") + f +
                                     "' (known: i, x)");
    }
  }
  int error = 0;
  PCRE2_SIZE offset = 0;
  pcre2_code* code = pcre2_compile(reinterpret_cast<PCRE2_SPTR>(source.data()), source.size(),
                                   options, &error, &offset, nullptr);
  if (code == nullptr) {
    PCRE2_UCHAR message[256];
    pcre2_get_error_message(error, message, sizeof message);
    return Status::InvalidArgument("bad regex /" + std::string(source) + "/: " +
                                   reinterpret_cast<const char*>(message) + " at offset " +
                                   std::to_string(offset));
  }
  Pattern pattern;
  pattern.source_ = "/" + std::string(source) + "/" + std::string(flags);
  pattern.code_.reset(code);
  // Without JIT support (some platforms) the interpreter still works.
  pattern.jit_ = pcre2_jit_compile(code, PCRE2_JIT_COMPLETE) == 0;
  if (auto literals = RequiredLiterals(source, flags)) pattern.literals_ = std::move(*literals);
  return pattern;
}

bool Pattern::Matches(std::string_view text, std::string_view* matched,
                      const TrigramSet* grams) const {
  if (code_ == nullptr) {
    for (const std::string& glob : globs_) {
      bool hit = glob == "none" ? text.empty() : GlobMatch(glob, text);
      if (hit) {
        if (matched != nullptr) *matched = text;
        return true;
      }
    }
    return false;
  }
  if (grams != nullptr && !literals_.empty() &&
      std::none_of(literals_.begin(), literals_.end(),
                   [grams](const RequiredLiteral& l) { return grams->MayContain(l); })) {
    return false;
  }
  pcre2_match_data* data = ThreadMatchData();
  // An empty string_view may hold a null pointer, which PCRE2 rejects.
  auto subject = reinterpret_cast<PCRE2_SPTR>(text.empty() ? "" : text.data());
  int rc = jit_ ? pcre2_jit_match(code_.get(), subject, text.size(), 0, 0, data,
                                  SharedMatchContext())
                : pcre2_match(code_.get(), subject, text.size(), 0, 0, data, SharedMatchContext());
  // rc == 0: matched, but the one-pair ovector could not hold the captures.
  if (rc < 0) return false;
  if (matched != nullptr) {
    const PCRE2_SIZE* ovector = pcre2_get_ovector_pointer(data);
    *matched = text.substr(ovector[0], ovector[1] - ovector[0]);
  }
  return true;
}

}  // namespace bm
