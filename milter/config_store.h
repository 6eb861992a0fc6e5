// The store's options as the configuration file sets them: one mapping from
// Config to StoreOptions, used by the daemon (milter/store_access.h) and by
// bouncectl's store commands, so both apply the same bounce policy to the
// same store.
//
// Kept apart from milter/config.h so that config.h does not pull in
// store/policy.h (whose bm::Policy is not the daemon's bm::Policy of
// milter/policy.h).
#ifndef BM_MILTER_CONFIG_STORE_H_
#define BM_MILTER_CONFIG_STORE_H_

#include "milter/config.h"
#include "store/store.h"

namespace bm {

// StorePath, the policy keys (SoftBounceThreshold ... NoChangeReasons,
// DomainHostUnknownThreshold), LocalPartCase, EventRetention and
// MaxDiagnosticSize; every other StoreOptions field keeps its default.
// A config at its defaults gives StoreOptions{} (config_store_test).
StoreOptions StoreOptionsFromConfig(const Config& config);

}  // namespace bm

#endif  // BM_MILTER_CONFIG_STORE_H_
