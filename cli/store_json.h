// JSON forms of store entries that more than one store command prints, so
// that `list --domains --json` and `show --json` describe a domain entry
// with the same object, and the one way the store commands print a JSON
// object on a line of its own.
#ifndef BM_CLI_STORE_JSON_H_
#define BM_CLI_STORE_JSON_H_

#include <string>

#include <nlohmann/json.hpp>

#include "store/records.h"

namespace bm::cli {

// {"domain", "suppressed", "reason", "source" ("" when not suppressed),
//  "since", "sent", "sender_blamed", "hostunknown_addresses",
//  "sender_blamed_by_reason": {REASON: N, ...}}
nlohmann::ordered_json DomainToJson(const DomainRecord& d);

// j on one line with its newline. Text that is not UTF-8 (an address or a
// file's row as given) is printed with U+FFFD instead of failing.
std::string JsonLine(const nlohmann::ordered_json& j);

}  // namespace bm::cli

#endif  // BM_CLI_STORE_JSON_H_
