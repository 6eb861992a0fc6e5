// libFuzzer target: a whole milter connection, as the MTA's bytes, through
// FilterConnection (milter/filter_connection.h) into the real Filter and a
// real suppression store.
//
// Input: one byte that selects a configuration, then the MTA's side of the
// connection on the wire (packets). The configurations cover inbound bounces
// (null sender, BounceAddresses; tagged, discarded, rate-limited), outbound
// mail (OutboundClients, SMTP AUTH, OutboundDaemons; enforce and monitor;
// signed return paths, the sent-message ledger by Message-ID and by queue
// id) and the defaults. The end of the input closes the connection, wherever
// it is in a message.
//
// Checked beyond "no crash, leak or undefined behaviour": every reply is a
// well-formed packet; a command gets exactly one final reply when the MTA
// waits for one under the negotiated steps, none otherwise; modifications
// (added header, changed sender, removed recipient) come only before the
// reply to end of message; a reply code is a 4xx/5xx line that fits in a
// packet the MTA takes; a recipient of a null-sender message is refused
// only by the bounce rate limit (451 4.7.1).
//
// The store, the key file and the configurations live in a directory made
// once per process under TMPDIR (removed at exit); the store persists
// across inputs, so what one input records, a later one finds. The clock is
// fixed, and each input gets a fresh Filter (fresh rate limiters), so an
// input's replies depend only on the input and the store.
//
// The custom mutator keeps the framing intact most of the time (it mutates,
// repeats, drops or retypes whole packets and fixes the lengths), so that
// the fuzzer gets past the codec into the filter; one mutation in four works
// on the raw bytes, broken framing included.
#include <spdlog/sinks/null_sink.h>
#include <spdlog/spdlog.h>
#include <unistd.h>

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <memory>
#include <random>
#include <string>
#include <string_view>
#include <utility>
#include <variant>
#include <vector>

#include "milter/filter.h"
#include "milter/filter_connection.h"
#include "milter/milter_protocol.h"
#include "milter/policy.h"
#include "milter/store_access.h"
#include "parser/parser.h"

namespace {

using namespace bm::milter;  // NOLINT: the protocol's constants, in this file only

// 2026-11-22T12:00:00Z; the signing key below was made before.
// fuzz/make-milter-seeds signs return paths with this clock and key, so
// that its seeds reach the verified paths: change them together.
constexpr std::int64_t kNow = 1795348800;

// A fixed test key (not a real one).
constexpr const char* kKeyFile =
    "current  a 2026-11-01T00:00:00Z "
    "0f1e2d3c4b5a69788796a5b4c3d2e1f00112233445566778899aabbccddeeff0\n";

// What each selector byte (modulo their number) configures; "@KEYS@" is the
// key file's path.
constexpr const char* kConfigs[] = {
    // Inbound: bounce addresses, every kind tagged, unverified recorded;
    // outbound by client network and SMTP AUTH, enforced; a small message
    // limit so that its end is within the fuzzer's reach.
    "BounceAddresses bounces@example.com, bounces+*@example.com\n"
    "InboundAction-Dsn tag\nInboundAction-AutoReply tag\nInboundAction-Feedback tag\n"
    "InboundAction-NotBounce tag\n"
    "UnverifiedBounces record\nOutboundClients 192.0.2.0/24, 2001:db8::/32\n"
    "Mode enforce\nMaxMessageSize 64K\nMaxRecipients 8\nLogFormat json\n",
    // Signed return paths and the ledger by queue id (the DATA step);
    // monitor; forged bounces refused; rate limits that trip at once.
    "ReturnPathKeys @KEYS@\nSignSenders *@example.com\nSentLedger queue-id\n"
    "BounceAddresses bounces@example.com, bounces+*@example.com\n"
    "OutboundDaemons submission\nMode monitor\nForgedBounces reject\n"
    "InboundAction-Dsn discard\nClientBounceBurst 2\nDomainBounceBurst 1\n"
    "RateLimitedBounces tempfail\nOn-InternalError tempfail\n",
    // The embedded defaults, but enforced, non-SMTP mail included.
    ("Mode enforce\nOutboundClients 127.0.0.1\nSentLedger message-id\n"
     "UnverifiedBounces record\nTemporarySuppressionReply 5xx\n"),
};
constexpr std::size_t kConfigCount = sizeof kConfigs / sizeof kConfigs[0];

void Require(bool condition) {
  if (!condition) std::abort();
}

// Everything made once per process. Never freed: libFuzzer ends the process
// with exit(), and the store's writer thread must not see it go away.
struct Environment {
  std::vector<std::unique_ptr<bm::PolicyHolder>> policies;  // one per configuration
  std::unique_ptr<bm::StoreAccess> store;
};

std::filesystem::path g_dir;  // removed at exit
void RemoveDirectory() {
  std::error_code ignored;
  std::filesystem::remove_all(g_dir, ignored);
}

void WriteFile(const std::filesystem::path& path, const std::string& text) {
  std::ofstream out(path, std::ios::trunc);
  out << text;
  Require(out.good());
}

Environment* MakeEnvironment() {
  static const bm::GMimeLibrary* const gmime = new bm::GMimeLibrary();
  (void)gmime;
  // Decisions are formatted (LogDecision runs all of its code) and dropped.
  auto logger = std::make_shared<spdlog::logger>(
      "fuzz", std::make_shared<spdlog::sinks::null_sink_mt>());
  logger->set_level(spdlog::level::trace);
  spdlog::set_default_logger(std::move(logger));

  auto* env = new Environment();
  g_dir = std::filesystem::temp_directory_path() /
          ("bm-milter-session-fuzzer-" + std::to_string(getpid()));
  std::filesystem::remove_all(g_dir);
  std::filesystem::create_directories(g_dir);
  std::atexit(RemoveDirectory);
  const std::filesystem::path keys = g_dir / "return-path.keys";
  WriteFile(keys, kKeyFile);
  std::filesystem::permissions(keys, std::filesystem::perms::owner_read |
                                         std::filesystem::perms::owner_write);
  for (std::size_t i = 0; i < kConfigCount; ++i) {
    std::string text = kConfigs[i];
    if (const std::size_t at = text.find("@KEYS@"); at != std::string::npos) {
      text.replace(at, 6, keys.string());
    }
    const std::filesystem::path path = g_dir / ("config-" + std::to_string(i) + ".conf");
    WriteFile(path, text);
    bm::Result<std::shared_ptr<const bm::Policy>> policy = bm::LoadPolicy(path.string());
    if (!policy.ok()) {
      std::fprintf(stderr, "configuration %zu: %s\n", i, policy.status().ToString().c_str());
      std::abort();
    }
    env->policies.push_back(std::make_unique<bm::PolicyHolder>(*policy));
  }
  env->store = std::make_unique<bm::StoreAccess>((g_dir / "store").string(), 1);
  Require(env->store->Open().ok());
  return env;
}

bool IsModification(char reply) {
  return reply == kReplyAddHeader || reply == kReplyChangeFrom || reply == kReplyDeleteRcpt;
}

// Whether the MTA waits for a reply to `command` under the negotiated steps.
bool ExpectsReply(char command, std::uint32_t steps) {
  switch (command) {
    case kCmdMacro:
    case kCmdAbort:
    case kCmdQuit:
    case kCmdQuitNewConnection: return false;
    case kCmdConnect: return (steps & kStepNoReplyConnect) == 0;
    case kCmdHeader: return (steps & kStepNoReplyHeader) == 0;
  }
  return true;
}

// The replies to one command the connection goes on after: well-formed
// packets, exactly one of them final when the MTA waits for one (else it
// would hang) and none otherwise, modifications only before the final reply
// to end of message. *steps follows the negotiation.
void CheckReplies(char command, std::string_view replies, std::uint32_t* steps) {
  const bool expected = ExpectsReply(command, *steps);
  int finals = 0;
  while (!replies.empty()) {
    std::size_t consumed = 0;
    bm::Result<std::optional<Packet>> p = NextPacket(replies, &consumed);
    Require(p.ok() && p->has_value());
    const Packet& reply = **p;
    Require(finals == 0);  // nothing after the final reply
    if (IsModification(reply.command)) {
      Require(command == kCmdEndOfMessage);
      Require(!reply.data.empty() && reply.data.back() == '\0');
    } else {
      ++finals;
      if (reply.command == kReplyOptionNegotiation) {
        Require(command == kCmdOptionNegotiation && reply.data.size() == 12);
        *steps = (std::uint32_t{static_cast<unsigned char>(reply.data[8])} << 24) |
                 (std::uint32_t{static_cast<unsigned char>(reply.data[9])} << 16) |
                 (std::uint32_t{static_cast<unsigned char>(reply.data[10])} << 8) |
                 static_cast<unsigned char>(reply.data[11]);
      }
      if (reply.command == kReplyCode) {
        // "4xx ..." or "5xx ...", NUL-terminated, one line.
        Require(reply.data.size() >= 4 && reply.data.back() == '\0');
        const std::string_view line = reply.data.substr(0, reply.data.size() - 1);
        Require(line.find_first_of(std::string_view("\r\n\0", 3)) == std::string_view::npos);
        Require((line[0] == '4' || line[0] == '5') && line.size() <= 980);
      }
    }
    replies.remove_prefix(consumed);
  }
  Require(finals == (expected ? 1 : 0));
}

// The packets of an input after its selector byte, and the bytes after the
// last whole packet.
struct Framed {
  std::vector<std::pair<char, std::string>> packets;
  std::string tail;
};

Framed Split(std::string_view stream) {
  Framed framed;
  for (;;) {
    std::size_t consumed = 0;
    bm::Result<std::optional<Packet>> p = NextPacket(stream, &consumed);
    if (!p.ok() || !p->has_value()) break;
    framed.packets.emplace_back((*p)->command, std::string((*p)->data));
    stream.remove_prefix(consumed);
  }
  framed.tail = std::string(stream);
  return framed;
}

}  // namespace

extern "C" size_t LLVMFuzzerMutate(uint8_t* data, size_t size, size_t max_size);

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static Environment* const env = MakeEnvironment();
  if (size == 0) return 0;
  bm::Filter filter(*env->policies[data[0] % kConfigCount], *env->store,
                    [] { return kNow; });
  bm::FilterConnection connection(filter);
  std::string_view stream(reinterpret_cast<const char*>(data) + 1, size - 1);
  std::string replies;
  std::uint32_t steps = 0;  // none before a negotiation
  bool connected = false;   // a connection context exists
  bool null_sender = false;  // of the last MAIL
  for (;;) {
    std::size_t consumed = 0;
    bm::Result<std::optional<Packet>> packet = NextPacket(stream, &consumed);
    if (!packet.ok() || !packet->has_value()) break;
    const Packet& p = **packet;
    replies.clear();
    // Asked before every packet by the server (milter/milter_server.h).
    (void)connection.MayBlock(p);
    // A command that closes the connection (quit, malformed) gets no reply.
    if (!connection.Handle(p, &replies)) break;
    CheckReplies(p.command, replies, &steps);
    if (p.command == kCmdConnect) connected = true;
    if (p.command == kCmdQuitNewConnection) connected = false;
    if (p.command == kCmdMail) {
      const std::string_view sender = std::get<Envelope>(*DecodeCommand(p)).args.front();
      null_sender = sender == "<>" || sender.empty();
    }
    // A recipient of a bounce is never refused (the brief: no legitimate
    // mail dropped), except for a moment by the bounce rate limit.
    if (p.command == kCmdRcpt && connected && null_sender) {
      Require(replies[4] == kReplyContinue ||
              (replies[4] == kReplyCode && replies.substr(5, 10) == "451 4.7.1 "));
    }
    stream.remove_prefix(consumed);
  }
  return 0;
}

extern "C" size_t LLVMFuzzerCustomMutator(uint8_t* data, size_t size, size_t max_size,
                                          unsigned int seed) {
  std::minstd_rand random(seed);
  if (size < 2 || random() % 4 == 0) return LLVMFuzzerMutate(data, size, max_size);
  Framed framed = Split(std::string_view(reinterpret_cast<const char*>(data) + 1, size - 1));
  if (framed.packets.empty()) return LLVMFuzzerMutate(data, size, max_size);
  const std::size_t i = random() % framed.packets.size();
  std::string& packet_data = framed.packets[i].second;
  switch (random() % 6) {
    case 0:
    case 1: {  // the data of one packet, with room to grow into
      const std::size_t room = max_size > size ? max_size - size : 0;
      const std::size_t old_size = packet_data.size();
      if (old_size == 0) packet_data.push_back(static_cast<char>(random()));
      packet_data.resize(packet_data.size() + std::min<std::size_t>(room, 4096));
      const std::size_t n =
          LLVMFuzzerMutate(reinterpret_cast<uint8_t*>(packet_data.data()),
                           std::max<std::size_t>(old_size, 1), packet_data.size());
      packet_data.resize(n);
      break;
    }
    case 2:  // a packet repeated elsewhere
      framed.packets.insert(framed.packets.begin() + random() % (framed.packets.size() + 1),
                            framed.packets[i]);
      break;
    case 3:  // a packet dropped
      framed.packets.erase(framed.packets.begin() + i);
      break;
    case 4: {  // another command
      static constexpr std::string_view kCommands = "ABCDEHKLMNOQRTU";
      framed.packets[i].first = kCommands[random() % kCommands.size()];
      break;
    }
    case 5:  // another configuration
      data[0] = static_cast<uint8_t>(random());
      break;
  }
  std::string out(1, static_cast<char>(data[0]));
  for (const auto& [command, bytes] : framed.packets) AppendPacket(&out, command, bytes);
  out += framed.tail;
  if (out.size() > max_size) return LLVMFuzzerMutate(data, size, max_size);
  std::memcpy(data, out.data(), out.size());
  return out.size();
}
