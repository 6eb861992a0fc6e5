// bouncectl import: seed or merge a CRM suppression list into the store.
#include <cstdio>
#include <fstream>
#include <iostream>
#include <set>

#include <nlohmann/json.hpp>

#include "cli/store_cli.h"
#include "cli/store_json.h"
#include "store/crm_format.h"

namespace bm::cli {
namespace {

constexpr std::size_t kRowsPerTransaction = 2000;
constexpr std::size_t kMaxReportedErrors = 1000;
constexpr std::size_t kMaxJsonLine = 64 * 1024;

constexpr const char* kImportHelp =
    "Usage: bouncectl import --format csv|jsonl [--db PATH] [--json] [--actor NAME] FILE | -\n"
    "\n"
    "Merges a suppression list into the store (source `import`). CSV needs a\n"
    "header row with an `address` (or `email`) column; the other recognised\n"
    "columns are those of `bouncectl export`: state (default suppressed),\n"
    "reason (default import), state_since / first_bounce, suppressed_until\n"
    "(required for suppressed-temporary), hard_count, soft_count,\n"
    "complaint_count, last_diagnostic. Others are ignored. JSONL takes one\n"
    "object per line with the same names. Times: ISO 8601 UTC or Unix seconds.\n"
    "\n"
    "Merging: an address already in the store keeps the stronger state\n"
    "(import never lifts a suppression), counters take the maximum and the\n"
    "first-bounce time the minimum. Rows repeating what the store holds add\n"
    "nothing. A bad row is reported as FILE:LINE: message on standard error\n"
    "and skipped; the good rows are kept. The summary, rows imported and bad\n"
    "rows skipped, goes to standard output, like that of ingest.\n"
    "\n"
    "Options:\n"
    "  --json        print the summary as one JSON object: rows (data rows\n"
    "                read), imported (= new + merged), new (addresses the store\n"
    "                did not have), merged (addresses it had, or an earlier row\n"
    "                named), bad, and errors: [{\"line\":N,\"message\":M}, ...],\n"
    "                the first 1000 bad rows (bad rows still go to standard\n"
    "                error too)\n"
    "  --actor NAME  who imports, recorded in the event log (default\n"
    "                import:FILE)\n"
    "\n"
    "Exit status: 0 when every row was imported, 1 when some row was bad or\n"
    "the store failed, 2 on a usage error.\n";

// What an import did, for its summary.
struct ImportCounts {
  std::size_t rows = 0;  // data rows read, good and bad
  std::size_t added = 0, merged = 0, bad = 0;
  nlohmann::ordered_json errors = nlohmann::ordered_json::array();  // the first bad rows
};

class Importer {
 public:
  Importer(Store& store, std::string file, std::string actor)
      : store_(store), file_(std::move(file)), actor_(std::move(actor)) {}

  void BadRow(std::size_t line, std::string_view message) {
    ++counts_.rows;
    if (++counts_.bad <= kMaxReportedErrors) {
      std::fprintf(stderr, "%s:%zu: %.*s\n", file_.c_str(), line, static_cast<int>(message.size()),
                   message.data());
      counts_.errors.push_back({{"line", line}, {"message", message}});
    }
  }
  // Validates the address here so that a bad one is reported with its line.
  Status Add(ImportRow row, std::size_t line) {
    Result<std::string> a = NormalizeAddress(row.address, store_.options().normalization);
    if (!a.ok()) {
      BadRow(line, "address '" + row.address + "': " + a.status().message());
      return Status::Ok();
    }
    ++counts_.rows;
    row.address = *a;
    // New or merged, as the store stands before this batch: Import itself
    // does not say, and the summary is worth one read per row.
    Result<std::optional<AddressRecord>> known = store_.GetRecord(row.address);
    if (!known.ok()) return known.status();
    if (!batch_addresses_.insert(row.address).second || known->has_value()) ++batch_merged_;
    rows_.push_back(std::move(row));
    return rows_.size() >= kRowsPerTransaction ? Flush() : Status::Ok();
  }
  Status Flush() {
    if (rows_.empty()) return Status::Ok();
    Status s = store_.Import(rows_, actor_, NowSeconds());
    if (s.ok()) {
      counts_.merged += batch_merged_;
      counts_.added += rows_.size() - batch_merged_;
    }
    rows_.clear();
    batch_addresses_.clear();
    batch_merged_ = 0;
    return s;
  }
  const ImportCounts& counts() const { return counts_; }

 private:
  Store& store_;
  std::string file_;
  std::string actor_;
  std::vector<ImportRow> rows_;  // the batch not yet written
  std::set<std::string> batch_addresses_;
  std::size_t batch_merged_ = 0;
  ImportCounts counts_;
};

Status ImportCsv(std::istream& in, Importer& importer) {
  CsvReader reader(in);
  std::vector<std::string> fields;
  std::size_t line = 0;
  Result<bool> more = reader.Next(&fields, &line);
  if (!more.ok() || !*more) return Status::InvalidArgument("no header row");
  Result<CsvImportLayout> layout = CsvImportLayout::FromHeader(fields);
  if (!layout.ok()) return layout.status();
  for (;;) {
    more = reader.Next(&fields, &line);
    if (!more.ok()) {
      importer.BadRow(line, more.status().message());
      continue;
    }
    if (!*more) return Status::Ok();
    if (fields.size() == 1 && fields[0].empty()) continue;  // blank line
    Result<ImportRow> row = layout->Row(fields);
    if (!row.ok()) {
      importer.BadRow(line, row.status().message());
      continue;
    }
    Status s = importer.Add(std::move(*row), line);
    if (!s.ok()) return s;
  }
}

Status ImportJsonl(std::istream& in, Importer& importer) {
  std::string text;
  for (std::size_t line = 1; std::getline(in, text); ++line) {
    if (text.find_first_not_of(" \t\r") == std::string::npos) continue;
    if (text.size() > kMaxJsonLine) {
      importer.BadRow(line, "line too long");
      continue;
    }
    Result<ImportRow> row = ImportRowFromJson(text);
    if (!row.ok()) {
      importer.BadRow(line, row.status().message());
      continue;
    }
    Status s = importer.Add(std::move(*row), line);
    if (!s.ok()) return s;
  }
  return Status::Ok();
}

}  // namespace

int RunImport(const Args& raw) {
  Result<ParsedArgs> args = ParseStoreArgs(raw, {{"--format", "--actor"}, {}});
  if (!args.ok()) return UsageError("import", args.status().message());
  if (args->help) return ShowStoreHelp(kImportHelp);
  Result<std::string> format = CrmFormatOption(*args);
  if (!format.ok()) return UsageError("import", format.status().message());
  if (args->positional.size() != 1) return UsageError("import", "give one FILE (or -)");
  const std::string file = args->positional[0];
  std::ifstream file_in;
  if (file != "-") {
    file_in.open(file, std::ios::binary);
    if (!file_in) return Fail("import", "cannot open " + file);
  }
  std::istream& in = file == "-" ? std::cin : file_in;
  Result<std::unique_ptr<Store>> store = OpenStoreForCli(*args, /*read_only=*/false);
  if (!store.ok()) return Fail("import", store.status().ToString());
  Importer importer(**store, file == "-" ? "<stdin>" : file, args->Value("--actor", "import:" + file));
  Status s = *format == "csv" ? ImportCsv(in, importer) : ImportJsonl(in, importer);
  if (s.ok()) s = importer.Flush();
  if (!s.ok()) return Fail("import", file + ": " + s.message());
  const ImportCounts& counts = importer.counts();
  if (args->Has("--json")) {
    std::fputs(JsonLine({{"rows", counts.rows},
                         {"imported", counts.added + counts.merged},
                         {"new", counts.added},
                         {"merged", counts.merged},
                         {"bad", counts.bad},
                         {"errors", counts.errors}})
                   .c_str(),
               stdout);
  } else {
    std::printf("%zu row(s) imported, %zu bad row(s) skipped\n", counts.added + counts.merged,
                counts.bad);
  }
  return counts.bad == 0 ? kExitOk : kExitError;
}

}  // namespace bm::cli
