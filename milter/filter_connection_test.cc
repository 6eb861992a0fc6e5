// FilterConnection driven with raw packets, as an MTA would, over the real
// filter and store: negotiation, no-reply steps, macros, replies and the end
// of message modifications.
#include "milter/filter_connection.h"

#include <gtest/gtest.h>

#include "milter/milter_test_util.h"

namespace bm {
namespace {

using namespace milter_test;  // NOLINT: test helpers

constexpr std::uint32_t kNoHelo = 0x02, kNoReplyHeader = 0x80, kNoUnknown = 0x100, kNoData = 0x200,
                        kNoReplyConnect = 0x1000;

class FilterConnectionTest : public FilterFixture {
 protected:
  // Feeds a stream of packets; returns the replies, or fails the test when
  // the connection would be closed before the end.
  std::vector<Reply> Feed(FilterConnection& connection, std::string_view stream,
                          bool* closed = nullptr) {
    std::string replies;
    bool keep = true;
    while (!stream.empty() && keep) {
      std::size_t consumed = 0;
      Result<std::optional<milter::Packet>> p = milter::NextPacket(stream, &consumed);
      if (!p.ok() || !p->has_value()) {
        ADD_FAILURE() << "bad test stream";
        break;
      }
      keep = connection.Handle(**p, &replies);
      stream.remove_prefix(consumed);
    }
    if (closed != nullptr) {
      *closed = !keep;
    } else {
      EXPECT_TRUE(keep) << "connection closed";
    }
    return SplitReplies(replies);
  }

  // Negotiates everything, connects from a client outside OutboundClients.
  std::unique_ptr<FilterConnection> Open() {
    auto connection = std::make_unique<FilterConnection>(*filter_);
    EXPECT_EQ(Commands(Feed(*connection, Optneg() + MacroPacket('C', {"j", "mx.test"}) +
                                             Connect4("client.test", "203.0.113.9"))),
              "O");
    return connection;
  }

  // Records a hard bounce for `address` through the protocol.
  void Suppress(FilterConnection& connection, const std::string& address) {
    std::vector<Reply> r =
        Feed(connection, Mail("<>") + Rcpt("<news@mta.test>") + MessagePackets(Dsn(address)));
    // MAIL, RCPT continue; headers no reply; EOH, body continue; the tag
    // header, then accept.
    EXPECT_EQ(Commands(r), "ccccha");
  }
};

TEST_F(FilterConnectionTest, NegotiatesOnlyWhatTheMtaOffersAndTheFilterNeeds) {
  FilterConnection connection(*filter_);
  std::vector<Reply> r = Feed(connection, Optneg());
  ASSERT_EQ(Commands(r), "O");
  EXPECT_EQ(r[0].data, Be32(6) + Be32(0x01 | 0x08 | 0x40) +
                           Be32(kNoHelo | kNoUnknown | kNoData | kNoReplyHeader | kNoReplyConnect));

  // An older MTA: its version, and only the steps it offers.
  FilterConnection old(*filter_);
  r = Feed(old, Optneg(0x01, kNoHelo | kNoData | 0x4, 2));
  ASSERT_EQ(Commands(r), "O");
  EXPECT_EQ(r[0].data, Be32(2) + Be32(0x01) + Be32(kNoHelo | kNoData));
  // Without the no-reply steps, connect and headers are answered.
  EXPECT_EQ(Commands(Feed(
                old, Connect4("c.test", "192.0.2.1") + Mail("<>") + HeaderPacket("Subject", "x"))),
            "ccc");
}

TEST_F(FilterConnectionTest, RefusesSuppressedRecipientWithItsReply) {
  std::unique_ptr<FilterConnection> c = Open();
  Suppress(*c, "gone@remote.test");
  // Outbound through SMTP AUTH; the macro name given without braces.
  std::vector<Reply> r =
      Feed(*c, MacroPacket('M', {"auth_authen", "alice"}) + Mail("<alice@example.com>") +
                   Rcpt("<gone@remote.test>") + Rcpt("<ok@remote.test>"));
  ASSERT_EQ(Commands(r), "cyc");
  EXPECT_EQ(r[1].data.substr(0, 10), "550 5.1.1 ");
  EXPECT_EQ(r[1].data.back(), '\0');
  EXPECT_NE(r[1].data.find("gone@remote.test"), std::string::npos) << r[1].data;
}

TEST_F(FilterConnectionTest, AbortForgetsTheMessageMacros) {
  std::unique_ptr<FilterConnection> c = Open();
  EXPECT_EQ(Commands(Feed(
                *c, MacroPacket('M', {"{auth_authen}", "alice"}) + Mail("<alice@example.com>"))),
            "c");
  // After an abort, the next MAIL has no {auth_authen}: ordinary inbound
  // mail, accepted at once.
  EXPECT_EQ(Commands(Feed(*c, Packet('A') + Mail("<bob@example.org>"))), "a");
  // Connect macros stay for the connection.
  EXPECT_EQ(Commands(Feed(*c, Packet('A') + MacroPacket('M', {"{auth_authen}", "alice"}) +
                                  Mail("<alice@example.com>"))),
            "c");
}

// A message still open when its connection context goes is aborted as by
// the MTA's abort command: when the connection closes or drops, at
// quit-new-connection, at a new connect; not when the message had ended.
TEST_F(FilterConnectionTest, AMessageCutOffIsAbortedLikeAnMtaAbort) {
  LogCapture log(spdlog::level::debug);
  const std::string begun = MacroPacket('M', {"i", "4AbC12"}) + Mail("<>") +
                            Rcpt("<news@mta.test>") + HeaderPacket("Subject", "x");
  {
    std::unique_ptr<FilterConnection> c = Open();
    Feed(*c, begun);
    EXPECT_EQ(log.Take(), "");
    Feed(*c, Packet('A'));
    EXPECT_EQ(log.Take(), "message 4AbC12 aborted: by the MTA\n");
    Feed(*c, Packet('A'));  // between messages: nothing to abort
    EXPECT_EQ(log.Take(), "");
    Feed(*c, begun);
  }
  EXPECT_EQ(log.Take(), "message 4AbC12 aborted: connection closed\n");

  std::unique_ptr<FilterConnection> c = Open();
  Feed(*c, begun + Packet('K'));
  EXPECT_EQ(log.Take(), "message 4AbC12 aborted: quit-new-connection\n");
  Feed(*c, Connect4("again.test", "192.0.2.7") + Mail("<>") + Rcpt("<news@mta.test>") +
               Connect4("again.test", "192.0.2.7"));
  EXPECT_EQ(log.Take(), "message aborted: a new connect\n");

  // A whole message, then one the filter accepts at MAIL (ordinary inbound
  // mail), then the close: no message was open.
  Feed(*c, Mail("<>") + Rcpt("<news@mta.test>") + MessagePackets(Dsn("cut@remote.test")));
  EXPECT_EQ(Commands(Feed(*c, Mail("<someone@remote.test>"))), "a");
  c.reset();
  EXPECT_EQ(log.Take().find("aborted"), std::string::npos);
}

TEST_F(FilterConnectionTest, QuitNewConnectionStartsAFreshSession) {
  std::unique_ptr<FilterConnection> c = Open();
  EXPECT_EQ(Commands(Feed(
                *c, MacroPacket('M', {"{auth_authen}", "alice"}) + Mail("<alice@example.com>"))),
            "c");
  // K: no reply, the context is gone: MAIL before a new connect gets the
  // internal-error verdict (On-InternalError accept).
  EXPECT_EQ(Commands(Feed(*c, Packet('K') + Mail("<alice@example.com>"))), "a");
  // A new connect on the same connection, without a new negotiation.
  EXPECT_EQ(Commands(Feed(*c, Connect4("again.test", "192.0.2.7") +
                                  MacroPacket('M', {"{auth_authen}", "alice"}) +
                                  Mail("<alice@example.com>"))),
            "c");
}

// The client address of the connect packet decides OutboundClients: IPv6
// (also as Sendmail writes it, "IPv6:..."), and no address at all for a unix
// socket or an unknown family.
TEST_F(FilterConnectionTest, ConnectFamiliesAndOutboundClients) {
  Configure("OutboundClients 2001:db8::/32\n");
  {
    std::unique_ptr<FilterConnection> c = Open();
    Suppress(*c, "gone@remote.test");
  }
  const auto connect6 = [](const std::string& ip) {
    return Packet('C', Z({"client.test"}) + "6" + std::string("\x00\x19", 2) + Z({ip}));
  };
  for (const std::string& ip : {std::string("2001:db8::5"), std::string("IPv6:2001:DB8::5")}) {
    SCOPED_TRACE(ip);
    FilterConnection c(*filter_);
    EXPECT_EQ(Commands(Feed(c, Optneg() + connect6(ip) + Mail("<news@example.com>") +
                                   Rcpt("<gone@remote.test>") + Rcpt("<ok@remote.test>"))),
              "Ocyc");
  }
  // Outside the network, or no address: ordinary inbound mail, accepted at MAIL.
  for (const std::string& connect :
       {connect6("2001:db9::5"), Packet('C', Z({"localhost"}) + "L" + std::string("\x00\x00", 2) +
                                             Z({"/var/run/mta.sock"})),
        Packet('C', Z({"unknown"}) + "U")}) {
    FilterConnection c(*filter_);
    EXPECT_EQ(Commands(Feed(c, Optneg() + connect + Mail("<news@example.com>"))), "Oa");
  }
}

// An MTA that cannot skip HELO and unknown commands gets an answer to each.
TEST_F(FilterConnectionTest, HeloAndUnknownAreAnsweredWhenNotSkipped) {
  FilterConnection c(*filter_);
  EXPECT_EQ(Commands(Feed(c, Optneg(kAllActions, kNoData | kNoReplyHeader | kNoReplyConnect) +
                                 Connect4("client.test", "203.0.113.9") +
                                 Packet('H', Z({"helo.test"})) + Packet('U', Z({"XYZZY"})))),
            "Occ");
}

TEST_F(FilterConnectionTest, CommandsBeforeConnectGetTheInternalErrorVerdict) {
  FilterConnection c(*filter_);
  EXPECT_EQ(Commands(Feed(c, Optneg() + Mail("<a@b.test>") + Rcpt("<c@d.test>"))), "Oaa");
}

// A header verdict held back while headers got no reply answers the next
// header once a new negotiation asks for header replies: the MTA waits for
// it (found by fuzz/milter_session_fuzzer).
TEST_F(FilterConnectionTest, AHeldBackVerdictAnswersAHeaderThatNeedsAReply) {
  FilterConnection c(*filter_);
  // No connect: the header gets the internal-error verdict (accept), held
  // back as headers get no reply.
  EXPECT_EQ(Commands(Feed(c, Optneg() + HeaderPacket("Subject", "x"))), "O");
  EXPECT_EQ(Commands(Feed(c, Optneg(kAllActions, kNoHelo) + HeaderPacket("Subject", "y"))), "Oa");
  EXPECT_EQ(Commands(Feed(c, HeaderPacket("Subject", "z"))), "a");
}

TEST_F(FilterConnectionTest, MalformedCommandAndQuitClose) {
  std::unique_ptr<FilterConnection> c = Open();
  bool closed = false;
  Feed(*c, Packet('M', "no-nul"), &closed);
  EXPECT_TRUE(closed);
  c = Open();
  Feed(*c, Packet('Z'), &closed);
  EXPECT_TRUE(closed);
  c = Open();
  EXPECT_TRUE(Feed(*c, Packet('Q'), &closed).empty());
  EXPECT_TRUE(closed);
}

TEST_F(FilterConnectionTest, EndOfMessageWithALastChunkAndNoAddHeaderAction) {
  // The MTA does not allow adding headers: the bounce is recorded, not tagged.
  FilterConnection c(*filter_);
  Feed(c, Optneg(0x08 | 0x40) + Connect4("client.test", "203.0.113.9"));
  const std::string raw = Dsn("last@remote.test");
  const std::size_t body = raw.find("\r\n\r\n") + 4;
  std::string stream = Mail("<>") + Rcpt("<news@mta.test>");
  std::string message = MessagePackets(raw.substr(0, body));  // headers, empty body
  message.resize(message.size() - 5 - 5);                     // drop the empty B and E
  stream += message + Packet('E', raw.substr(body));
  EXPECT_EQ(Commands(Feed(c, stream)), "ccca");
  Result<RecipientStatus> status = store_->Check("last@remote.test", 1763800000);
  ASSERT_TRUE(status.ok());
  EXPECT_TRUE(status->refused);
}

// The server hands a packet to a worker when it may block: the body and
// end of a bounce, and any step that uses the store while the store may
// have to be opened; nothing else.
TEST_F(FilterConnectionTest, OnlyBounceBodiesAndStepsWaitingForTheStoreMayBlock) {
  auto may_block = [](const FilterConnection& connection, const std::string& packet) {
    std::size_t consumed = 0;
    Result<std::optional<milter::Packet>> p = milter::NextPacket(packet, &consumed);
    EXPECT_TRUE(p.ok() && p->has_value());
    return connection.MayBlock(**p);
  };
  std::unique_ptr<FilterConnection> c = Open();
  // Not open yet: the first store call opens it.
  EXPECT_TRUE(may_block(*c, Rcpt("<a@remote.test>")));
  ASSERT_TRUE(store_->Open().ok());
  for (const std::string& packet :
       {Optneg(), MacroPacket('M', {"i", "Q1"}), Connect4("c.test", "192.0.2.1"), Mail("<>"),
        Rcpt("<a@remote.test>"), Packet('T'), HeaderPacket("Subject", "x"), Packet('N'),
        Packet('B', "body"), Packet('E'), Packet('A'), Packet('K'), Packet('Q')}) {
    EXPECT_FALSE(may_block(*c, packet)) << packet[4];
  }
  // A bounce: its body is collected, its end parsed and recorded.
  Feed(*c, Mail("<>") + Rcpt("<news@mta.test>") + HeaderPacket("Subject", "x") + Packet('N'));
  EXPECT_TRUE(may_block(*c, Packet('B', "body")));
  EXPECT_TRUE(may_block(*c, Packet('E')));
  EXPECT_FALSE(may_block(*c, HeaderPacket("Subject", "x")));
  Feed(*c, Packet('A'));
  // Outbound mail: the recipient lookup only reads the store.
  Feed(*c, Packet('A') + MacroPacket('M', {"{auth_authen}", "alice"}) +
               Mail("<alice@example.com>"));
  EXPECT_FALSE(may_block(*c, Rcpt("<b@remote.test>")));
  EXPECT_FALSE(may_block(*c, Packet('E')));
  store_->Close();
  EXPECT_TRUE(may_block(*c, Rcpt("<b@remote.test>")));
  EXPECT_TRUE(may_block(*c, Packet('N')));
  EXPECT_FALSE(may_block(*c, Mail("<alice@example.com>")));
}

}  // namespace
}  // namespace bm
