// bouncectl keys generate|list|rotate [--keys FILE]
//
// Manages the secret keys that sign return paths (auth/keyring.h). Secrets
// are written to the key file only (mode 0600), never printed.
#include <chrono>
#include <cstdio>
#include <string>

#include <nlohmann/json.hpp>

#include "auth/keyring.h"
#include "cli/args.h"
#include "cli/commands.h"

namespace bm::cli {
namespace {

constexpr const char* kHelp =
    "Usage: bouncectl keys generate [--keys FILE]\n"
    "       bouncectl keys list [--keys FILE] [--json]\n"
    "       bouncectl keys rotate [--keys FILE]\n"
    "\n"
    "Manages the secret keys with which bounce-milter signs the envelope\n"
    "senders of outgoing mail, so that it can recognise the bounces that\n"
    "answer mail it really sent (docs/security.md).\n"
    "\n"
    "  generate  create the key file with one new random 256-bit key (id a);\n"
    "            refuses to overwrite an existing file\n"
    "  list      print the key ids, their roles and creation dates (never the\n"
    "            secrets)\n"
    "  rotate    make a new current key; the current key becomes the previous\n"
    "            one (still accepted when verifying); the old previous key is\n"
    "            dropped, and tags made with it stop verifying\n"
    "\n"
    "Options:\n"
    "  --keys FILE  key file (default /etc/bounce-milter/return-path.keys)\n"
    "  --json       list: one JSON object per key, one per line\n"
    "  -h, --help   this text\n"
    "\n"
    "The key file is written atomically with mode 0600 whatever the umask; a\n"
    "key file readable or writable by group or others is refused. After\n"
    "generate or rotate, reload the milter (SIGHUP) so it signs with the new\n"
    "key. Rotate at most once per freshness window (default 10 days), or\n"
    "bounces of mail signed two keys ago no longer verify.\n"
    "\n"
    "Exit status: 0 on success, 1 on an error (message on standard error),\n"
    "2 on a usage error.\n";

std::int64_t Now() {
  return std::chrono::duration_cast<std::chrono::seconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

int Fail(const Status& status) { return cli::Fail("keys", status.message()); }

void PrintKey(const char* role, const SigningKey& key, bool json) {
  if (json) {
    std::puts(nlohmann::json{{"id", std::string(1, key.id)},
                             {"role", role},
                             {"created", FormatUtc(key.created)}}
                  .dump()
                  .c_str());
  } else {
    std::printf("%-8s  %c  %s\n", role, key.id, FormatUtc(key.created).c_str());
  }
}

}  // namespace

int RunKeys(const Args& raw) {
  Result<ParsedArgs> args = ParseArgs(raw, {{"--keys"}, {"--json"}});
  if (!args.ok()) return UsageError("keys", args.status().message());
  if (args->help) return ShowHelp(kHelp);
  if (args->positional.size() != 1) return UsageError("keys", "give one of generate, list, rotate");
  const std::string& action = args->positional[0];
  if (action != "generate" && action != "list" && action != "rotate") {
    return UsageError("keys", "unknown action " + action);
  }
  const std::string path = args->Value("--keys", kDefaultKeyFile);
  const bool json = args->Has("--json");

  if (action == "generate") {
    Result<Keyring> ring = Keyring::Generate(Now());
    if (!ring.ok()) return Fail(ring.status());
    Status saved = ring->SaveFile(path, /*replace=*/false);
    if (!saved.ok()) {
      if (saved.code() == Status::Code::kInvalidArgument) {
        return Fail(Status::InvalidArgument(saved.message() +
                                            "; use `bouncectl keys rotate` to replace its key"));
      }
      return Fail(saved);
    }
    std::printf("%s: created with key %c\n", path.c_str(), ring->current().id);
    return kExitOk;
  }

  Result<Keyring> ring = Keyring::LoadFile(path);
  if (!ring.ok()) return Fail(ring.status());
  if (action == "list") {
    PrintKey("current", ring->current(), json);
    if (ring->previous()) PrintKey("previous", *ring->previous(), json);
    return kExitOk;
  }
  Result<Keyring> rotated = ring->Rotated(Now());
  if (!rotated.ok()) return Fail(rotated.status());
  Status saved = rotated->SaveFile(path, /*replace=*/true);
  if (!saved.ok()) return Fail(saved);
  std::printf("%s: current key %c, previous key %c", path.c_str(), rotated->current().id,
              rotated->previous()->id);
  if (ring->previous()) std::printf("; key %c is no longer accepted", ring->previous()->id);
  std::printf("\n");
  return kExitOk;
}

}  // namespace bm::cli
