// FilterConnection: one MTA connection's milter protocol state, driving the
// Filter (milter/filter.h) from the decoded commands (milter_protocol.h).
//
// It negotiates only what the MTA offers of what the filter needs, keeps the
// MTA's macros per protocol stage, owns the connection's ConnectionContext
// (freed on every path: quit, quit-new-connection, a new connect, close),
// turns verdicts into replies, and sends no reply to the steps negotiated as
// "no reply". A message still open when its context goes (the connection
// closed or dropped, quit-new-connection, a new connect) is aborted first,
// exactly as by the MTA's abort command (Filter::OnAbort; logged at debug).
// The MtaSession the handlers see is the connection itself: SetReply() makes
// a reject/tempfail reply carry that SMTP reply, and the end of message
// modifications are sent before its final reply, each only when the MTA
// allowed that action.
//
// Every handler call is guarded: an exception becomes the On-InternalError
// verdict (logged), and so does a command that needs a connection context
// when none could be built.
//
// Thread safety: one connection is handled by one thread at a time (the
// server's loop, or a worker for a command that MayBlock).
#ifndef BM_MILTER_FILTER_CONNECTION_H_
#define BM_MILTER_FILTER_CONNECTION_H_

#include <array>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "milter/filter.h"
#include "milter/milter_protocol.h"
#include "milter/milter_server.h"
#include "milter/mta_session.h"

namespace bm {

class FilterConnection : public PacketHandler, private MtaSession {
 public:
  // REQUIRES: filter outlives the connection.
  explicit FilterConnection(Filter& filter);
  // Aborts the message in progress, if any.
  ~FilterConnection() override;
  FilterConnection(const FilterConnection&) = delete;
  FilterConnection& operator=(const FilterConnection&) = delete;

  // Malformed commands are logged and close the connection, as QUIT does.
  bool Handle(const milter::Packet& packet, std::string* replies) override;
  // RCPT, DATA, end of headers, body and end of message, when the filter
  // says their handler may wait (Filter::MayWait): the body and end of a
  // bounce, and every step that uses the store while it may have to be
  // opened. The other commands, and closing the connection (an abort),
  // never wait.
  bool MayBlock(const milter::Packet& packet) const override;

 private:
  // Macro stages, in protocol order: a lookup searches the current stage,
  // then the earlier ones.
  enum Stage { kConnect, kHelo, kMail, kRcpt, kData, kEndOfHeaders, kEndOfMessage, kStages };
  using MacroList = std::vector<std::pair<std::string, std::string>>;

  bool Dispatch(const milter::Command& command, std::string* replies);
  void Negotiate(const milter::OptionNegotiation& offer, std::string* replies);
  void OnConnect(const milter::Connect& connect, std::string* replies);
  void OnHeader(const milter::Header& header, std::string* replies);
  void OnEndOfMessage(std::string_view last_chunk, std::string* replies);
  void ClearMacros(Stage from);
  // The message in progress ends without its end of message: the filter's
  // abort handler, the message's macros and pending verdict are forgotten.
  // `why` is logged.
  void AbortMessage(const char* why);
  // Frees the connection context (aborting its message first).
  void EndConnectionContext(const char* why);
  // The stage whose macros a D packet for `command` carries; none for
  // commands without one (unknown commands).
  static std::optional<Stage> StageOf(char command);
  // An end-of-message modification is allowed: its action negotiated, the
  // end of message reached, `field` non-empty and without NUL.
  bool MayModify(std::uint32_t action, std::string_view field) const;

  // Runs a handler that needs the connection context; without one the
  // verdict is On-InternalError.
  template <typename Handler>
  Verdict WithContext(const char* step, Handler&& handler) noexcept;
  template <typename Handler>
  Verdict Guarded(const char* step, Handler&& handler) noexcept;
  void Reply(Verdict verdict, std::string* replies);

  // MtaSession, valid during a handler call.
  std::optional<std::string> Macro(const char* name) override;
  bool SetReply(const SmtpReply& reply) override;
  bool AddHeader(const std::string& name, const std::string& value) override;
  bool DeleteRecipient(const std::string& recipient) override;
  bool ChangeSender(const std::string& sender) override;

  Filter& filter_;
  std::uint32_t actions_ = 0;  // negotiated
  std::uint32_t steps_ = 0;    // negotiated
  std::array<MacroList, kStages> macros_;
  Stage stage_ = kConnect;  // of the command being handled
  // Null before connect, and when it could not be built.
  std::unique_ptr<ConnectionContext> context_;
  // From MAIL to end of message, abort, or a verdict that ends the message.
  bool in_message_ = false;
  std::optional<std::string> reply_;  // "550 5.1.1 text" set for the current command
  std::string modifications_;         // encoded, sent before the end-of-message reply
  // A verdict other than continue for a header, which gets no reply: it
  // answers the next command that has one instead.
  std::optional<Verdict> pending_;
};

}  // namespace bm

#endif  // BM_MILTER_FILTER_CONNECTION_H_
