#include "milter/milter_protocol.h"

#include <gtest/gtest.h>

#include <deque>
#include <random>

namespace bm::milter {
namespace {

std::string Be32(std::uint32_t v) {
  return {static_cast<char>(v >> 24), static_cast<char>(v >> 16), static_cast<char>(v >> 8),
          static_cast<char>(v)};
}

std::string Wire(char command, std::string_view data) {
  std::string out;
  AppendPacket(&out, command, data);
  return out;
}

// Decoded values are views: the bytes are kept for the whole test program.
Result<Command> Decode(char command, std::string_view data) {
  static std::deque<std::string> kept;
  kept.emplace_back(data);
  return DecodeCommand(Packet{command, kept.back()});
}

TEST(MilterProtocolTest, SplitsPacketsOffAStream) {
  const std::string stream = Wire('M', std::string("<a@b>\0", 6)) + Wire('N', "") + "\0\0";
  std::size_t consumed = 0;
  Result<std::optional<Packet>> p = NextPacket(stream, &consumed);
  ASSERT_TRUE(p.ok() && p->has_value());
  EXPECT_EQ((*p)->command, 'M');
  EXPECT_EQ((*p)->data, std::string_view("<a@b>\0", 6));
  EXPECT_EQ(consumed, 11u);
  p = NextPacket(std::string_view(stream).substr(11), &consumed);
  ASSERT_TRUE(p.ok() && p->has_value());
  EXPECT_EQ((*p)->command, 'N');
  EXPECT_TRUE((*p)->data.empty());
  EXPECT_EQ(consumed, 5u);
  // Two bytes of a length: more needed.
  p = NextPacket(std::string_view(stream).substr(16), &consumed);
  ASSERT_TRUE(p.ok());
  EXPECT_FALSE(p->has_value());
}

TEST(MilterProtocolTest, WaitsForATruncatedPacket) {
  const std::string packet = Wire('B', std::string(1000, 'x'));
  for (std::size_t n = 0; n < packet.size(); n += 97) {
    std::size_t consumed = 0;
    Result<std::optional<Packet>> p = NextPacket(std::string_view(packet).substr(0, n), &consumed);
    ASSERT_TRUE(p.ok());
    EXPECT_FALSE(p->has_value()) << n;
  }
}

TEST(MilterProtocolTest, RefusesZeroAndOversizedLengths) {
  std::size_t consumed = 0;
  EXPECT_FALSE(NextPacket(Be32(0) + "A", &consumed).ok());
  Result<std::optional<Packet>> big = NextPacket(Be32(kMaxPacketSize + 1) + "B", &consumed);
  ASSERT_FALSE(big.ok());
  EXPECT_EQ(big.status().code(), Status::Code::kLimitExceeded);
  // The limit itself is allowed (and needs its bytes).
  Result<std::optional<Packet>> max = NextPacket(Be32(kMaxPacketSize) + "B", &consumed);
  ASSERT_TRUE(max.ok());
  EXPECT_FALSE(max->has_value());
}

TEST(MilterProtocolTest, DecodesOptionNegotiation) {
  Result<Command> c = Decode('O', Be32(6) + Be32(0x1ff) + Be32(0x1fffff));
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  const auto& o = std::get<OptionNegotiation>(*c);
  EXPECT_EQ(o.version, 6u);
  EXPECT_EQ(o.actions, 0x1ffu);
  EXPECT_EQ(o.steps, 0x1fffffu);
  EXPECT_FALSE(Decode('O', Be32(6) + Be32(0)).ok());
  EXPECT_FALSE(Decode('O', Be32(1) + Be32(0) + Be32(0)).ok());
}

TEST(MilterProtocolTest, DecodesMacros) {
  Result<Command> c = Decode('D', std::string("Mi\0ABC123\0{auth_authen}\0alice\0", 30));
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  const auto& m = std::get<Macros>(*c);
  EXPECT_EQ(m.command, 'M');
  ASSERT_EQ(m.values.size(), 2u);
  EXPECT_EQ(m.values[0].first, "i");
  EXPECT_EQ(m.values[0].second, "ABC123");
  EXPECT_EQ(m.values[1].first, "{auth_authen}");
  EXPECT_EQ(m.values[1].second, "alice");
  // A stage without macros.
  ASSERT_TRUE(Decode('D', "C").ok());
  EXPECT_TRUE(std::get<Macros>(*Decode('D', "C")).values.empty());
  EXPECT_FALSE(Decode('D', "").ok());
  EXPECT_FALSE(Decode('D', std::string("Mi\0", 3)).ok());    // no value
  EXPECT_FALSE(Decode('D', std::string("Mi\0x", 4)).ok());   // unterminated
  EXPECT_FALSE(Decode('D', std::string("M\0x\0", 4)).ok());  // empty name
  std::string many = "M";
  for (std::size_t i = 0; i <= kMaxMacrosPerPacket; ++i) many += std::string("n\0v\0", 4);
  Result<Command> too_many = Decode('D', many);
  ASSERT_FALSE(too_many.ok());
  EXPECT_EQ(too_many.status().code(), Status::Code::kLimitExceeded);
}

TEST(MilterProtocolTest, DecodesConnectOfEveryFamily) {
  Result<Command> c = Decode('C', std::string("mx.test\0"
                                              "4\x01\xbb"
                                              "192.0.2.1\0",
                                              21));
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  auto connect = std::get<Connect>(*c);
  EXPECT_EQ(connect.hostname, "mx.test");
  EXPECT_EQ(connect.family, '4');
  EXPECT_EQ(connect.port, 443);
  EXPECT_EQ(connect.address, "192.0.2.1");

  c = Decode('C', std::string("v6.test\0"
                              "6\x00\x19"
                              "2001:db8::1\0",
                              23));
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_EQ(std::get<Connect>(*c).address, "2001:db8::1");

  c = Decode('C', std::string("localhost\0"
                              "L\x00\x00"
                              "/run/x\0",
                              20));
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_EQ(std::get<Connect>(*c).family, 'L');

  c = Decode('C', std::string("unknown\0U", 9));
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_EQ(std::get<Connect>(*c).family, 'U');
  EXPECT_TRUE(std::get<Connect>(*c).address.empty());

  EXPECT_FALSE(Decode('C', "mx.test").ok());                       // no NUL
  EXPECT_FALSE(Decode('C', std::string("mx\0", 3)).ok());          // no family
  EXPECT_FALSE(Decode('C', std::string("mx\0X\0\0a\0", 8)).ok());  // bad family
  EXPECT_FALSE(Decode('C', std::string("mx\0"
                                       "4\x00",
                                       5))
                   .ok());  // short port
  EXPECT_FALSE(Decode('C', std::string("mx\0"
                                       "4\x00\x19"
                                       "1.2.3.4",
                                       13))
                   .ok());  // no NUL
  EXPECT_FALSE(Decode('C', std::string("mx\0"
                                       "4\x00\x19"
                                       "1\0x",
                                       9))
                   .ok());  // trailing
}

TEST(MilterProtocolTest, DecodesHeloMailRcptAndUnknown) {
  Result<Command> c = Decode('H', std::string("client.test\0", 12));
  ASSERT_TRUE(c.ok());
  EXPECT_EQ(std::get<Helo>(*c).name, "client.test");
  EXPECT_FALSE(Decode('H', "client.test").ok());

  c = Decode('M', std::string("<a@b.test>\0SIZE=100\0BODY=8BITMIME\0", 34));
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  const auto& mail = std::get<Envelope>(*c);
  EXPECT_EQ(mail.command, 'M');
  ASSERT_EQ(mail.args.size(), 3u);
  EXPECT_EQ(mail.args[0], "<a@b.test>");
  EXPECT_EQ(mail.args[2], "BODY=8BITMIME");

  c = Decode('R', std::string("<>\0", 3));
  ASSERT_TRUE(c.ok());
  EXPECT_EQ(std::get<Envelope>(*c).command, 'R');
  EXPECT_EQ(std::get<Envelope>(*c).args.front(), "<>");
  EXPECT_FALSE(Decode('R', "").ok());
  EXPECT_FALSE(Decode('R', "<a@b>").ok());
  std::string many;
  for (std::size_t i = 0; i <= kMaxArguments; ++i) many += std::string("X=1\0", 4);
  EXPECT_EQ(Decode('M', many).status().code(), Status::Code::kLimitExceeded);

  c = Decode('U', std::string("XFOO bar\0", 9));
  ASSERT_TRUE(c.ok());
  EXPECT_EQ(std::get<UnknownCommand>(*c).line, "XFOO bar");
}

TEST(MilterProtocolTest, DecodesHeadersAndBody) {
  Result<Command> c = Decode('L', std::string("Subject\0hello\0", 14));
  ASSERT_TRUE(c.ok());
  EXPECT_EQ(std::get<Header>(*c).name, "Subject");
  EXPECT_EQ(std::get<Header>(*c).value, "hello");
  ASSERT_TRUE(Decode('L', std::string("X\0\0", 3)).ok());  // empty value
  EXPECT_FALSE(Decode('L', std::string("Subject\0hello", 13)).ok());
  EXPECT_FALSE(Decode('L', std::string("Subject\0", 8)).ok());
  EXPECT_FALSE(Decode('L', std::string("a\0b\0c\0", 6)).ok());

  const std::string bytes("line\r\n\0binary\xff", 14);
  c = Decode('B', bytes);
  ASSERT_TRUE(c.ok());
  EXPECT_EQ(std::get<BodyChunk>(*c).command, 'B');
  EXPECT_EQ(std::get<BodyChunk>(*c).bytes, bytes);
  c = Decode('E', "");
  ASSERT_TRUE(c.ok());
  EXPECT_EQ(std::get<BodyChunk>(*c).command, 'E');
  EXPECT_TRUE(std::get<BodyChunk>(*c).bytes.empty());
  c = Decode('E', "tail");
  ASSERT_TRUE(c.ok());
  EXPECT_EQ(std::get<BodyChunk>(*c).bytes, "tail");
}

TEST(MilterProtocolTest, DecodesBareCommandsAndRefusesUnknownOnes) {
  for (char command : {'T', 'N', 'A', 'Q', 'K'}) {
    Result<Command> c = Decode(command, "");
    ASSERT_TRUE(c.ok()) << command;
    EXPECT_EQ(std::get<Bare>(*c).command, command);
  }
  Result<Command> c = Decode('Z', "");
  ASSERT_FALSE(c.ok());
  EXPECT_NE(c.status().message().find("0x5a"), std::string::npos) << c.status().ToString();
}

TEST(MilterProtocolTest, EncodesReplies) {
  std::string out;
  AppendOptionNegotiationReply(&out, 6, 0x49, 0x1282);
  EXPECT_EQ(out, Be32(13) + "O" + Be32(6) + Be32(0x49) + Be32(0x1282));
  out.clear();
  AppendPacket(&out, kReplyContinue);
  EXPECT_EQ(out, Be32(1) + "c");
  out.clear();
  AppendReplyCode(&out, "550 5.1.1 gone");
  EXPECT_EQ(out, Be32(16) + "y" + std::string("550 5.1.1 gone\0", 15));
  out.clear();
  AppendAddHeader(&out, "X-B", "v");
  EXPECT_EQ(out, Be32(7) + "h" + std::string("X-B\0v\0", 6));
  out.clear();
  AppendChangeFrom(&out, "<s@x>");
  EXPECT_EQ(out, Be32(7) + "e" + std::string("<s@x>\0", 6));
  out.clear();
  AppendChangeFrom(&out, "<s@x>", "SIZE=1");
  EXPECT_EQ(out, Be32(14) + "e" + std::string("<s@x>\0SIZE=1\0", 13));
  out.clear();
  AppendDeleteRcpt(&out, "<r@x>");
  EXPECT_EQ(out, Be32(7) + "-" + std::string("<r@x>\0", 6));
}

// Random bytes, as packets and as streams: errors, never a crash (ASan and
// UBSan builds check the reads). Deterministic.
TEST(MilterProtocolTest, RandomBytesDoNotCrash) {
  std::mt19937 random(20261123);
  const std::string commands = "ABCDEHKLMNOQRTUZ";
  for (int i = 0; i < 20000; ++i) {
    std::string data(random() % 40, '\0');
    for (char& ch : data) ch = static_cast<char>(random() % 4 == 0 ? 0 : random());
    (void)DecodeCommand(Packet{commands[random() % commands.size()], data});
    std::size_t consumed = 0;
    std::string_view rest(data);
    while (true) {
      Result<std::optional<Packet>> p = NextPacket(rest, &consumed);
      if (!p.ok() || !p->has_value()) break;
      (void)DecodeCommand(**p);
      ASSERT_LE(consumed, rest.size());
      rest.remove_prefix(consumed);
    }
  }
}

}  // namespace
}  // namespace bm::milter
