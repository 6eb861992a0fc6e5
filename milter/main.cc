// bounce-milter: the milter daemon. See docs/bounce-milter.md.
//
// SECURITY: started as root, it opens its socket (and pid/log files), then
// drops to UserID before it serves a connection or opens the store.
#include <pthread.h>
#include <signal.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include <spdlog/spdlog.h>

#include "milter/filter.h"
#include "milter/filter_connection.h"
#include "milter/logging.h"
#include "milter/milter_server.h"
#include "milter/policy.h"
#include "milter/process.h"
#include "milter/store_access.h"
#include "parser/parser.h"

namespace bm {
namespace {

constexpr int kExitUsage = 64;
constexpr int kExitConfig = 78;
// How long the stop waits for milter commands in progress.
constexpr std::chrono::milliseconds kCommandDrainTime = std::chrono::seconds(5);
// After the drain time, connections are shut down; how long the workers then
// get to leave a callback before the daemon exits without closing the store.
constexpr std::chrono::milliseconds kCutOffTime = std::chrono::seconds(1);

struct Options {
  std::string config_path;  // -c
  bool foreground = false;  // -f
  bool check_only = false;  // -n
  bool print_keys = false;  // -d
  bool print_commented = false;  // -D
};

void Usage(std::FILE* out) {
  std::fputs(
      "Usage: bounce-milter [-f] [-n] [-d | -D] [-c FILE]\n"
      "       bounce-milter -h | --help | --version\n"
      "\n"
      "Milter for Postfix and Sendmail: learns from the bounces that reach the\n"
      "MTA (DSNs, non-delivery reports, auto-replies, feedback reports), records\n"
      "them in the suppression store, and refuses outbound mail to suppressed\n"
      "recipients. Manual: docs/bounce-milter.md; keys: docs/bounce-milter.conf.md.\n"
      "\n"
      "Options:\n"
      "  -c FILE  configuration file (default /etc/bounce-milter.conf; when that is\n"
      "           missing and -c is not given, the built-in defaults are used)\n"
      "  -f       stay in the foreground (otherwise detach)\n"
      "  -n       check the configuration and rules, print FILE: OK, then exit\n"
      "  -d       print the configuration keys (markdown) and exit\n"
      "  -D       print every key, commented out at its default, and exit\n"
      "  -h       this text\n"
      "\n"
      "Signals: SIGHUP re-reads configuration and rules (a broken file is logged\n"
      "and the old one keeps serving) and reopens the store when StorePath or a\n"
      "store policy key changed; SIGTERM or SIGINT stop cleanly.\n"
      "\n"
      "Exit status: 0 after a clean stop or a good -n; 64 bad command line;\n"
      "78 configuration or rules error; 1 any other start-up failure, or a\n"
      "stop whose commands in progress did not finish within 6 s.\n",
      out);
}

// Evaluated again on SIGHUP, so creating the default file and sending
// SIGHUP takes it into use.
std::string ConfigPathToUse(const Options& options) {
  return ConfigFileToRead(options.config_path);
}

std::string JoinKeys(const std::vector<std::string_view>& keys) {
  std::string joined;
  for (std::string_view key : keys) joined += (joined.empty() ? "" : ", ") + std::string(key);
  return joined;
}

void Reload(PolicyHolder& holder, StoreAccess& store, const Options& options) {
  const std::string path = ConfigPathToUse(options);
  Result<std::shared_ptr<const Policy>> next = LoadPolicy(path);
  if (!next.ok()) {
    spdlog::error("reload failed, still serving the previous configuration and rules: {}",
                  next.status().ToString());
    return;
  }
  const std::shared_ptr<const Policy> previous = holder.Current();
  const Config& current = *previous->config;
  const Config& loaded = *(*next)->config;
  for (std::string_view key : ChangedKeys(current, loaded, OnReload::kNeedsRestart)) {
    spdlog::warn("reload: {} changed; the new value takes effect after a restart", key);
  }
  const std::vector<std::string_view> store_keys =
      ChangedKeys(current, loaded, OnReload::kReopensStore);
  ApplyLogLevel(loaded);
  holder.Replace(*next);
  if (!store_keys.empty()) {
    spdlog::info("reload: {} changed; reopening the store", JoinKeys(store_keys));
    Status s = store.Reopen(loaded);
    if (!s.ok()) {
      spdlog::error("reload: {}; applying On-StoreError until it opens", s.ToString());
    }
  }
  spdlog::info("reloaded {} ({} rules)", path.empty() ? "built-in defaults" : path,
               (*next)->rules->size());
}

// Waits for SIGHUP (reload) and SIGTERM/SIGINT (stop the server) until told
// to end with SIGUSR2.
class SignalThread {
 public:
  SignalThread(PolicyHolder& holder, StoreAccess& store, const Options& options,
               MilterServer& server)
      : thread_([&holder, &store, &options, &server] {
          sigset_t set;
          sigemptyset(&set);
          for (int sig : {SIGHUP, SIGUSR2, SIGTERM, SIGINT}) sigaddset(&set, sig);
          for (;;) {
            int sig = sigwaitinfo(&set, nullptr);
            if (sig == SIGUSR2) return;
            if (sig == SIGHUP) Reload(holder, store, options);
            if (sig == SIGTERM || sig == SIGINT) {
              spdlog::info("signal {}: stopping", sig);
              server.Stop();
            }
          }
        }) {}
  ~SignalThread() {
    pthread_kill(thread_.native_handle(), SIGUSR2);
    thread_.join();
  }

 private:
  std::thread thread_;
};

int Run(const Options& options) {
  GMimeLibrary gmime;
  const std::string path = ConfigPathToUse(options);
  Result<std::shared_ptr<const Policy>> loaded = LoadPolicy(path);
  if (!loaded.ok()) {
    if (options.check_only) {
      // The check's answer is the error alone ("FILE:LINE: message"), for
      // scripts and editors; the daemon logs it like any other.
      std::fprintf(stderr, "%s\n", loaded.status().message().c_str());
    } else {
      spdlog::critical("{}", loaded.status().ToString());
    }
    return kExitConfig;
  }
  std::shared_ptr<const Policy> policy = *loaded;
  const Config& config = *policy->config;
  if (options.check_only) {
    std::printf("%s: OK (%zu rules)\n", path.empty() ? "built-in defaults" : path.c_str(),
                policy->rules->size());
    return 0;
  }
  Status s = SetupLogging(config);
  if (!s.ok()) {
    spdlog::critical("{}", s.ToString());
    return kExitConfig;
  }
  if (path.empty()) {
    spdlog::info("no configuration file ({} not found, no -c): running on built-in defaults",
                 kDefaultConfigPath);
  }
  if (!options.foreground) {
    s = Daemonize(config.log_target == "stderr");
    if (!s.ok()) {
      spdlog::critical("{}", s.ToString());
      return 1;
    }
  }
  // Before any thread exists, so that every thread inherits the mask: these
  // signals are then received only by the SignalThread's sigwaitinfo().
  sigset_t set;
  sigemptyset(&set);
  for (int sig : {SIGHUP, SIGUSR2, SIGTERM, SIGINT}) sigaddset(&set, sig);
  pthread_sigmask(SIG_BLOCK, &set, nullptr);
  // A log reader that went away (LogTarget stderr into a pipe) must cost a
  // log line, not the daemon; the sockets are written with MSG_NOSIGNAL.
  signal(SIGPIPE, SIG_IGN);

  if (!config.pid_file.empty() && !(s = WritePidFile(config.pid_file)).ok()) {
    spdlog::critical("{}", s.ToString());
    return 1;
  }
  PolicyHolder holder(policy);
  StoreAccess store(config);
  Filter filter(holder, store, [] { return static_cast<std::int64_t>(std::time(nullptr)); });
  MilterServerOptions server_options;
  server_options.socket = config.socket;
  server_options.backlog = config.listen_backlog;
  server_options.timeout_seconds = config.milter_timeout;
  server_options.max_connections = config.max_connections;
  Result<std::unique_ptr<MilterServer>> server =
      MilterServer::Listen(server_options, [&filter]() -> std::unique_ptr<PacketHandler> {
        return std::make_unique<FilterConnection>(filter);
      });
  if (!server.ok()) {
    spdlog::critical("cannot open milter socket {}: {}", config.socket,
                     server.status().ToString());
    return 1;
  }
  const std::string& owner = config.socket_owner.empty() ? config.user_id : config.socket_owner;
  if (!(s = SetSocketPermissions(config.socket, owner, config.socket_mode)).ok()) {
    spdlog::critical("socket {}: {}", config.socket, s.ToString());
    return 1;
  }
  if (!(s = DropPrivileges(config.user_id)).ok()) {
    spdlog::critical("UserID {}: {}", config.user_id, s.ToString());
    return 1;
  }
  if (geteuid() == 0) spdlog::warn("running as root: set UserID to drop privileges");
  if (!(s = store.Open()).ok()) {
    spdlog::error("store {} unavailable ({}); applying On-StoreError until it opens",
                  config.store_path, s.ToString());
  }
  Status served;
  {
    SignalThread signals(holder, store, options, **server);
    spdlog::info("bounce-milter {} listening on {} (mode {}, {} rules)", BM_VERSION,
                 config.socket, config.mode == Mode::kMonitor ? "monitor" : "enforce",
                 policy->rules->size());
    served = (*server)->Run();
    if (!served.ok()) spdlog::error("{}", served.ToString());
  }
  // The server has stopped accepting, but its workers may still be handling
  // a command: let them finish before the store and the filter go away. One
  // still sending a reply the MTA does not read is then cut off.
  bool drained = (*server)->Drain(kCommandDrainTime);
  if (!drained) {
    (*server)->CloseConnections();
    drained = (*server)->Drain(kCutOffTime);
  }
  if (drained) {
    server->reset();
    store.Close();
  }
  if (!(s = RemoveUnixSocket(config.socket)).ok()) spdlog::warn("{}", s.ToString());
  if (!config.pid_file.empty()) unlink(config.pid_file.c_str());
  if (!drained) {
    // A worker is still inside a handler that uses the filter and the
    // store: destroying them under it would crash the exit. Leave without
    // running destructors; LMDB needs no close to stay consistent, bounces
    // already answered are committed, and an unanswered one is retried by
    // the MTA. Only not-yet-flushed sent counts can be lost.
    spdlog::warn("a milter command still ran {} s after the stop; exiting without closing the store",
                 std::chrono::duration_cast<std::chrono::seconds>(kCommandDrainTime + kCutOffTime)
                     .count());
    spdlog::shutdown();
    std::_Exit(1);
  }
  spdlog::info("bounce-milter stopped");
  return served.ok() ? 0 : 1;
}

}  // namespace
}  // namespace bm

int main(int argc, char** argv) {
  bm::Options options;
  for (int i = 1; i < argc; ++i) {
    const std::string_view arg = argv[i];
    if (arg == "--help") {
      bm::Usage(stdout);
      return 0;
    }
    if (arg == "--version") {
      std::puts("bounce-milter " BM_VERSION);
      return 0;
    }
  }
  int opt;
  while ((opt = getopt(argc, argv, "c:fndDh")) != -1) {
    switch (opt) {
      case 'c': options.config_path = optarg; break;
      case 'f': options.foreground = true; break;
      case 'n': options.check_only = true; break;
      case 'd': options.print_keys = true; break;
      case 'D': options.print_commented = true; break;
      case 'h': bm::Usage(stdout); return 0;
      default: bm::Usage(stderr); return bm::kExitUsage;
    }
  }
  if (optind != argc || (options.print_keys && options.print_commented)) {
    bm::Usage(stderr);
    return bm::kExitUsage;
  }
  if (options.print_keys || options.print_commented) {
    std::fputs(options.print_keys ? bm::ConfigKeysMarkdown().c_str()
                                  : bm::ConfigKeysCommented().c_str(),
               stdout);
    return 0;
  }
  return bm::Run(options);
}
