// The answers of bench/null_milter.cc without libmilter, for the null milters
// built on other servers (raw_null_milter.cc: one epoll thread;
// server_null_milter.cc: the daemon's MilterServer). The same negotiated
// steps (no HELO, DATA or unknown commands; no reply to connect or headers),
// no state, no decision: CONTINUE at MAIL FROM and each RCPT TO, ACCEPT at
// end of headers (or at DATA with accept_at_data). It speaks only what
// Postfix sends to such a milter; anything else closes the connection.
#ifndef BM_BENCH_NULL_ANSWERS_H_
#define BM_BENCH_NULL_ANSWERS_H_

#include <cstdint>
#include <string>

#include "milter/milter_protocol.h"

namespace bm {

// Appends the reply to one packet to *out; false: close the connection.
inline bool AnswerLikeNullMilter(const milter::Packet& packet, bool accept_at_data,
                                 std::string* out) {
  using namespace milter;  // NOLINT: the protocol's constants
  switch (packet.command) {
    case kCmdOptionNegotiation: {
      Result<Command> command = DecodeCommand(packet);
      if (!command.ok()) return false;
      const std::uint32_t offered = std::get<OptionNegotiation>(*command).steps;
      AppendOptionNegotiationReply(
          out, kProtocolVersion, 0,
          offered & (kStepNoHelo | (accept_at_data ? 0 : kStepNoData) | kStepNoUnknown |
                     kStepNoReplyHeader | kStepNoReplyConnect));
      return true;
    }
    case kCmdMacro:
    case kCmdConnect:  // no reply negotiated
    case kCmdHeader:   // no reply negotiated
    case kCmdAbort:
    case kCmdQuitNewConnection: return true;
    case kCmdMail:
    case kCmdRcpt:
    case kCmdHelo:
    case kCmdUnknown:
    case kCmdBody: AppendPacket(out, kReplyContinue); return true;
    case kCmdData: AppendPacket(out, accept_at_data ? kReplyAccept : kReplyContinue); return true;
    case kCmdEndOfHeaders:
    case kCmdEndOfMessage: AppendPacket(out, kReplyAccept); return true;
    default: return false;  // QUIT and anything unexpected
  }
}

}  // namespace bm

#endif  // BM_BENCH_NULL_ANSWERS_H_
