#include "cli/store_cli.h"

#include <cstdio>
#include <cstdlib>
#include <ctime>

#include "milter/config_store.h"

namespace bm::cli {
namespace {

bool Contains(const std::vector<std::string_view>& list, std::string_view s) {
  for (std::string_view x : list) {
    if (x == s) return true;
  }
  return false;
}

}  // namespace

std::string ParsedArgs::Value(std::string_view name, std::string fallback) const {
  auto it = values.find(name);
  return it == values.end() ? fallback : it->second;
}

Result<ParsedArgs> ParseArgs(const Args& args, const std::vector<std::string_view>& value_options,
                             const std::vector<std::string_view>& flag_options) {
  ParsedArgs out;
  bool options_done = false;
  for (std::size_t i = 0; i < args.size(); ++i) {
    const std::string& a = args[i];
    if (options_done || a == "-" || a.empty() || a[0] != '-') {
      out.positional.push_back(a);
      continue;
    }
    if (a == "--") {
      options_done = true;
      continue;
    }
    if (a == "-h" || a == "--help") {
      out.help = true;
      continue;
    }
    std::string name = a;
    std::string value;
    bool has_inline_value = false;
    if (std::size_t eq = a.find('='); eq != std::string::npos && a.rfind("--", 0) == 0) {
      name = a.substr(0, eq);
      value = a.substr(eq + 1);
      has_inline_value = true;
    }
    if (name == "--db" || name == "--config" || Contains(value_options, name)) {
      if (!has_inline_value) {
        if (i + 1 >= args.size()) return Status::InvalidArgument("option " + name + " needs a value");
        value = args[++i];
      }
      out.values[name] = value;
    } else if ((name == "--json" || Contains(flag_options, name)) && !has_inline_value) {
      out.flags.insert(name);
    } else {
      return Status::InvalidArgument("unknown option '" + a + "'");
    }
  }
  return out;
}

Result<std::shared_ptr<const Config>> LoadCliConfig(const ParsedArgs& args) {
  std::string named = args.Value("--config");
  if (const char* env = std::getenv("BOUNCECTL_CONFIG");
      named.empty() && env != nullptr && *env != '\0') {
    named = env;
  }
  return LoadConfigFileOrDefaults(ConfigFileToRead(named));
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
  Result<std::shared_ptr<const Config>> config = LoadCliConfig(args);
  if (!config.ok()) return config.status();
  return OpenStoreForCli(args, **config, read_only);
}

std::int64_t NowSeconds() { return static_cast<std::int64_t>(std::time(nullptr)); }

int Fail(std::string_view command, std::string_view message, int status) {
  std::fprintf(stderr, "bouncectl %.*s: %.*s\n", static_cast<int>(command.size()), command.data(),
               static_cast<int>(message.size()), message.data());
  return status;
}

int UsageError(std::string_view command, std::string_view message, const char* help) {
  Fail(command, message);
  std::fputs(help, stderr);
  return kExitUsage;
}

}  // namespace bm::cli
