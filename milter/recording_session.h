// RecordingSession: an MtaSession for tests that records what the filter
// asks of the MTA (replies, added headers, deleted recipients, a new sender)
// and answers macro lookups from a map. Test-only; not linked into the daemon.
#ifndef BM_MILTER_RECORDING_SESSION_H_
#define BM_MILTER_RECORDING_SESSION_H_

#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "milter/mta_session.h"

namespace bm {

class RecordingSession : public MtaSession {
 public:
  std::optional<std::string> Macro(const char* name) override {
    auto it = macros.find(name);
    if (it == macros.end()) return std::nullopt;
    return it->second;
  }
  bool SetReply(const SmtpReply& reply) override {
    replies.push_back(reply);
    return true;
  }
  bool AddHeader(const std::string& name, const std::string& value) override {
    headers.emplace_back(name, value);
    return true;
  }
  bool DeleteRecipient(const std::string& recipient) override {
    deleted.push_back(recipient);
    return true;
  }
  bool ChangeSender(const std::string& sender) override {
    new_sender = sender;
    return true;
  }

  std::map<std::string, std::string> macros;
  std::vector<SmtpReply> replies;
  std::vector<std::pair<std::string, std::string>> headers;
  std::vector<std::string> deleted;
  std::string new_sender;
};

}  // namespace bm

#endif  // BM_MILTER_RECORDING_SESSION_H_
