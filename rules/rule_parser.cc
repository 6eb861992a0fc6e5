#include "rules/rule_parser.h"

#include <algorithm>
#include <cctype>
#include <map>
#include <string>

namespace bm {
namespace {

struct Token {
  std::string text;  // the word, or the regex source without slashes
  std::string flags;  // regex flags
  int line = 0;
  bool regex = false;
};

// One statement: a `rule` or `reason` line with its indented continuation lines.
struct Statement {
  int line = 0;
  std::vector<Token> tokens;
};

bool IsIdChar(char c) {
  return std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_' || c == '.';
}

bool AllOf(std::string_view s, std::string_view allowed) {
  return std::all_of(s.begin(), s.end(),
                     [allowed](char c) { return allowed.find(c) != std::string_view::npos; });
}

class Parser {
 public:
  Parser(std::string_view source, const RulesLimits& limits)
      : source_(source), limits_(limits) {
    set_.vocabulary = ReasonVocabulary::BuiltIn();
  }

  Result<RuleSet> Parse(std::string_view text) {
    if (text.size() > limits_.max_file_bytes) {
      return Status::LimitExceeded(std::string(source_) + ": larger than " +
                                   std::to_string(limits_.max_file_bytes) + " bytes");
    }
    Statement current;
    int line_number = 0;
    std::size_t pos = 0;
    while (pos < text.size()) {
      std::size_t end = text.find('\n', pos);
      if (end == std::string_view::npos) end = text.size();
      std::string_view line = text.substr(pos, end - pos);
      pos = end + 1;
      ++line_number;
      if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
      if (line.size() > limits_.max_line_bytes) {
        return Status::LimitExceeded(Where(line_number) + "line longer than " +
                                     std::to_string(limits_.max_line_bytes) + " bytes");
      }
      std::vector<Token> tokens;
      if (Status s = Tokenize(line, line_number, &tokens); !s.ok()) return s;
      if (tokens.empty()) continue;
      bool continuation = line[0] == ' ' || line[0] == '\t';
      if (continuation) {
        if (current.tokens.empty()) {
          return Status::InvalidArgument(Where(line_number) +
                                         "indented line continues no rule");
        }
        current.tokens.insert(current.tokens.end(), tokens.begin(), tokens.end());
        continue;
      }
      if (!current.tokens.empty()) {
        if (Status s = Finish(current); !s.ok()) return s;
      }
      current = Statement{line_number, std::move(tokens)};
    }
    if (!current.tokens.empty()) {
      if (Status s = Finish(current); !s.ok()) return s;
    }
    return std::move(set_);
  }

 private:
  std::string Where(int line) const { return std::string(source_) + ":" + std::to_string(line) + ": "; }

  Status Error(int line, const std::string& message) const {
    return Status::InvalidArgument(Where(line) + message);
  }

  // Splits a physical line into words and /regex/flags literals. A regex is
  // expected only after `~` or `!~`; `#` starts a comment outside a regex.
  Status Tokenize(std::string_view line, int line_number, std::vector<Token>* tokens) {
    std::size_t i = 0;
    while (i < line.size()) {
      char c = line[i];
      if (c == ' ' || c == '\t') {
        ++i;
        continue;
      }
      if (c == '#') break;
      bool after_match_op =
          !tokens->empty() && (tokens->back().text == "~" || tokens->back().text == "!~") &&
          !tokens->back().regex;
      if (after_match_op) {
        if (c != '/') return Error(line_number, "expected /regex/ after '" + tokens->back().text + "'");
        std::size_t j = i + 1;
        while (j < line.size() && line[j] != '/') j += line[j] == '\\' ? 2 : 1;
        if (j >= line.size()) return Error(line_number, "unterminated regex (missing closing '/')");
        Token t{std::string(line.substr(i + 1, j - i - 1)), "", line_number, true};
        std::size_t k = j + 1;
        while (k < line.size() && std::isalpha(static_cast<unsigned char>(line[k]))) ++k;
        t.flags = std::string(line.substr(j + 1, k - j - 1));
        if (k < line.size() && line[k] != ' ' && line[k] != '\t') {
          return Error(line_number, "unexpected text after regex: '" +
                                        std::string(line.substr(k, 20)) + "'");
        }
        tokens->push_back(std::move(t));
        i = k;
        continue;
      }
      std::size_t j = i;
      while (j < line.size() && line[j] != ' ' && line[j] != '\t') ++j;
      tokens->push_back({std::string(line.substr(i, j - i)), "", line_number, false});
      i = j;
    }
    return Status::Ok();
  }

  Status Finish(const Statement& st) {
    const std::string& keyword = st.tokens[0].text;
    if (keyword == "rule") return ParseRule(st);
    if (keyword == "reason") return ParseReason(st);
    return Error(st.line, "unknown statement '" + keyword + "' (expected 'rule' or 'reason')");
  }

  // reason NAME [hard | hard-if-permanent | soft] [pseudo 900..999]
  Status ParseReason(const Statement& st) {
    const auto& t = st.tokens;
    if (t.size() < 2) return Error(st.line, "'reason' needs a name");
    const std::string& name = t[1].text;
    if (name.empty() || !AllOf(name, "abcdefghijklmnopqrstuvwxyz0123456789_-")) {
      return Error(t[1].line, "bad reason name '" + name + "' (lower-case letters, digits, - and _)");
    }
    if (auto seen = reason_lines_.find(name); seen != reason_lines_.end()) {
      return Error(t[1].line, "reason '" + name + "' declared twice (first at line " +
                                  std::to_string(seen->second) + ")");
    }
    reason_lines_[name] = t[1].line;
    ReasonInfo info{name, 0, HardWhen::kNever};
    if (const ReasonInfo* known = set_.vocabulary.Find(name)) info = *known;
    bool hard_set = false;
    for (std::size_t i = 2; i < t.size(); ++i) {
      const std::string& w = t[i].text;
      if (w == "hard" || w == "soft" || w == "hard-if-permanent") {
        if (hard_set) return Error(t[i].line, "hardness given twice for reason '" + name + "'");
        hard_set = true;
        info.hard = w == "hard" ? HardWhen::kAlways
                    : w == "soft" ? HardWhen::kNever
                                  : HardWhen::kPermanent;
      } else if (w == "pseudo") {
        if (i + 1 >= t.size()) return Error(t[i].line, "'pseudo' needs a number 900..999");
        const std::string& n = t[++i].text;
        if (n.size() != 3 || !AllOf(n, "0123456789") || n[0] != '9') {
          return Error(t[i].line, "pseudo status detail must be 900..999, not '" + n + "'");
        }
        info.pseudo = std::stoi(n);
      } else {
        return Error(t[i].line, "unknown reason attribute '" + w +
                                    "' (expected hard, soft, hard-if-permanent or pseudo N)");
      }
    }
    if (ReasonInfo* known = set_.vocabulary.FindMutable(name)) {
      *known = std::move(info);
    } else {
      set_.vocabulary.Add(std::move(info));
    }
    return Status::Ok();
  }

  // rule ID CONDITION... => REASON [permanent|transient] [hard|soft]
  Status ParseRule(const Statement& st) {
    const auto& t = st.tokens;
    if (set_.rules.size() >= limits_.max_rules) {
      return Status::LimitExceeded(Where(st.line) + "more than " +
                                   std::to_string(limits_.max_rules) + " rules");
    }
    if (t.size() < 2) return Error(st.line, "'rule' needs an id");
    Rule rule;
    rule.id = t[1].text;
    rule.line = st.line;
    if (rule.id.size() > limits_.max_id_bytes ||
        !std::all_of(rule.id.begin(), rule.id.end(), IsIdChar)) {
      return Error(t[1].line, "bad rule id '" + rule.id + "' (letters, digits, '-', '_', '.'; at most " +
                                  std::to_string(limits_.max_id_bytes) + ")");
    }
    if (rule.id.rfind("fallback", 0) == 0) {
      return Error(t[1].line, "rule ids beginning with 'fallback' are reserved");
    }
    if (auto seen = rule_lines_.find(rule.id); seen != rule_lines_.end()) {
      return Error(t[1].line, "duplicate rule id '" + rule.id + "' (first at line " +
                                  std::to_string(seen->second) + ")");
    }
    std::size_t i = 2;
    while (i < t.size() && t[i].text != "=>") {
      if (rule.conditions.size() >= limits_.max_conditions) {
        return Status::LimitExceeded(Where(t[i].line) + "more than " +
                                     std::to_string(limits_.max_conditions) + " conditions");
      }
      Result<Condition> c = ParseCondition(t, &i);
      if (!c.ok()) return c.status();
      rule.conditions.push_back(std::move(*c));
    }
    if (i >= t.size()) {
      return Error(t.back().line, "rule '" + rule.id + "' has no '=> REASON'");
    }
    if (Status s = ParseResults(t, i + 1, &rule); !s.ok()) return s;
    std::stable_sort(rule.conditions.begin(), rule.conditions.end(),
                     [](const Condition& a, const Condition& b) { return a.Cost() < b.Cost(); });
    rule_lines_[rule.id] = rule.line;
    set_.rules.push_back(std::move(rule));
    return Status::Ok();
  }

  // FIELD GLOBS | FIELD != GLOBS | FIELD ~ /RE/ | FIELD !~ /RE/
  Result<Condition> ParseCondition(const std::vector<Token>& t, std::size_t* i) {
    const Token& field_token = t[*i];
    std::optional<Field> field = FieldFromWord(field_token.text);
    if (!field) {
      return Error(field_token.line, "unknown field '" + field_token.text +
                                         "' (known: status, code, diag, mta, kind, action, "
                                         "format, feedback, command; or '=>' before the result)");
    }
    ++*i;
    if (*i >= t.size() || t[*i].text == "=>") {
      return Error(field_token.line, "'" + field_token.text + "' needs a value");
    }
    std::string op = t[*i].regex ? "" : t[*i].text;
    bool negated = op == "!~" || op == "!=";
    if (op == "~" || op == "!~") {
      ++*i;
      if (*i >= t.size() || !t[*i].regex) {
        return Error(field_token.line, "expected /regex/ after '" + op + "'");
      }
      if (*field == Field::kKind) {
        return Error(t[*i].line,
                     "'kind' takes words (dsn, autoreply, feedback, notbounce), not a regex");
      }
      Result<Pattern> p = Pattern::Regex(t[*i].text, t[*i].flags);
      if (!p.ok()) return Error(t[*i].line, p.status().message());
      ++*i;
      return Condition{*field, negated, std::move(*p)};
    }
    if (op == "!=") {
      ++*i;
      if (*i >= t.size() || t[*i].text == "=>") {
        return Error(field_token.line, "'!=' needs a value");
      }
    }
    const Token& value = t[*i];
    if (value.text.front() == '/') {
      return Error(value.line, "a /regex/ needs '~' or '!~' before it");
    }
    if (Status s = CheckGlob(*field, value); !s.ok()) return s;
    Result<Pattern> p = Pattern::Glob(value.text);
    if (!p.ok()) return Error(value.line, p.status().message());
    ++*i;
    return Condition{*field, negated, std::move(*p)};
  }

  // Catches typos that would make a rule silently never match.
  Status CheckGlob(Field field, const Token& value) {
    const std::string& v = value.text;
    std::size_t start = 0;
    while (start <= v.size()) {
      std::size_t comma = std::min(v.find(',', start), v.size());
      std::string item = v.substr(start, comma - start);
      start = comma + 1;
      if (item == "none") continue;
      if (field == Field::kStatus && !AllOf(item, "0123456789.*?")) {
        return Error(value.line, "status '" + item +
                                     "' is not a status glob like 5.1.* (use ~ /regex/ for more)");
      }
      if (field == Field::kCode && !AllOf(item, "0123456789*?")) {
        return Error(value.line, "reply code '" + item +
                                     "' is not a code glob like 55? (use ~ /regex/ for more)");
      }
      if (field == Field::kKind && !KindFromWord(item)) {
        return Error(value.line, "unknown kind '" + item +
                                     "' (known: dsn, autoreply, feedback, notbounce)");
      }
    }
    return Status::Ok();
  }

  Status ParseResults(const std::vector<Token>& t, std::size_t i, Rule* rule) {
    if (i >= t.size()) return Error(t.back().line, "'=>' needs a reason");
    const Token& reason = t[i];
    if (set_.vocabulary.Find(reason.text) == nullptr) {
      return Error(reason.line, "unknown reason '" + reason.text +
                                    "' (declare it first with a 'reason' line)");
    }
    rule->reason = reason.text;
    for (++i; i < t.size(); ++i) {
      const std::string& w = t[i].text;
      if (w == "permanent" || w == "transient") {
        if (rule->bounce_class) return Error(t[i].line, "class given twice");
        rule->bounce_class = w == "permanent" ? BounceClass::kPermanent : BounceClass::kTransient;
      } else if (w == "hard" || w == "soft") {
        if (rule->hard) return Error(t[i].line, "hard/soft given twice");
        rule->hard = w == "hard";
      } else {
        return Error(t[i].line, "unexpected '" + w +
                                    "' after the reason (expected permanent, transient, hard or soft)");
      }
    }
    return Status::Ok();
  }

  std::string_view source_;
  const RulesLimits& limits_;
  RuleSet set_;
  std::map<std::string, int> rule_lines_;
  std::map<std::string, int> reason_lines_;
};

}  // namespace

Result<RuleSet> ParseRules(std::string_view text, std::string_view source,
                           const RulesLimits& limits) {
  return Parser(source, limits).Parse(text);
}

}  // namespace bm
