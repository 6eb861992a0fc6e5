#include "cli/store_json.h"

#include "store/crm_format.h"

namespace bm::cli {

nlohmann::ordered_json DomainToJson(const DomainRecord& d) {
  nlohmann::ordered_json by_reason = nlohmann::ordered_json::object();
  for (const auto& [reason, n] : d.sender_blamed_by_reason) by_reason[reason] = n;
  return {{"domain", d.domain},
          {"suppressed", d.suppressed},
          {"reason", d.reason},
          {"source", d.suppressed ? RecordSourceName(d.source) : ""},
          {"since", FormatTime(d.since)},
          {"sent", d.sent},
          {"sender_blamed", d.sender_blamed},
          {"hostunknown_addresses", d.hostunknown_addresses},
          {"sender_blamed_by_reason", std::move(by_reason)}};
}

std::string JsonLine(const nlohmann::ordered_json& j) {
  return j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) + '\n';
}

}  // namespace bm::cli
