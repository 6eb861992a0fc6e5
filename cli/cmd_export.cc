// bouncectl export: the CRM feed, CSV or JSON Lines, resumable by cursor.
#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <limits>

#include "cli/store_cli.h"
#include "store/crm_format.h"

namespace bm::cli {
namespace {

constexpr const char* kExportHelp =
    "Usage: bouncectl export --format csv|jsonl [--db PATH] [--since CURSOR]\n"
    "                        [--state S] [--output FILE] [--no-bom]\n"
    "\n"
    "Writes address records for a CRM. Without --since, every record (grouped\n"
    "by receiving domain); with --since CURSOR, each record changed after that\n"
    "cursor exactly once (in the order of its newest change). After the rows,\n"
    "prints the cursor to resume from on standard error as\n"
    "    cursor=N\n"
    "Pass it as --since next time to receive only what changed since. The\n"
    "export streams: memory use does not grow with the number of records.\n"
    "A cursor older than the event-log retention is refused (do a full export).\n"
    "\n"
    "Options:\n"
    "  --format csv    RFC 4180: UTF-8 with a byte-order mark (so that Excel\n"
    "                  detects UTF-8), every field quoted, CRLF, a header row;\n"
    "                  a field starting with = + - @ TAB or CR is prefixed\n"
    "                  with ' so that spreadsheets do not run it as a formula\n"
    "  --format jsonl  one JSON object per record, same field names\n"
    "  --state S       only records in state S (repeatable as a comma list:\n"
    "                  suppressed,suppressed-temporary)\n"
    "  --output FILE   write to FILE instead of standard output\n"
    "  --no-bom        CSV without the byte-order mark\n"
    "\n"
    "Columns: address, state, reason, class, hard, source, first_bounce,\n"
    "last_bounce, state_since, suppressed_until (times in UTC, ISO 8601),\n"
    "hard_count, soft_count, complaint_count, last_status, last_diagnostic,\n"
    "last_rule_id, message_id, updated_seq.\n"
    "\n"
    "Exit status: 0, 1 on an error (store, output file, a refused cursor),\n"
    "2 on a usage error.\n";

}  // namespace

int RunExport(const Args& raw) {
  Result<ParsedArgs> args =
      ParseStoreArgs(raw, {{"--format", "--since", "--state", "--output"}, {"--no-bom"}});
  if (!args.ok()) return UsageError("export", args.status().message());
  if (args->help) return ShowStoreHelp(kExportHelp);
  Result<std::string> format = CrmFormatOption(*args);
  if (!format.ok()) return UsageError("export", format.status().message());
  // Every store command takes --json; the export's machine-readable form is
  // --format jsonl, and ignoring --json would hand a script CSV it did not ask for.
  if (args->Has("--json")) return UsageError("export", "--json is not an export option; use --format jsonl");
  if (!args->positional.empty()) return UsageError("export", "unexpected argument");
  std::vector<AddressState> states;
  for (std::string rest = args->Value("--state"); !rest.empty();) {
    std::size_t comma = rest.find(',');
    std::string word = rest.substr(0, comma);
    rest = comma == std::string::npos ? "" : rest.substr(comma + 1);
    std::optional<AddressState> st = ParseAddressState(word);
    if (!st) return UsageError("export", "unknown state '" + word + "'");
    states.push_back(*st);
  }
  std::optional<std::uint64_t> since;
  if (args->HasValue("--since")) {
    Result<std::int64_t> cursor =
        IntegerOption(*args, "--since", 0, std::numeric_limits<std::int64_t>::max(), 0);
    if (!cursor.ok()) return UsageError("export", cursor.status().message());
    since = static_cast<std::uint64_t>(*cursor);
  }
  Result<std::unique_ptr<Store>> store = OpenStoreForCli(*args, /*read_only=*/true);
  if (!store.ok()) return Fail("export", store.status().ToString());

  FILE* out = stdout;
  const std::string output = args->Value("--output");
  if (!output.empty()) {
    out = std::fopen(output.c_str(), "wb");
    if (out == nullptr) return Fail("export", output + ": " + std::strerror(errno));
  }
  const bool csv = *format == "csv";
  if (csv) {
    if (!args->Has("--no-bom")) std::fwrite(kUtf8Bom.data(), 1, kUtf8Bom.size(), out);
    std::fputs(CsvHeader().c_str(), out);
  }
  auto emit = [&](const AddressRecord& r) {
    if (!states.empty() && std::find(states.begin(), states.end(), r.state) == states.end()) return true;
    const std::string line = csv ? RecordToCsv(r) : RecordToJsonl(r);
    return std::fwrite(line.data(), 1, line.size(), out) == line.size();
  };
  Result<std::uint64_t> cursor = std::uint64_t{0};
  if (since) {
    cursor = (*store)->ForEachChangedSince(*since, {}, emit);
  } else {
    // The cursor is taken first: a record changed during the listing is
    // exported again next time rather than missed.
    cursor = (*store)->LastSequence();
    if (cursor.ok()) {
      Status s = (*store)->ForEachRecord({}, emit);
      if (!s.ok()) cursor = s;
    }
  }
  const bool write_failed = std::ferror(out) != 0 || (out != stdout ? std::fclose(out) != 0 : std::fflush(out) != 0);
  if (!cursor.ok()) return Fail("export", cursor.status().ToString());
  if (write_failed) return Fail("export", "write failed: " + std::string(std::strerror(errno)));
  std::fprintf(stderr, "cursor=%llu\n", static_cast<unsigned long long>(*cursor));
  return kExitOk;
}

}  // namespace bm::cli
