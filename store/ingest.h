// From a parsed and classified report to the events the store records.
#ifndef BM_STORE_INGEST_H_
#define BM_STORE_INGEST_H_

#include <cstdint>
#include <vector>

#include "parser/bounce_report.h"
#include "rules/rule_table.h"
#include "store/store.h"

namespace bm {

// One event per recipient that names an address:
//  - a kFeedback report gives kComplaint events, except feedback types
//    "not-spam" and "auth-failure" (reports about the sender), which give none;
//  - a kDsn gives kBounce events for recipients whose action is not
//    "delivered", "relayed" or "expanded";
//  - a kAutoReply gives kBounce events (reason "vacation": recorded in the
//    log, no state change under the default policy);
//  - kNotBounce gives none.
// time = now; message_id = the original message's Message-ID.
std::vector<BounceEvent> EventsFromReport(const BounceReport& report,
                                          const std::vector<ClassifiedRecipient>& recipients,
                                          std::int64_t now);

}  // namespace bm

#endif  // BM_STORE_INGEST_H_
