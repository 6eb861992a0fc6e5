// The milter protocol (version 6, as Postfix and Sendmail 8.14+ speak it):
// framing, decoding of the MTA's commands and encoding of the milter's
// replies. Pure functions over bytes; no sockets, no state, no logging.
//
// A packet is a 32-bit big-endian length (counting the command byte), the
// command byte, then the data. Decoded values are views into the bytes
// given: they stay valid as long as those bytes do.
//
// Every limit is checked: a packet larger than kMaxPacketSize, a command the
// protocol does not have, or data that does not have the command's shape is
// an error (kInvalidArgument/kLimitExceeded naming the command). The caller
// closes the connection on any error, and the MTA applies its default action
// (Postfix: milter_default_action).
#ifndef BM_MILTER_MILTER_PROTOCOL_H_
#define BM_MILTER_MILTER_PROTOCOL_H_

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <variant>
#include <vector>

#include "common/status.h"

namespace bm::milter {

// The highest protocol version spoken; the MTA's lower one is used when it
// offers less. Versions below 2 have no negotiation of steps: refused.
inline constexpr std::uint32_t kProtocolVersion = 6;
inline constexpr std::uint32_t kMinProtocolVersion = 2;

// Postfix sends body chunks of at most 64 KiB, Sendmail at most 1 MiB - 1
// when offered; anything larger is not an MTA speaking the protocol.
inline constexpr std::uint32_t kMaxPacketSize = 1024 * 1024;
inline constexpr std::size_t kMaxMacrosPerPacket = 256;
inline constexpr std::size_t kMaxArguments = 64;  // of MAIL and RCPT

// Commands (MTA -> milter).
inline constexpr char kCmdAbort = 'A';
inline constexpr char kCmdBody = 'B';
inline constexpr char kCmdConnect = 'C';
inline constexpr char kCmdMacro = 'D';
inline constexpr char kCmdEndOfMessage = 'E';
inline constexpr char kCmdHelo = 'H';
inline constexpr char kCmdQuitNewConnection = 'K';
inline constexpr char kCmdHeader = 'L';
inline constexpr char kCmdMail = 'M';
inline constexpr char kCmdEndOfHeaders = 'N';
inline constexpr char kCmdOptionNegotiation = 'O';
inline constexpr char kCmdQuit = 'Q';
inline constexpr char kCmdRcpt = 'R';
inline constexpr char kCmdData = 'T';
inline constexpr char kCmdUnknown = 'U';

// Replies (milter -> MTA).
inline constexpr char kReplyAccept = 'a';
inline constexpr char kReplyContinue = 'c';
inline constexpr char kReplyDiscard = 'd';
inline constexpr char kReplyReject = 'r';
inline constexpr char kReplyTempfail = 't';
inline constexpr char kReplyCode = 'y';
inline constexpr char kReplyOptionNegotiation = 'O';
// Modifications, sent at end of message before its final reply.
inline constexpr char kReplyAddHeader = 'h';
inline constexpr char kReplyChangeFrom = 'e';
inline constexpr char kReplyDeleteRcpt = '-';

// Actions the milter may take (negotiated; libmilter's SMFIF_*).
inline constexpr std::uint32_t kActionAddHeaders = 0x01;
inline constexpr std::uint32_t kActionDeleteRcpt = 0x08;
inline constexpr std::uint32_t kActionChangeFrom = 0x40;

// Protocol steps (negotiated; libmilter's SMFIP_*): "No" = the MTA does not
// send the command, "NoReply" = the MTA sends it and reads no reply.
inline constexpr std::uint32_t kStepNoHelo = 0x02;
inline constexpr std::uint32_t kStepNoReplyHeader = 0x80;
inline constexpr std::uint32_t kStepNoUnknown = 0x100;
inline constexpr std::uint32_t kStepNoData = 0x200;
inline constexpr std::uint32_t kStepNoReplyConnect = 0x1000;

// Address families of the connect command.
inline constexpr char kFamilyUnknown = 'U';
inline constexpr char kFamilyUnix = 'L';
inline constexpr char kFamilyInet = '4';
inline constexpr char kFamilyInet6 = '6';

// One packet split off a byte stream.
struct Packet {
  char command = 0;
  std::string_view data;
};

// The first packet of `bytes`: nullopt when more bytes are needed (and the
// length read so far is within limits). *consumed is set to the packet's
// size on the wire when one is returned.
// Errors: kLimitExceeded (length above kMaxPacketSize), kInvalidArgument
// (length 0: no command byte).
Result<std::optional<Packet>> NextPacket(std::string_view bytes, std::size_t* consumed);

struct OptionNegotiation {
  std::uint32_t version = 0;
  std::uint32_t actions = 0;  // what the MTA allows
  std::uint32_t steps = 0;    // what the MTA can leave out
};
struct Macros {
  char command = 0;                                                   // the command they belong to
  std::vector<std::pair<std::string_view, std::string_view>> values;  // name, value
};
struct Connect {
  std::string_view hostname;
  char family = kFamilyUnknown;
  std::uint16_t port = 0;    // host order; 0 for kFamilyUnknown/kFamilyUnix
  std::string_view address;  // "" for kFamilyUnknown
};
struct Helo {
  std::string_view name;
};
// MAIL and RCPT: the address, then ESMTP arguments.
struct Envelope {
  char command = 0;                    // kCmdMail or kCmdRcpt
  std::vector<std::string_view> args;  // never empty
};
struct Header {
  std::string_view name;
  std::string_view value;
};
// BODY and END OF MESSAGE (whose data, possibly empty, is a last body chunk).
struct BodyChunk {
  char command = 0;  // kCmdBody or kCmdEndOfMessage
  std::string_view bytes;
};
struct UnknownCommand {
  std::string_view line;
};
// DATA, END OF HEADERS, ABORT, QUIT, QUIT NEW CONNECTION: no data used.
struct Bare {
  char command = 0;
};

using Command = std::variant<OptionNegotiation, Macros, Connect, Helo, Envelope, Header, BodyChunk,
                             UnknownCommand, Bare>;

// Errors: kInvalidArgument (unknown command, data not of the command's shape,
// protocol version below kMinProtocolVersion), kLimitExceeded (too many
// macros or arguments).
Result<Command> DecodeCommand(const Packet& packet);

// Encoders: each appends one packet to *out.
void AppendPacket(std::string* out, char command, std::string_view data = {});
void AppendOptionNegotiationReply(std::string* out, std::uint32_t version, std::uint32_t actions,
                                  std::uint32_t steps);
// "550 5.1.1 text" (SMTP reply code, enhanced code, text; NUL added here).
void AppendReplyCode(std::string* out, std::string_view reply);
void AppendAddHeader(std::string* out, std::string_view name, std::string_view value);
// esmtp_args empty: none sent.
void AppendChangeFrom(std::string* out, std::string_view sender, std::string_view esmtp_args = {});
void AppendDeleteRcpt(std::string* out, std::string_view recipient);

}  // namespace bm::milter

#endif  // BM_MILTER_MILTER_PROTOCOL_H_
