#include "milter/milter_protocol.h"

namespace bm::milter {
namespace {

std::uint32_t ReadBe32(std::string_view bytes) {
  return (std::uint32_t{static_cast<unsigned char>(bytes[0])} << 24) |
         (std::uint32_t{static_cast<unsigned char>(bytes[1])} << 16) |
         (std::uint32_t{static_cast<unsigned char>(bytes[2])} << 8) |
         std::uint32_t{static_cast<unsigned char>(bytes[3])};
}

void AppendBe32(std::string* out, std::uint32_t v) {
  out->push_back(static_cast<char>(v >> 24));
  out->push_back(static_cast<char>(v >> 16));
  out->push_back(static_cast<char>(v >> 8));
  out->push_back(static_cast<char>(v));
}

Status Malformed(char command, std::string_view what) {
  return Status::InvalidArgument("malformed milter command '" + std::string(1, command) +
                                 "': " + std::string(what));
}

// Splits the NUL-terminated strings of packet p's data (after `skip`
// bytes), at most `per_item * items` of them. Errors: malformed when the data
// does not end with a NUL; kLimitExceeded, "more than ITEMS WHAT", beyond.
Status SplitStrings(const Packet& p, std::size_t skip, std::size_t per_item, std::size_t items,
                    std::string_view what, std::vector<std::string_view>* strings) {
  std::string_view data = p.data.substr(skip);
  if (data.empty() || data.back() != '\0') return Malformed(p.command, "not NUL-terminated");
  while (!data.empty()) {
    const std::size_t nul = data.find('\0');
    if (strings->size() == per_item * items) {
      return Status::LimitExceeded("more than " + std::to_string(items) + " " + std::string(what));
    }
    strings->push_back(data.substr(0, nul));
    data.remove_prefix(nul + 1);
  }
  return Status::Ok();
}

// One NUL-terminated string at the start of *data, removed from it.
std::optional<std::string_view> TakeString(std::string_view* data) {
  const std::size_t nul = data->find('\0');
  if (nul == std::string_view::npos) return std::nullopt;
  std::string_view s = data->substr(0, nul);
  data->remove_prefix(nul + 1);
  return s;
}

Result<Command> DecodeOptionNegotiation(const Packet& p) {
  if (p.data.size() < 12) return Malformed(p.command, "shorter than 12 bytes");
  OptionNegotiation o{ReadBe32(p.data), ReadBe32(p.data.substr(4)), ReadBe32(p.data.substr(8))};
  if (o.version < kMinProtocolVersion) {
    return Status::InvalidArgument("milter protocol version " + std::to_string(o.version) +
                                   " is not supported");
  }
  return Command(o);
}

Result<Command> DecodeMacros(const Packet& p) {
  if (p.data.empty()) return Malformed(p.command, "no command byte");
  Macros m;
  m.command = p.data[0];
  if (p.data.size() == 1) return Command(std::move(m));
  std::vector<std::string_view> strings;
  Status s = SplitStrings(p, 1, 2, kMaxMacrosPerPacket, "macros in one milter packet", &strings);
  if (!s.ok()) return s;
  if (strings.size() % 2 != 0) return Malformed(p.command, "a macro name without value");
  for (std::size_t i = 0; i < strings.size(); i += 2) {
    if (strings[i].empty()) return Malformed(p.command, "empty macro name");
    m.values.emplace_back(strings[i], strings[i + 1]);
  }
  return Command(std::move(m));
}

Result<Command> DecodeConnect(const Packet& p) {
  std::string_view data = p.data;
  std::optional<std::string_view> hostname = TakeString(&data);
  if (!hostname || data.empty()) return Malformed(p.command, "no host name or family");
  Connect c;
  c.hostname = *hostname;
  c.family = data[0];
  data.remove_prefix(1);
  if (c.family == kFamilyUnknown) return Command(c);
  if (c.family != kFamilyUnix && c.family != kFamilyInet && c.family != kFamilyInet6) {
    return Malformed(p.command, "unknown address family");
  }
  if (data.size() < 2) return Malformed(p.command, "no port");
  c.port = static_cast<std::uint16_t>((static_cast<unsigned char>(data[0]) << 8) |
                                      static_cast<unsigned char>(data[1]));
  data.remove_prefix(2);
  std::optional<std::string_view> address = TakeString(&data);
  if (!address || !data.empty()) return Malformed(p.command, "address not NUL-terminated");
  c.address = *address;
  return Command(c);
}

Result<Command> DecodeEnvelope(const Packet& p) {
  Envelope e;
  e.command = p.command;
  Status s = SplitStrings(p, 0, 1, kMaxArguments, "arguments in one milter command", &e.args);
  if (!s.ok()) return s;
  return Command(std::move(e));
}

Result<Command> DecodeHeader(const Packet& p) {
  std::string_view data = p.data;
  std::optional<std::string_view> name = TakeString(&data);
  std::optional<std::string_view> value = TakeString(&data);
  if (!name || !value || !data.empty()) return Malformed(p.command, "not name\\0value\\0");
  return Command(Header{*name, *value});
}

// A single NUL-terminated string (HELO, unknown command).
Result<std::string_view> OneString(const Packet& p) {
  std::string_view data = p.data;
  std::optional<std::string_view> s = TakeString(&data);
  if (!s || !data.empty()) return Malformed(p.command, "not one NUL-terminated string");
  return *s;
}

}  // namespace

Result<std::optional<Packet>> NextPacket(std::string_view bytes, std::size_t* consumed) {
  if (bytes.size() < 4) return std::optional<Packet>();
  const std::uint32_t length = ReadBe32(bytes);
  if (length == 0) return Status::InvalidArgument("milter packet of length 0");
  if (length > kMaxPacketSize) {
    return Status::LimitExceeded("milter packet of " + std::to_string(length) + " bytes (limit " +
                                 std::to_string(kMaxPacketSize) + ")");
  }
  if (bytes.size() - 4 < length) return std::optional<Packet>();
  *consumed = 4 + std::size_t{length};
  return std::optional<Packet>(Packet{bytes[4], bytes.substr(5, length - 1)});
}

Result<Command> DecodeCommand(const Packet& p) {
  switch (p.command) {
    case kCmdOptionNegotiation: return DecodeOptionNegotiation(p);
    case kCmdMacro: return DecodeMacros(p);
    case kCmdConnect: return DecodeConnect(p);
    case kCmdHelo: {
      Result<std::string_view> name = OneString(p);
      if (!name.ok()) return name.status();
      return Command(Helo{*name});
    }
    case kCmdMail:
    case kCmdRcpt: return DecodeEnvelope(p);
    case kCmdHeader: return DecodeHeader(p);
    case kCmdBody:
    case kCmdEndOfMessage: return Command(BodyChunk{p.command, p.data});
    case kCmdUnknown: {
      Result<std::string_view> line = OneString(p);
      if (!line.ok()) return line.status();
      return Command(UnknownCommand{*line});
    }
    case kCmdData:
    case kCmdEndOfHeaders:
    case kCmdAbort:
    case kCmdQuit:
    case kCmdQuitNewConnection: return Command(Bare{p.command});
  }
  const auto byte = static_cast<unsigned char>(p.command);
  return Status::InvalidArgument("unknown milter command 0x" +
                                 std::string(1, "0123456789abcdef"[byte >> 4]) +
                                 std::string(1, "0123456789abcdef"[byte & 15]));
}

void AppendPacket(std::string* out, char command, std::string_view data) {
  AppendBe32(out, static_cast<std::uint32_t>(data.size() + 1));
  out->push_back(command);
  out->append(data);
}

void AppendOptionNegotiationReply(std::string* out, std::uint32_t version, std::uint32_t actions,
                                  std::uint32_t steps) {
  AppendBe32(out, 13);
  out->push_back(kReplyOptionNegotiation);
  AppendBe32(out, version);
  AppendBe32(out, actions);
  AppendBe32(out, steps);
}

void AppendReplyCode(std::string* out, std::string_view reply) {
  AppendBe32(out, static_cast<std::uint32_t>(reply.size() + 2));
  out->push_back(kReplyCode);
  out->append(reply);
  out->push_back('\0');
}

void AppendAddHeader(std::string* out, std::string_view name, std::string_view value) {
  AppendBe32(out, static_cast<std::uint32_t>(name.size() + value.size() + 3));
  out->push_back(kReplyAddHeader);
  out->append(name);
  out->push_back('\0');
  out->append(value);
  out->push_back('\0');
}

void AppendChangeFrom(std::string* out, std::string_view sender, std::string_view esmtp_args) {
  const std::size_t size = sender.size() + 2 + (esmtp_args.empty() ? 0 : esmtp_args.size() + 1);
  AppendBe32(out, static_cast<std::uint32_t>(size));
  out->push_back(kReplyChangeFrom);
  out->append(sender);
  out->push_back('\0');
  if (!esmtp_args.empty()) {
    out->append(esmtp_args);
    out->push_back('\0');
  }
}

void AppendDeleteRcpt(std::string* out, std::string_view recipient) {
  AppendBe32(out, static_cast<std::uint32_t>(recipient.size() + 2));
  out->push_back(kReplyDeleteRcpt);
  out->append(recipient);
  out->push_back('\0');
}

}  // namespace bm::milter
