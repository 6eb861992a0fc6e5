// bouncectl verify [--keys FILE] [--prefix P] [--max-age-days N] [--json] ADDRESS...
//
// Decodes the return-path tag of each address (auth/return_path.h) and says
// whether bounce-milter would trust a bounce sent to it.
#include <chrono>
#include <cstdio>
#include <memory>
#include <string>

#include <nlohmann/json.hpp>

#include "auth/keyring.h"
#include "auth/return_path.h"
#include "cli/args.h"
#include "cli/commands.h"

namespace bm::cli {
namespace {

constexpr const char* kHelp =
    "Usage: bouncectl verify [--keys FILE] [--prefix P] [--max-age-days N] [--json]\n"
    "                        ADDRESS...\n"
    "\n"
    "Decodes the signed envelope sender (return path) that bounce-milter puts\n"
    "on outgoing mail, as found in the envelope recipient of a bounce, and\n"
    "checks its tag with the keys. For each address it prints the verdict and\n"
    "what the tag carries:\n"
    "\n"
    "  verified    made with one of our keys, unchanged, and fresh\n"
    "  expired     made with one of our keys, but older than the window\n"
    "  forged      looks signed, but the tag is malformed, the key id unknown,\n"
    "              or the tag does not match the address\n"
    "  not-signed  not a signed address at all\n"
    "\n"
    "and the form (verp: one recipient, encoded in the address; per-message:\n"
    "prvs=, the original sender kept), the key id, the day the tag was made,\n"
    "and the recipient (verp) or the original sender (per-message).\n"
    "The address forms are described in docs/security.md.\n"
    "\n"
    "Options:\n"
    "  --keys FILE         key file (default /etc/bounce-milter/return-path.keys)\n"
    "  --prefix P          VERP local-part prefix (default bounces)\n"
    "  --max-age-days N    freshness window in days (default 10)\n"
    "  --json              one JSON object per address, one per line\n"
    "  -h, --help          this text\n"
    "\n"
    "Exit status: 0 when every address verified, 3 when any did not, 1 when\n"
    "the keys cannot be loaded, 2 on a usage error.\n";

std::string DayOf(const DecodedReturnPath& d, std::chrono::system_clock::time_point now) {
  if (d.day_stamp < 0) return "";
  auto made = std::chrono::floor<std::chrono::days>(now) - std::chrono::days(d.age_days);
  std::string when = FormatUtc(std::chrono::duration_cast<std::chrono::seconds>(
                                   made.time_since_epoch()).count()).substr(0, 10);
  return when;
}

void Print(const std::string& address, const DecodedReturnPath& d,
           std::chrono::system_clock::time_point now, bool json) {
  const bool tag_authentic = d.state == TagState::kVerified || d.state == TagState::kExpired;
  if (json) {
    nlohmann::json j{{"address", address},
                     {"verdict", TagStateName(d.state)},
                     {"form", ReturnPathFormName(d.form)}};
    if (d.key_id) j["key_id"] = std::string(1, d.key_id);
    if (d.day_stamp >= 0) j["day_stamp"] = d.day_stamp;
    if (tag_authentic) {
      j["day"] = DayOf(d, now);
      j["age_days"] = d.age_days;
    }
    if (!d.recipient.empty()) j["recipient"] = d.recipient;
    if (!d.original_sender.empty()) j["original_sender"] = d.original_sender;
    if (!d.detail.empty()) j["detail"] = d.detail;
    std::puts(j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace).c_str());
    return;
  }
  std::printf("%s: %s\n", address.c_str(), std::string(TagStateName(d.state)).c_str());
  if (d.form == ReturnPathForm::kNone) return;
  std::printf("  form             %s\n", std::string(ReturnPathFormName(d.form)).c_str());
  if (d.key_id) std::printf("  key id           %c\n", d.key_id);
  if (tag_authentic) {
    std::printf("  day              %s (%d days old, stamp %d)\n", DayOf(d, now).c_str(),
                d.age_days, d.day_stamp);
  }
  if (!d.recipient.empty()) std::printf("  recipient        %s\n", d.recipient.c_str());
  if (!d.original_sender.empty()) {
    std::printf("  original sender  %s\n", d.original_sender.c_str());
  }
  if (!d.detail.empty()) std::printf("  detail           %s\n", d.detail.c_str());
}

}  // namespace

int RunVerify(const Args& raw) {
  Result<ParsedArgs> args =
      ParseArgs(raw, {{"--keys", "--prefix", "--max-age-days"}, {"--json"}});
  if (!args.ok()) return UsageError("verify", args.status().message());
  if (args->help) return ShowHelp(kHelp);
  if (args->positional.empty()) return UsageError("verify", "no ADDRESS given");
  const std::string path = args->Value("--keys", kDefaultKeyFile);
  ReturnPathOptions options;
  options.prefix = args->Value("--prefix", options.prefix);
  Result<std::int64_t> max_age = IntegerOption(*args, "--max-age-days", 1,
                                               kDayStampPeriod / 2 - 1, options.max_age_days);
  if (!max_age.ok()) return UsageError("verify", max_age.status().message());
  options.max_age_days = static_cast<int>(*max_age);
  const bool json = args->Has("--json");
  Result<Keyring> ring = Keyring::LoadFile(path);
  if (!ring.ok()) return Fail("verify", ring.status().message());
  ReturnPathCodec codec(std::make_shared<const Keyring>(std::move(ring).value()), options);
  const auto now = std::chrono::system_clock::now();
  int exit_status = kExitOk;
  for (const std::string& address : args->positional) {
    DecodedReturnPath d = codec.Decode(address, now);
    if (d.state != TagState::kVerified) exit_status = kExitNotFound;
    Print(address, d, now, json);
  }
  return exit_status;
}

}  // namespace bm::cli
