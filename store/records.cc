#include "store/records.h"

#include <array>

namespace bm {
namespace {

constexpr std::array<std::string_view, 4> kStateNames = {"active", "suppressed",
                                                         "suppressed-temporary", "unblocked"};
constexpr std::array<std::string_view, 4> kSourceNames = {"bounce", "complaint", "manual",
                                                          "import"};
constexpr std::array<std::string_view, 8> kEventNames = {
    "bounce", "complaint", "unblock", "suppress", "import", "expiry", "domain-suppress",
    "domain-unblock"};

}  // namespace

std::string_view AddressStateName(AddressState s) {
  return kStateNames[static_cast<std::size_t>(s)];
}

std::optional<AddressState> ParseAddressState(std::string_view name) {
  for (std::size_t i = 0; i < kStateNames.size(); ++i) {
    if (kStateNames[i] == name) return static_cast<AddressState>(i);
  }
  return std::nullopt;
}

std::string_view RecordSourceName(RecordSource s) {
  return kSourceNames[static_cast<std::size_t>(s)];
}

std::optional<RecordSource> ParseRecordSource(std::string_view name) {
  for (std::size_t i = 0; i < kSourceNames.size(); ++i) {
    if (kSourceNames[i] == name) return static_cast<RecordSource>(i);
  }
  return std::nullopt;
}

std::string_view EventTypeName(EventType t) { return kEventNames[static_cast<std::size_t>(t)]; }

}  // namespace bm
