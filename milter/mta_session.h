// MtaSession: the seam between the filter's handlers and the milter protocol.
//
// Handlers (milter/filter.h) see the MTA only through this interface, so they
// run unchanged on an MTA connection (FilterConnection in
// filter_connection.h) and in unit tests (a recording implementation). Used
// by one thread at a time.
#ifndef BM_MILTER_MTA_SESSION_H_
#define BM_MILTER_MTA_SESSION_H_

#include <optional>
#include <string>
#include <string_view>

#include "milter/reply.h"

namespace bm {

class MtaSession {
 public:
  virtual ~MtaSession() = default;
  // Value of a macro such as "i", "{auth_authen}", "{daemon_name}";
  // nullopt when the MTA did not send it.
  virtual std::optional<std::string> Macro(const char* name) = 0;
  // Reply used by the MTA for the verdict of the current callback.
  // Returns false when the MTA side refused it.
  virtual bool SetReply(const SmtpReply& reply) = 0;
  // REQUIRES: called from the end-of-message handler only.
  virtual bool AddHeader(const std::string& name, const std::string& value) = 0;
  // Removes an envelope recipient, given as the MTA passed it to RCPT.
  // REQUIRES: called from the end-of-message handler only.
  virtual bool DeleteRecipient(const std::string& recipient) = 0;
  // Replaces the envelope sender ("<addr>").
  // REQUIRES: called from the end-of-message handler only.
  virtual bool ChangeSender(const std::string& sender) = 0;
};

// The MTA's queue id of the message (macro "i"), "" when it did not send it:
// what the decision log names a message by.
inline std::string QueueId(MtaSession& mta) { return mta.Macro("i").value_or(""); }

}  // namespace bm

#endif  // BM_MILTER_MTA_SESSION_H_
