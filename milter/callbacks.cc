#include "milter/callbacks.h"

#include <libmilter/mfapi.h>
#include <spdlog/spdlog.h>

#include <exception>

namespace bm {
namespace {

// libmilter callbacks carry no user pointer; this is the one filter of the
// process, set once before smfi_main() starts any thread.
Filter* g_filter = nullptr;

class LibmilterSession : public MtaSession {
 public:
  explicit LibmilterSession(SMFICTX* ctx) : ctx_(ctx) {}

  std::optional<std::string> Macro(const char* name) override {
    const char* value = smfi_getsymval(ctx_, const_cast<char*>(name));
    if (value == nullptr) return std::nullopt;
    return std::string(value);
  }
  bool SetReply(const SmtpReply& reply) override {
    return smfi_setreply(ctx_, const_cast<char*>(reply.rcode.c_str()),
                         const_cast<char*>(reply.xcode.c_str()),
                         const_cast<char*>(reply.text.c_str())) == MI_SUCCESS;
  }
  bool AddHeader(const std::string& name, const std::string& value) override {
    return smfi_addheader(ctx_, const_cast<char*>(name.c_str()),
                          const_cast<char*>(value.c_str())) == MI_SUCCESS;
  }
  bool ChangeSender(const std::string& sender) override {
    return smfi_chgfrom(ctx_, const_cast<char*>(sender.c_str()), nullptr) == MI_SUCCESS;
  }
  bool DeleteRecipient(const std::string& recipient) override {
    return smfi_delrcpt(ctx_, const_cast<char*>(recipient.c_str())) == MI_SUCCESS;
  }

 private:
  SMFICTX* ctx_;
};

sfsistat ToStatus(Verdict v) {
  switch (v) {
    case Verdict::kContinue: return SMFIS_CONTINUE;
    case Verdict::kAccept: return SMFIS_ACCEPT;
    case Verdict::kReject: return SMFIS_REJECT;
    case Verdict::kTempfail: return SMFIS_TEMPFAIL;
    case Verdict::kDiscard: return SMFIS_DISCARD;
  }
  return SMFIS_TEMPFAIL;
}

ConnectionContext* Context(SMFICTX* ctx) {
  return static_cast<ConnectionContext*>(smfi_getpriv(ctx));
}

// Runs one handler; anything thrown becomes the On-InternalError verdict.
template <typename Handler>
sfsistat Guarded(SMFICTX* ctx, const char* stage, Handler&& handler) noexcept {
  try {
    return ToStatus(handler());
  } catch (const std::exception& e) {
    spdlog::error("internal error in {} callback: {}", stage, e.what());
  } catch (...) {
    spdlog::error("internal error in {} callback: unknown exception", stage);
  }
  try {
    return ToStatus(g_filter->InternalErrorVerdict(Context(ctx)));
  } catch (...) {
    return SMFIS_TEMPFAIL;
  }
}

// For callbacks that need the connection context: without one (its creation
// failed) the connection gets the internal-error verdict.
template <typename Handler>
sfsistat WithContext(SMFICTX* ctx, const char* stage, Handler&& handler) noexcept {
  return Guarded(ctx, stage, [&]() -> Verdict {
    ConnectionContext* c = Context(ctx);
    // No context, or only the placeholder from negotiation: connect failed.
    if (c == nullptr || c->policy == nullptr) return g_filter->InternalErrorVerdict(nullptr);
    LibmilterSession mta(ctx);
    return handler(*c, mta);
  });
}

// Tag bounces; remove suppressed recipients of non-SMTP mail; sign return
// paths (milter/bounce_verification.h).
constexpr unsigned long kActions = SMFIF_ADDHDRS | SMFIF_DELRCPT | SMFIF_CHGFROM;

// Protocol steps the filter does without: fewer round trips per message.
// HELO and unknown commands are not needed; headers need no reply (the
// decision is taken at end of headers or of message), and neither does the
// connect step: a connection refused there is refused at MAIL FROM instead.
// DATA is needed only with SentLedger queue-id (Filter::WantsDataStep).
constexpr unsigned long kStepsNotNeeded = SMFIP_NOHELO | SMFIP_NOUNKNOWN;
constexpr unsigned long kNoReplySteps = SMFIP_NR_HDR | SMFIP_NR_CONN;

sfsistat OnNegotiate(SMFICTX* ctx, unsigned long actions, unsigned long steps, unsigned long,
                     unsigned long, unsigned long* want_actions, unsigned long* want_steps,
                     unsigned long* want_2, unsigned long* want_3) {
  return Guarded(ctx, "negotiate", [&] {
    if ((actions & SMFIF_ADDHDRS) == 0) {
      spdlog::warn("the MTA does not offer to add headers: bounces will not be tagged");
    }
    if ((actions & SMFIF_CHGFROM) == 0) {
      spdlog::warn("the MTA does not offer to change the envelope sender: "
                   "return paths will not be signed");
    }
    *want_actions = actions & kActions;
    // libmilter negotiates once per connection: the policy in force now
    // decides for the whole connection, even if a reload changes it later
    // (a connection without DATA then records by Message-ID at end of
    // headers; one with DATA under a policy without queue-id continues there).
    const unsigned long without_data = g_filter->WantsDataStep() ? 0 : SMFIP_NODATA;
    *want_steps = steps & (kStepsNotNeeded | without_data | kNoReplySteps);
    *want_2 = 0;
    *want_3 = 0;
    // Remembered for the connection until OnConnect builds the real context.
    auto c = std::make_unique<ConnectionContext>();
    c->header_no_reply = (*want_steps & SMFIP_NR_HDR) != 0;
    c->connect_no_reply = (*want_steps & SMFIP_NR_CONN) != 0;
    delete Context(ctx);
    if (smfi_setpriv(ctx, c.get()) == MI_SUCCESS) c.release();
    return Verdict::kContinue;
  });
}

sfsistat OnConnect(SMFICTX* ctx, char* hostname, _SOCK_ADDR* addr) {
  const ConnectionContext* negotiated = Context(ctx);
  const bool no_reply = negotiated != nullptr && negotiated->connect_no_reply;
  sfsistat status = Guarded(ctx, "connect", [&] {
    std::unique_ptr<ConnectionContext> c =
        g_filter->OnConnect(hostname != nullptr ? hostname : "", addr);
    // Headers arrive on the real context; the connect step is over.
    if (negotiated != nullptr) c->header_no_reply = negotiated->header_no_reply;
    if (smfi_setpriv(ctx, c.get()) != MI_SUCCESS) {
      // The placeholder stays libmilter's (freed in OnClose); without a
      // policy, MAIL FROM answers with the internal-error verdict.
      return g_filter->InternalErrorVerdict(c.get());
    }
    delete negotiated;
    c.release();  // owned by libmilter's context until OnClose
    return Verdict::kContinue;
  });
  // Without a reply to send, a failure here surfaces at MAIL FROM: the
  // context is then still the placeholder, which has no policy.
  return no_reply ? SMFIS_NOREPLY : status;
}

sfsistat OnEnvFrom(SMFICTX* ctx, char** argv) {
  return WithContext(ctx, "envfrom", [&](ConnectionContext& c, MtaSession& mta) {
    return g_filter->OnEnvFrom(c, mta, argv != nullptr && argv[0] != nullptr ? argv[0] : "");
  });
}

sfsistat OnEnvRcpt(SMFICTX* ctx, char** argv) {
  return WithContext(ctx, "envrcpt", [&](ConnectionContext& c, MtaSession& mta) {
    return g_filter->OnEnvRcpt(c, mta, argv != nullptr && argv[0] != nullptr ? argv[0] : "");
  });
}

sfsistat OnData(SMFICTX* ctx) {
  return WithContext(ctx, "data", [&](ConnectionContext& c, MtaSession& mta) {
    return g_filter->OnData(c, mta);
  });
}

sfsistat OnHeader(SMFICTX* ctx, char* name, char* value) {
  bool no_reply = false;
  sfsistat status = WithContext(ctx, "header", [&](ConnectionContext& c, MtaSession&) {
    no_reply = c.header_no_reply;
    return g_filter->OnHeader(c, name != nullptr ? name : "", value != nullptr ? value : "");
  });
  return no_reply && status == SMFIS_CONTINUE ? SMFIS_NOREPLY : status;
}

sfsistat OnEndOfHeaders(SMFICTX* ctx) {
  return WithContext(ctx, "eoh", [&](ConnectionContext& c, MtaSession& mta) {
    return g_filter->OnEndOfHeaders(c, mta);
  });
}

sfsistat OnBody(SMFICTX* ctx, unsigned char* chunk, size_t size) {
  return WithContext(ctx, "body", [&](ConnectionContext& c, MtaSession& mta) {
    return g_filter->OnBody(
        c, mta, std::string_view(reinterpret_cast<const char*>(chunk), chunk ? size : 0));
  });
}

sfsistat OnEndOfMessage(SMFICTX* ctx) {
  return WithContext(ctx, "eom", [&](ConnectionContext& c, MtaSession& mta) {
    return g_filter->OnEndOfMessage(c, mta);
  });
}

sfsistat OnAbort(SMFICTX* ctx) {
  return Guarded(ctx, "abort", [&] {
    if (ConnectionContext* c = Context(ctx)) g_filter->OnAbort(*c);
    return Verdict::kContinue;
  });
}

sfsistat OnClose(SMFICTX* ctx) {
  // Frees the context whatever happened before; never throws.
  delete Context(ctx);
  smfi_setpriv(ctx, nullptr);
  return SMFIS_CONTINUE;
}

}  // namespace

Status RegisterMilterCallbacks(Filter& filter) {
  if (g_filter != nullptr) return Status::Internal("milter callbacks registered twice");
  g_filter = &filter;
  smfiDesc desc{};
  desc.xxfi_name = const_cast<char*>("bounce-milter");
  desc.xxfi_version = SMFI_VERSION;
  desc.xxfi_flags = kActions;
  desc.xxfi_connect = &OnConnect;
  desc.xxfi_envfrom = &OnEnvFrom;
  desc.xxfi_envrcpt = &OnEnvRcpt;
  desc.xxfi_header = &OnHeader;
  desc.xxfi_eoh = &OnEndOfHeaders;
  desc.xxfi_body = &OnBody;
  desc.xxfi_eom = &OnEndOfMessage;
  desc.xxfi_abort = &OnAbort;
  desc.xxfi_close = &OnClose;
  desc.xxfi_negotiate = &OnNegotiate;
  desc.xxfi_data = &OnData;
  if (smfi_register(desc) != MI_SUCCESS) return Status::Internal("smfi_register failed");
  return Status::Ok();
}

}  // namespace bm
