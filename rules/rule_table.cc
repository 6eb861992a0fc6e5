#include "rules/rule_table.h"

#include <spdlog/spdlog.h>

#include "common/file_util.h"
#include "rules/default_rules.h"
#include "rules/fallback.h"
#include "rules/rule_parser.h"

namespace bm {

std::string_view BounceClassName(BounceClass c) {
  return c == BounceClass::kPermanent ? "permanent" : "transient";
}

struct RuleTable::Impl {
  RuleSet set;
};

RuleTable::RuleTable(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
RuleTable::~RuleTable() = default;

std::size_t RuleTable::size() const { return impl_->set.rules.size(); }

Result<std::shared_ptr<const RuleTable>> RuleTable::LoadString(std::string_view text,
                                                               std::string_view source_name) {
  Result<RuleSet> set = ParseRules(text, source_name);
  if (!set.ok()) return set.status();
  auto impl = std::make_unique<Impl>();
  impl->set = std::move(*set);
  return std::shared_ptr<const RuleTable>(new RuleTable(std::move(impl)));
}

Result<std::shared_ptr<const RuleTable>> RuleTable::LoadFile(const std::string& path) {
  Result<std::string> text = ReadFileBounded(path, RulesLimits().max_file_bytes);
  if (!text.ok()) return text.status();
  return LoadString(*text, path);
}

Result<std::shared_ptr<const RuleTable>> RuleTable::LoadFileOrDefault(const std::string& path) {
  if (path.empty()) return Default();
  return LoadFile(path);
}

std::shared_ptr<const RuleTable> RuleTable::Default() {
  static const std::shared_ptr<const RuleTable> table = [] {
    auto loaded = LoadString(DefaultRulesText(), "default.rules");
    if (loaded.ok()) return *loaded;
    // Only a broken build gets here; rule_table_test fails on it first.
    spdlog::critical("embedded default rules do not load: {}", loaded.status().message());
    return std::shared_ptr<const RuleTable>(new RuleTable(std::make_unique<Impl>()));
  }();
  return table;
}

std::string_view RuleTable::DefaultText() { return DefaultRulesText(); }

Classification RuleTable::Classify(const RuleInput& input) const {
  const ReasonVocabulary& vocabulary = impl_->set.vocabulary;
  Classification c;
  const Rule* matched = nullptr;
  std::string what;
  const InputGrams grams(input);
  for (const Rule& rule : impl_->set.rules) {
    if (rule.Matches(input, &what, &grams)) {
      matched = &rule;
      break;
    }
  }
  if (matched != nullptr) {
    c.reason = matched->reason;
    c.bounce_class = matched->bounce_class.value_or(ClassFromCodes(input));
    c.hard = matched->hard.value_or(vocabulary.IsHard(c.reason, c.bounce_class));
    c.rule_id = matched->id;
    c.explanation = "rule " + matched->id + " (line " + std::to_string(matched->line) + "): " + what;
  } else {
    Fallback f = ClassifyFallback(input);
    c.reason = f.reason;
    c.bounce_class = f.bounce_class;
    c.hard = vocabulary.IsHard(c.reason, c.bounce_class);
    c.rule_id = f.rule_id;
    c.explanation = "no rule matched; " + std::string(f.why);
  }
  if (!input.status.empty()) {
    c.status = std::string(input.status);
  } else {
    c.status = vocabulary.PseudoStatus(c.reason, c.bounce_class);
    c.status_derived = !c.status.empty();
  }
  return c;
}

std::vector<ClassifiedRecipient> ClassifyReport(const BounceReport& report,
                                                const RuleTable& table) {
  std::vector<ClassifiedRecipient> out;
  out.reserve(report.recipients.size());
  for (const RecipientResult& r : report.recipients) {
    RuleInput input;
    input.kind = report.kind;
    input.format = report.format;
    input.action = r.action;
    input.status = r.status;
    input.reply_code = r.reply_code;
    input.diagnostic = r.diagnostic;
    input.remote_mta = r.remote_mta;
    input.feedback_type = r.feedback_type;
    input.command = r.smtp_command;
    out.push_back({r, table.Classify(input)});
  }
  return out;
}

}  // namespace bm
