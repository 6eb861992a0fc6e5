// JSON forms of store entries that more than one store command prints, so
// that `list --domains --json` and `show --json` describe a domain entry
// with the same object.
#ifndef BM_CLI_STORE_JSON_H_
#define BM_CLI_STORE_JSON_H_

#include <nlohmann/json.hpp>

#include "store/records.h"

namespace bm::cli {

// {"domain", "suppressed", "reason", "source" ("" when not suppressed),
//  "since", "sent", "sender_blamed", "hostunknown_addresses",
//  "sender_blamed_by_reason": {REASON: N, ...}}
nlohmann::ordered_json DomainToJson(const DomainRecord& d);

}  // namespace bm::cli

#endif  // BM_CLI_STORE_JSON_H_
