#include "cli/store_cli.h"

#include <cstdio>
#include <cstdlib>
#include <ctime>

#include "milter/config_store.h"

namespace bm::cli {

Result<ParsedArgs> ParseStoreArgs(const Args& args, OptionSpec own) {
  own.with_value.insert(own.with_value.end(), {"--db", "--config"});
  own.flags.push_back("--json");
  return ParseArgs(args, own);
}

int ShowStoreHelp(const char* help) {
  std::fputs(help, stdout);
  std::fputs(
      "\n"
      "Options of every store command:\n"
      "  --db PATH      store directory (default: $BOUNCECTL_DB, else StorePath of\n"
      "                 the configuration, whose default is\n"
      "                 /var/lib/bounce-milter/store). A command that writes\n"
      "                 creates a missing store, even at a mistyped PATH.\n"
      "  --config FILE  bounce-milter configuration whose StorePath, store policy\n"
      "                 keys and RulesFile apply (default: $BOUNCECTL_CONFIG, else\n"
      "                 /etc/bounce-milter.conf when it exists, else built-in).\n"
      "                 A file or rules file the daemon refuses is refused (exit 1).\n"
      "  --json         machine-readable output as the command describes it\n"
      "                 (export refuses it: its form is --format jsonl)\n",
      stdout);
  return kExitOk;
}

Result<CliConfig> LoadCliConfig(const ParsedArgs& args) {
  std::string named = args.Value("--config");
  if (const char* env = std::getenv("BOUNCECTL_CONFIG");
      named.empty() && env != nullptr && *env != '\0') {
    named = env;
  }
  Result<std::shared_ptr<const Config>> config = LoadConfigFileOrDefaults(ConfigFileToRead(named));
  if (!config.ok()) return config.status();
  CliConfig loaded{std::move(*config), nullptr};
  if (!loaded.config->rules_file.empty()) {
    Result<std::shared_ptr<const RuleTable>> rules = RuleTable::LoadFile(loaded.config->rules_file);
    if (!rules.ok()) return rules.status();
    loaded.rules_file_table = std::move(*rules);
  }
  return loaded;
}

Result<std::string> CrmFormatOption(const ParsedArgs& args) {
  if (!args.HasValue("--format")) return Status::InvalidArgument("--format csv|jsonl is required");
  std::string format = args.Value("--format");
  if (format != "csv" && format != "jsonl") {
    return Status::InvalidArgument("unknown format '" + format + "' (csv or jsonl)");
  }
  return format;
}

Result<std::unique_ptr<Store>> OpenStoreForCli(const ParsedArgs& args, const Config& config,
                                               bool read_only) {
  StoreOptions options = StoreOptionsFromConfig(config);
  if (const char* env = std::getenv("BOUNCECTL_DB"); env != nullptr && *env != '\0') {
    options.path = env;
  }
  options.path = args.Value("--db", options.path);
  options.read_only = read_only;
  options.expire_interval_s = 0;
  return Store::Open(options);
}

Result<std::unique_ptr<Store>> OpenStoreForCli(const ParsedArgs& args, bool read_only) {
  Result<CliConfig> config = LoadCliConfig(args);
  if (!config.ok()) return config.status();
  return OpenStoreForCli(args, *config->config, read_only);
}

std::int64_t NowSeconds() { return static_cast<std::int64_t>(std::time(nullptr)); }

}  // namespace bm::cli
