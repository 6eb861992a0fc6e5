// RuleTable: the ordered, first-match table that maps what a bounce says
// (status, reply code, diagnostic text, remote MTA, kind) to a reason, a class
// and a hard flag. Loaded from a text file that mail admins edit; the format
// is documented in docs/rules.md. The default table (rules/default.rules) is
// embedded in the binaries at build time.
//
// Loading is all-or-nothing: any error rejects the whole file and is reported
// as "file:line: message". A loaded table is immutable and may be shared by
// any number of threads (hold it through std::shared_ptr<const RuleTable>).
#ifndef BM_RULES_RULE_TABLE_H_
#define BM_RULES_RULE_TABLE_H_

#include <cstddef>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"
#include "parser/bounce_report.h"

namespace bm {

enum class BounceClass { kPermanent, kTransient };

// "permanent" | "transient".
std::string_view BounceClassName(BounceClass c);

// The facts a rule may test, for one recipient.
struct RuleInput {
  ReportKind kind = ReportKind::kDsn;
  std::string_view format;      // BounceReport::format
  std::string_view action;      // failed | delayed | ...
  std::string_view status;      // enhanced status as found, may be empty
  std::string_view reply_code;  // may be empty
  std::string_view diagnostic;  // may be empty
  std::string_view remote_mta;  // may be empty
  std::string_view feedback_type;
  std::string_view command;  // SMTP command that was refused: CONN, HELO, MAIL, RCPT, DATA; may be empty
};

struct Classification {
  std::string reason;  // a word of the reason vocabulary, e.g. "userunknown"
  BounceClass bounce_class = BounceClass::kPermanent;
  bool hard = false;    // the address itself is permanently undeliverable
  std::string rule_id;  // id of the matching rule, or "fallback-..." when none matched
  // The status to report: the one found, or when none was found one derived
  // from the reason and class (documented in docs/rules.md).
  std::string status;
  bool status_derived = false;
  // Human-readable account of why: "rule mbox-full (line 40): diagnostic
  // matched /mailbox.*full/". For logs and `bouncectl rules test`.
  std::string explanation;
};

class RuleTable {
 public:
  // Loads and compiles a rules file. Errors: kNotFound/kIOError (cannot read),
  // kInvalidArgument ("path:line: message" for the first bad line).
  static Result<std::shared_ptr<const RuleTable>> LoadFile(const std::string& path);
  // Same, from text; source_name is used in error messages in place of a path.
  static Result<std::shared_ptr<const RuleTable>> LoadString(std::string_view text,
                                                             std::string_view source_name);
  // The embedded default table. Never fails (a broken default fails the build's tests).
  static std::shared_ptr<const RuleTable> Default();
  // LoadFile(path), or Default() when path is empty: how every consumer of an
  // optional rules-file setting (RulesFile, --rules) picks its table.
  static Result<std::shared_ptr<const RuleTable>> LoadFileOrDefault(const std::string& path);
  // The text of the embedded default table (rules/default.rules), for admins
  // who start their own file from it (`bouncectl rules default`).
  static std::string_view DefaultText();

  // First matching rule wins; the fallback applies when none matches.
  Classification Classify(const RuleInput& input) const;

  std::size_t size() const;  // number of rules
  ~RuleTable();

 private:
  struct Impl;
  explicit RuleTable(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

// A recipient of a report together with its classification.
struct ClassifiedRecipient {
  RecipientResult facts;
  Classification classification;
};

// Classifies every recipient of a report with the table.
std::vector<ClassifiedRecipient> ClassifyReport(const BounceReport& report,
                                                const RuleTable& table);

}  // namespace bm

#endif  // BM_RULES_RULE_TABLE_H_
