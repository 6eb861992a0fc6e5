#include "milter/config_store.h"

namespace bm {

StoreOptions StoreOptionsFromConfig(const Config& config) {
  StoreOptions options;
  options.path = config.store_path;
  options.policy.soft_threshold = config.soft_bounce_threshold;
  options.policy.soft_window_days = config.soft_bounce_window_days;
  options.policy.temporary_days = config.temporary_suppression_days;
  options.policy.suppress_on_complaint = config.suppress_on_complaint;
  options.policy.sender_blamed_reasons = config.sender_blamed_reasons;
  options.policy.no_change_reasons = config.no_change_reasons;
  options.policy.domain_hostunknown_threshold = config.domain_hostunknown_threshold;
  options.normalization.fold_local_part_case = config.fold_local_part_case;
  options.event_retention_days = config.event_retention_days;
  options.max_diagnostic_bytes = config.max_diagnostic_bytes;
  options.max_readers = kStoreMaxReaders;
  return options;
}

}  // namespace bm
