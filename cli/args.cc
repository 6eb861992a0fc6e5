#include "cli/args.h"

#include <algorithm>
#include <charconv>
#include <cstdio>

namespace bm::cli {
namespace {

bool Contains(const std::vector<std::string_view>& list, std::string_view s) {
  return std::find(list.begin(), list.end(), s) != list.end();
}

}  // namespace

std::string ParsedArgs::Value(std::string_view name, std::string fallback) const {
  auto it = values.find(name);
  return it == values.end() ? fallback : it->second;
}

Result<ParsedArgs> ParseArgs(const Args& args, const OptionSpec& spec) {
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
    bool inline_value = false;
    if (std::size_t eq = a.find('='); eq != std::string::npos && a.starts_with("--")) {
      name = a.substr(0, eq);
      value = a.substr(eq + 1);
      inline_value = true;
    }
    if (Contains(spec.with_value, name)) {
      if (!inline_value) {
        if (i + 1 >= args.size()) {
          return Status::InvalidArgument("option " + name + " needs a value");
        }
        value = args[++i];
      }
      out.values[name] = std::move(value);
    } else if (Contains(spec.flags, name)) {
      if (inline_value) return Status::InvalidArgument("option " + name + " takes no value");
      out.flags.insert(name);
    } else {
      return Status::InvalidArgument("unknown option " + name);
    }
  }
  return out;
}

Result<std::int64_t> IntegerOption(const ParsedArgs& args, std::string_view name,
                                   std::int64_t min, std::int64_t max, std::int64_t fallback) {
  auto it = args.values.find(name);
  if (it == args.values.end()) return fallback;
  const std::string& text = it->second;
  std::int64_t n = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), n);
  if (text.empty() || ec != std::errc() || end != text.data() + text.size() || n < min ||
      n > max) {
    return Status::InvalidArgument(std::string(name) + " takes " + std::to_string(min) + ".." +
                                   std::to_string(max) + ", not '" + text + "'");
  }
  return n;
}

int UsageError(std::string_view command, std::string_view message) {
  std::fprintf(stderr, "bouncectl %.*s: %.*s; see bouncectl %.*s --help\n",
               static_cast<int>(command.size()), command.data(), static_cast<int>(message.size()),
               message.data(), static_cast<int>(command.size()), command.data());
  return kExitUsage;
}

int Fail(std::string_view command, std::string_view message, int status) {
  std::fprintf(stderr, "bouncectl %.*s: %.*s\n", static_cast<int>(command.size()), command.data(),
               static_cast<int>(message.size()), message.data());
  return status;
}

int ShowHelp(const char* help) {
  std::fputs(help, stdout);
  return kExitOk;
}

}  // namespace bm::cli
