#include "rules/rule.h"

namespace bm {
namespace {

constexpr struct {
  Field field;
  std::string_view word;
} kFieldWords[] = {
    {Field::kKind, "kind"},         {Field::kAction, "action"}, {Field::kFormat, "format"},
    {Field::kFeedback, "feedback"}, {Field::kCommand, "command"}, {Field::kStatus, "status"},
    {Field::kCode, "code"},         {Field::kMta, "mta"},         {Field::kDiag, "diag"},
};

constexpr struct {
  ReportKind kind;
  std::string_view word;
} kKindWords[] = {
    {ReportKind::kDsn, "dsn"},
    {ReportKind::kAutoReply, "autoreply"},
    {ReportKind::kFeedback, "feedback"},
    {ReportKind::kNotBounce, "notbounce"},
};

std::string_view FieldValue(const RuleInput& input, Field field) {
  switch (field) {
    case Field::kKind:
      return KindWord(input.kind);
    case Field::kAction:
      return input.action;
    case Field::kFormat:
      return input.format;
    case Field::kFeedback:
      return input.feedback_type;
    case Field::kCommand:
      return input.command;
    case Field::kStatus:
      return input.status;
    case Field::kCode:
      return input.reply_code;
    case Field::kMta:
      return input.remote_mta;
    case Field::kDiag:
      return input.diagnostic;
  }
  return {};
}

// Explanations quote at most this much of a matched field.
constexpr std::size_t kQuoteLimit = 80;

}  // namespace

std::optional<Field> FieldFromWord(std::string_view word) {
  for (const auto& f : kFieldWords) {
    if (f.word == word) return f.field;
  }
  return std::nullopt;
}

std::string_view FieldWord(Field field) {
  for (const auto& f : kFieldWords) {
    if (f.field == field) return f.word;
  }
  return "?";
}

std::optional<ReportKind> KindFromWord(std::string_view word) {
  for (const auto& k : kKindWords) {
    if (k.word == word) return k.kind;
  }
  return std::nullopt;
}

std::string_view KindWord(ReportKind kind) {
  for (const auto& k : kKindWords) {
    if (k.kind == kind) return k.word;
  }
  return "?";
}

int Condition::Cost() const {
  // Regexes on long fields (the diagnostic) cost the most; test them last.
  return (pattern.is_regex() ? 10 : 0) + static_cast<int>(field);
}

bool Rule::Matches(const RuleInput& input, std::string* explanation,
                   const InputGrams* grams) const {
  for (const Condition& c : conditions) {
    const TrigramSet* field_grams = nullptr;
    if (grams != nullptr && c.field == Field::kDiag) field_grams = &grams->diagnostic;
    if (grams != nullptr && c.field == Field::kMta) field_grams = &grams->remote_mta;
    if (c.pattern.Matches(FieldValue(input, c.field), nullptr, field_grams) == c.negated) {
      return false;
    }
  }
  if (explanation == nullptr) return true;
  // Matched: walk again to describe it (only the matching rule pays this).
  explanation->clear();
  for (const Condition& c : conditions) {
    if (!explanation->empty()) *explanation += ", ";
    *explanation += FieldWord(c.field);
    *explanation += c.pattern.is_regex() ? (c.negated ? " !~ " : " ~ ")
                                         : (c.negated ? " != " : " ");
    *explanation += c.pattern.source();
    std::string_view matched;
    if (c.negated) {
      *explanation += " (no match)";
    } else if (c.pattern.Matches(FieldValue(input, c.field), &matched)) {
      *explanation += " matched \"";
      *explanation += matched.substr(0, kQuoteLimit);
      *explanation += matched.size() > kQuoteLimit ? "...\"" : "\"";
    }
  }
  if (conditions.empty()) *explanation = "no conditions (matches everything)";
  return true;
}

}  // namespace bm
