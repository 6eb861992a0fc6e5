// libFuzzer target: the milter packet codec (milter/milter_protocol.h) on
// arbitrary bytes, read as the MTA's side of a connection. Framing and
// decoding must return a packet, "need more" or an error, never crash, hang
// or read outside the bytes; every decoded value must lie inside its packet
// and respect the limits. Each packet is also encoded again and must frame
// back to itself, and the reply encoders are fed the decoded strings and
// must produce packets that decode to what they were given.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <optional>
#include <string>
#include <string_view>
#include <variant>

#include "milter/milter_protocol.h"

namespace {

using namespace bm::milter;  // NOLINT: the protocol's constants, in this file only

void Require(bool condition) {
  if (!condition) std::abort();
}

// `part` is a view into `whole`.
void RequireInside(std::string_view part, std::string_view whole) {
  Require(part.empty() || (part.data() >= whole.data() &&
                           part.data() + part.size() <= whole.data() + whole.size()));
}

// The one packet of `bytes`, which must be exactly one packet.
Packet Reframe(std::string_view bytes) {
  std::size_t consumed = 0;
  bm::Result<std::optional<Packet>> p = NextPacket(bytes, &consumed);
  Require(p.ok() && p->has_value() && consumed == bytes.size());
  return **p;
}

bool HasNul(std::string_view s) { return s.find('\0') != std::string_view::npos; }

// Reply encoders, fed with decoded strings: each reply must frame as one
// packet whose data is what was given.
void CheckReplies(std::string_view a, std::string_view b) {
  std::string out;
  AppendReplyCode(&out, a);
  Packet p = Reframe(out);
  Require(p.command == kReplyCode && p.data.size() == a.size() + 1 && p.data.back() == '\0' &&
          p.data.substr(0, a.size()) == a);
  if (HasNul(a) || HasNul(b)) return;  // the string replies below need NUL-free fields
  out.clear();
  AppendAddHeader(&out, a, b);
  // Same shape as the header command: it decodes back to the two strings.
  p = Reframe(out);
  Require(p.command == kReplyAddHeader);
  bm::Result<Command> header = DecodeCommand(Packet{kCmdHeader, p.data});
  Require(header.ok());
  const auto& h = std::get<Header>(*header);
  Require(h.name == a && h.value == b);
  out.clear();
  AppendChangeFrom(&out, a, b);
  p = Reframe(out);
  Require(p.command == kReplyChangeFrom);
  bm::Result<Command> from = DecodeCommand(Packet{kCmdMail, p.data});
  Require(from.ok());
  const auto& args = std::get<Envelope>(*from).args;
  Require(args.size() == (b.empty() ? 1u : 2u) && args[0] == a && (b.empty() || args[1] == b));
  out.clear();
  AppendDeleteRcpt(&out, a);
  p = Reframe(out);
  Require(p.command == kReplyDeleteRcpt && p.data.size() == a.size() + 1 &&
          p.data.substr(0, a.size()) == a);
}

void CheckCommand(const Packet& p, const Command& command) {
  if (const auto* o = std::get_if<OptionNegotiation>(&command)) {
    Require(o->version >= kMinProtocolVersion);
    std::string out;
    AppendOptionNegotiationReply(&out, o->version, o->actions, o->steps);
    bm::Result<Command> back = DecodeCommand(Reframe(out));
    Require(back.ok());
    const auto& again = std::get<OptionNegotiation>(*back);
    Require(again.version == o->version && again.actions == o->actions &&
            again.steps == o->steps);
  } else if (const auto* m = std::get_if<Macros>(&command)) {
    Require(m->values.size() <= kMaxMacrosPerPacket);
    for (const auto& [name, value] : m->values) {
      Require(!name.empty());
      RequireInside(name, p.data);
      RequireInside(value, p.data);
    }
  } else if (const auto* c = std::get_if<Connect>(&command)) {
    RequireInside(c->hostname, p.data);
    RequireInside(c->address, p.data);
    Require(c->family == kFamilyUnknown || c->family == kFamilyUnix ||
            c->family == kFamilyInet || c->family == kFamilyInet6);
  } else if (const auto* h = std::get_if<Helo>(&command)) {
    RequireInside(h->name, p.data);
  } else if (const auto* e = std::get_if<Envelope>(&command)) {
    Require(!e->args.empty() && e->args.size() <= kMaxArguments);
    for (std::string_view arg : e->args) RequireInside(arg, p.data);
    CheckReplies(e->args.front(), e->args.back());
  } else if (const auto* h = std::get_if<Header>(&command)) {
    RequireInside(h->name, p.data);
    RequireInside(h->value, p.data);
    CheckReplies(h->name, h->value);
  } else if (const auto* b = std::get_if<BodyChunk>(&command)) {
    Require(b->bytes == p.data);
  } else if (const auto* u = std::get_if<UnknownCommand>(&command)) {
    RequireInside(u->line, p.data);
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view stream(reinterpret_cast<const char*>(data), size);
  for (;;) {
    std::size_t consumed = 0;
    bm::Result<std::optional<Packet>> packet = NextPacket(stream, &consumed);
    if (!packet.ok() || !packet->has_value()) break;
    const Packet p = **packet;
    Require(consumed == 5 + p.data.size() && consumed <= stream.size() &&
            consumed <= 4 + std::size_t{kMaxPacketSize});
    RequireInside(p.data, stream);
    // Encoded again, the packet frames back to the same bytes.
    std::string again;
    AppendPacket(&again, p.command, p.data);
    Require(again == stream.substr(0, consumed));
    bm::Result<Command> command = DecodeCommand(p);
    if (command.ok()) CheckCommand(p, *command);
    stream.remove_prefix(consumed);
  }
  return 0;
}
