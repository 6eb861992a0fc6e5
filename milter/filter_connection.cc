#include "milter/filter_connection.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <spdlog/spdlog.h>
#include <sys/socket.h>

#include <algorithm>
#include <cstring>
#include <exception>

#include "common/ascii.h"

namespace bm {
namespace {

using namespace milter;  // NOLINT: the protocol's constants, in this file only

// Tag bounces; remove suppressed recipients of non-SMTP mail; sign return
// paths (milter/bounce_verification.h).
constexpr std::uint32_t kActions = kActionAddHeaders | kActionDeleteRcpt | kActionChangeFrom;

// Protocol steps the filter does without: fewer round trips per message.
// HELO and unknown commands are not needed; headers need no reply (the
// decision is taken at end of headers or of message), and neither does the
// connect step: a connection refused there is refused at MAIL FROM instead.
// DATA is needed only with SentLedger queue-id (Filter::WantsDataStep).
constexpr std::uint32_t kStepsNotNeeded = kStepNoHelo | kStepNoUnknown;
constexpr std::uint32_t kNoReplySteps = kStepNoReplyHeader | kStepNoReplyConnect;

// Longest reply line the filter may set, as libmilter allowed.
constexpr std::size_t kMaxReplyBytes = 980;

// "{auth_authen}" and "auth_authen" name the same macro.
std::string_view Unbraced(std::string_view name) {
  if (name.size() >= 2 && name.front() == '{' && name.back() == '}') {
    return name.substr(1, name.size() - 2);
  }
  return name;
}

// "5.1.1": class digit, then two dot-separated numbers of 1-3 digits.
bool IsEnhancedCode(std::string_view x, char klass) {
  if (x.size() < 5 || x[0] != klass || x[1] != '.') return false;
  int dots = 0, digits = 0;
  for (char c : x.substr(2)) {
    if (c == '.') {
      if (digits == 0 || ++dots > 1) return false;
      digits = 0;
    } else if (IsAsciiDigit(c) && ++digits <= 3) {
      continue;
    } else {
      return false;
    }
  }
  return dots == 1 && digits > 0;
}

// The client's address for Filter::OnConnect: only the address families the
// filter can match carry one.
std::optional<sockaddr_storage> SocketAddress(const Connect& c) {
  sockaddr_storage storage{};
  std::string address(c.address);
  if (c.family == kFamilyInet) {
    sockaddr_in in{};
    in.sin_family = AF_INET;
    in.sin_port = htons(c.port);
    if (inet_pton(AF_INET, address.c_str(), &in.sin_addr) != 1) return std::nullopt;
    std::memcpy(&storage, &in, sizeof in);
    return storage;
  }
  if (c.family == kFamilyInet6) {
    // Sendmail may write "IPv6:2001:db8::1".
    if (address.size() > 5 && strncasecmp(address.c_str(), "IPv6:", 5) == 0) address.erase(0, 5);
    sockaddr_in6 in6{};
    in6.sin6_family = AF_INET6;
    in6.sin6_port = htons(c.port);
    if (inet_pton(AF_INET6, address.c_str(), &in6.sin6_addr) != 1) return std::nullopt;
    std::memcpy(&storage, &in6, sizeof in6);
    return storage;
  }
  return std::nullopt;
}

}  // namespace

std::optional<FilterConnection::Stage> FilterConnection::StageOf(char command) {
  switch (command) {
    case kCmdConnect: return kConnect;
    case kCmdHelo: return kHelo;
    case kCmdMail: return kMail;
    case kCmdRcpt: return kRcpt;
    case kCmdData: return kData;
    case kCmdEndOfHeaders: return kEndOfHeaders;
    case kCmdEndOfMessage: return kEndOfMessage;
  }
  return std::nullopt;
}

FilterConnection::FilterConnection(Filter& filter) : filter_(filter) {}

FilterConnection::~FilterConnection() { EndConnectionContext("connection closed"); }

template <typename Handler>
Verdict FilterConnection::Guarded(const char* step, Handler&& handler) noexcept {
  try {
    return handler();
  } catch (const std::exception& e) {
    spdlog::error("internal error in {} step: {}", step, e.what());
  } catch (...) {
    spdlog::error("internal error in {} step: unknown exception", step);
  }
  try {
    return filter_.InternalErrorVerdict(context_.get());
  } catch (...) {
    return Verdict::kTempfail;
  }
}

template <typename Handler>
Verdict FilterConnection::WithContext(const char* step, Handler&& handler) noexcept {
  return Guarded(step, [&]() -> Verdict {
    // No context: the connect step failed (or never came).
    if (context_ == nullptr) return filter_.InternalErrorVerdict(nullptr);
    return handler(*context_);
  });
}

bool FilterConnection::Handle(const Packet& packet, std::string* replies) {
  Result<Command> command = DecodeCommand(packet);
  if (!command.ok()) {
    spdlog::warn("closing milter connection: {}", command.status().ToString());
    return false;
  }
  const bool keep = Dispatch(*command, replies);
  reply_.reset();
  return keep;
}

bool FilterConnection::MayBlock(const Packet& packet) const {
  std::optional<Filter::Step> step;
  switch (packet.command) {
    case kCmdRcpt: step = Filter::Step::kEnvRcpt; break;
    case kCmdData: step = Filter::Step::kData; break;
    case kCmdEndOfHeaders: step = Filter::Step::kEndOfHeaders; break;
    case kCmdBody: step = Filter::Step::kBody; break;
    case kCmdEndOfMessage: step = Filter::Step::kEndOfMessage; break;
  }
  return step && filter_.MayWait(*step, context_.get());
}

bool FilterConnection::Dispatch(const Command& command, std::string* replies) {
  MtaSession& mta = *this;
  if (const auto* o = std::get_if<OptionNegotiation>(&command)) {
    Negotiate(*o, replies);
  } else if (const auto* m = std::get_if<Macros>(&command)) {
    // Macros for a command without a stage (unknown commands) are not kept.
    if (std::optional<Stage> stage = StageOf(m->command)) {
      MacroList& list = macros_[*stage];
      list.clear();
      for (const auto& [name, value] : m->values) list.emplace_back(name, value);
    }
  } else if (const auto* c = std::get_if<Connect>(&command)) {
    OnConnect(*c, replies);
  } else if (std::holds_alternative<Helo>(command) ||
             std::holds_alternative<UnknownCommand>(command)) {
    // Not negotiated away only by an MTA that cannot: nothing to do.
    Reply(Verdict::kContinue, replies);
  } else if (const auto* e = std::get_if<Envelope>(&command)) {
    const std::string_view address = e->args.front();
    if (e->command == kCmdMail) {
      stage_ = kMail;
      in_message_ = true;
      ClearMacros(kRcpt);  // of the previous message
      Reply(WithContext("envfrom",
                        [&](ConnectionContext& c) { return filter_.OnEnvFrom(c, mta, address); }),
            replies);
    } else {
      stage_ = kRcpt;
      Reply(WithContext("envrcpt",
                        [&](ConnectionContext& c) { return filter_.OnEnvRcpt(c, mta, address); }),
            replies);
    }
  } else if (const auto* h = std::get_if<Header>(&command)) {
    OnHeader(*h, replies);
  } else if (const auto* b = std::get_if<BodyChunk>(&command)) {
    if (b->command == kCmdEndOfMessage) {
      OnEndOfMessage(b->bytes, replies);
    } else if (pending_) {
      Reply(*std::exchange(pending_, std::nullopt), replies);
    } else {
      stage_ = kEndOfHeaders;
      Reply(WithContext("body",
                        [&](ConnectionContext& c) { return filter_.OnBody(c, mta, b->bytes); }),
            replies);
    }
  } else {
    switch (std::get<Bare>(command).command) {
      case kCmdData:
        stage_ = kData;
        Reply(WithContext("data", [&](ConnectionContext& c) { return filter_.OnData(c, mta); }),
              replies);
        break;
      case kCmdEndOfHeaders:
        stage_ = kEndOfHeaders;
        if (pending_) {
          Reply(*std::exchange(pending_, std::nullopt), replies);
          break;
        }
        Reply(WithContext("eoh",
                          [&](ConnectionContext& c) { return filter_.OnEndOfHeaders(c, mta); }),
              replies);
        break;
      case kCmdAbort:  // no reply
        AbortMessage("by the MTA");
        break;
      case kCmdQuitNewConnection:  // no reply; a new connect follows on this socket
        EndConnectionContext("quit-new-connection");
        ClearMacros(kConnect);
        break;
      case kCmdQuit: return false;
    }
  }
  return true;
}

void FilterConnection::Negotiate(const OptionNegotiation& offer, std::string* replies) {
  if ((offer.actions & kActionAddHeaders) == 0) {
    spdlog::warn("the MTA does not offer to add headers: bounces will not be tagged");
  }
  if ((offer.actions & kActionChangeFrom) == 0) {
    spdlog::warn(
        "the MTA does not offer to change the envelope sender: "
        "return paths will not be signed");
  }
  actions_ = offer.actions & kActions;
  // Negotiated once per connection: the policy in force now decides for the
  // whole connection, even if a reload changes it later (a connection
  // without DATA then records by Message-ID at end of headers; one with DATA
  // under a policy without queue-id continues there).
  bool wants_data = true;
  Guarded("negotiate", [&] {
    wants_data = filter_.WantsDataStep();
    return Verdict::kContinue;
  });
  const std::uint32_t without_data = wants_data ? 0 : kStepNoData;
  steps_ = offer.steps & (kStepsNotNeeded | without_data | kNoReplySteps);
  AppendOptionNegotiationReply(replies, std::min(offer.version, kProtocolVersion), actions_,
                               steps_);
}

void FilterConnection::OnConnect(const Connect& connect, std::string* replies) {
  EndConnectionContext("a new connect");
  stage_ = kConnect;
  const Verdict verdict = Guarded("connect", [&] {
    std::optional<sockaddr_storage> address = SocketAddress(connect);
    context_ = filter_.OnConnect(connect.hostname,
                                 address ? reinterpret_cast<const sockaddr*>(&*address) : nullptr);
    return Verdict::kContinue;
  });
  // Without a reply to send, a failure here surfaces at MAIL FROM, which
  // finds no context.
  if ((steps_ & kStepNoReplyConnect) == 0) Reply(verdict, replies);
}

void FilterConnection::OnHeader(const Header& header, std::string* replies) {
  stage_ = kData;
  const bool answered = (steps_ & kStepNoReplyHeader) == 0;
  if (pending_) {  // the message's answer is already known
    // Headers are answered after a new negotiation without the no-reply
    // step: the MTA waits for this one.
    if (answered) Reply(*std::exchange(pending_, std::nullopt), replies);
    return;
  }
  const Verdict verdict = WithContext("header", [&](ConnectionContext& c) {
    return filter_.OnHeader(c, header.name, header.value);
  });
  if (answered) {
    Reply(verdict, replies);
  } else if (verdict != Verdict::kContinue) {
    pending_ = verdict;
  }
}

void FilterConnection::OnEndOfMessage(std::string_view last_chunk, std::string* replies) {
  in_message_ = false;
  if (pending_) {
    Reply(*std::exchange(pending_, std::nullopt), replies);
    ClearMacros(kMail);
    return;
  }
  MtaSession& mta = *this;
  Verdict verdict = Verdict::kContinue;
  if (!last_chunk.empty()) {
    stage_ = kEndOfHeaders;
    verdict = WithContext("body",
                          [&](ConnectionContext& c) { return filter_.OnBody(c, mta, last_chunk); });
  }
  if (verdict == Verdict::kContinue) {
    stage_ = kEndOfMessage;
    verdict =
        WithContext("eom", [&](ConnectionContext& c) { return filter_.OnEndOfMessage(c, mta); });
    replies->append(modifications_);
  }
  modifications_.clear();
  Reply(verdict, replies);
  ClearMacros(kMail);  // the message is over
}

void FilterConnection::ClearMacros(Stage from) {
  for (int s = from; s < kStages; ++s) macros_[s].clear();
}

void FilterConnection::AbortMessage(const char* why) {
  Guarded("abort", [&] {
    // The MTA may abort between messages too; only a message begun is
    // logged, by its queue id when it has one (Postfix's and Sendmail's are
    // alphanumeric; anything else is not written to the log).
    if (in_message_) {
      std::string queue = Macro("i").value_or("");
      if (queue.size() > 32 || !std::all_of(queue.begin(), queue.end(), IsAsciiAlnum)) {
        queue.clear();
      }
      spdlog::debug("message {}{}aborted: {}", queue, queue.empty() ? "" : " ", why);
    }
    if (context_ != nullptr) filter_.OnAbort(*context_);
    return Verdict::kContinue;
  });
  in_message_ = false;
  pending_.reset();
  ClearMacros(kMail);
}

void FilterConnection::EndConnectionContext(const char* why) {
  if (in_message_) AbortMessage(why);
  context_.reset();
  pending_.reset();
}

void FilterConnection::Reply(Verdict verdict, std::string* replies) {
  // Any verdict but continue ends the message for the MTA, which sends no
  // more of it; a refused recipient only ends that recipient.
  const bool refused_recipient =
      stage_ == kRcpt && (verdict == Verdict::kReject || verdict == Verdict::kTempfail);
  if (verdict != Verdict::kContinue && !refused_recipient) in_message_ = false;
  switch (verdict) {
    case Verdict::kContinue: AppendPacket(replies, kReplyContinue); return;
    case Verdict::kAccept: AppendPacket(replies, kReplyAccept); return;
    case Verdict::kDiscard: AppendPacket(replies, kReplyDiscard); return;
    case Verdict::kReject:
    case Verdict::kTempfail: {
      // A reply set for this command is used when its class matches the verdict.
      const char klass = verdict == Verdict::kReject ? '5' : '4';
      if (reply_ && reply_->front() == klass) {
        AppendReplyCode(replies, *reply_);
      } else {
        AppendPacket(replies, verdict == Verdict::kReject ? kReplyReject : kReplyTempfail);
      }
      return;
    }
  }
  AppendPacket(replies, kReplyTempfail);
}

std::optional<std::string> FilterConnection::Macro(const char* name) {
  const std::string_view wanted = Unbraced(name);
  for (int s = stage_; s >= 0; --s) {
    for (const auto& [macro, value] : macros_[s]) {
      if (Unbraced(macro) == wanted) return value;
    }
  }
  return std::nullopt;
}

bool FilterConnection::SetReply(const SmtpReply& reply) {
  // As smfi_setreply: a 4xx or 5xx code, an enhanced code of the same class,
  // a single line.
  const std::string& r = reply.rcode;
  if (r.size() != 3 || (r[0] != '4' && r[0] != '5') || !IsAsciiDigit(r[1]) || !IsAsciiDigit(r[2])) {
    return false;
  }
  if (!reply.xcode.empty() && !IsEnhancedCode(reply.xcode, r[0])) return false;
  if (reply.text.find_first_of(std::string_view("\r\n\0", 3)) != std::string::npos) return false;
  std::string line = r;
  if (!reply.xcode.empty()) line += " " + reply.xcode;
  if (!reply.text.empty()) line += " " + reply.text;
  // libmilter's bound (MAXREPLYLEN): the MTA gets the plain verdict instead.
  if (line.size() > kMaxReplyBytes) return false;
  reply_ = std::move(line);
  return true;
}

bool FilterConnection::MayModify(std::uint32_t action, std::string_view field) const {
  return stage_ == kEndOfMessage && (actions_ & action) != 0 && !field.empty() &&
         field.find('\0') == std::string_view::npos;
}

bool FilterConnection::AddHeader(const std::string& name, const std::string& value) {
  if (!MayModify(kActionAddHeaders, name) || value.find('\0') != std::string::npos) return false;
  AppendAddHeader(&modifications_, name, value);
  return true;
}

bool FilterConnection::DeleteRecipient(const std::string& recipient) {
  if (!MayModify(kActionDeleteRcpt, recipient)) return false;
  AppendDeleteRcpt(&modifications_, recipient);
  return true;
}

bool FilterConnection::ChangeSender(const std::string& sender) {
  if (!MayModify(kActionChangeFrom, sender)) return false;
  AppendChangeFrom(&modifications_, sender);
  return true;
}

}  // namespace bm
