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

// LMDB reader slots that every process asks its store for
// (StoreOptions::max_readers), the daemon and bouncectl alike. A thread holds
// a slot from its first read until it ends. The daemon's worker threads stay
// within twice MaxConnections: those handling a step of a connection that
// may wait, and as many left idle for up to a minute when steps ended while
// new ones began. The reserve (LMDB's default table) is for bouncectl
// processes and the daemon's other threads (its event loop among them). Sized for the highest MaxConnections, not the
// configured one: LMDB sizes the table when the first process opens the store
// while no other has it open, and every later one uses that size whatever it
// asks (the table grows, never shrinks), so a bouncectl run with another
// configuration must not leave a table too small for the daemon.
inline constexpr unsigned kStoreReaderReserve = 126;
inline constexpr unsigned kStoreMaxReaders =
    2 * static_cast<unsigned>(kMaxConnectionsLimit) + kStoreReaderReserve;

// StorePath, the policy keys (SoftBounceThreshold ... NoChangeReasons,
// DomainHostUnknownThreshold), LocalPartCase, EventRetention and
// MaxDiagnosticSize, and max_readers = kStoreMaxReaders; every other
// StoreOptions field keeps its default. A config at its defaults gives
// StoreOptions{} but for max_readers (config_store_test).
StoreOptions StoreOptionsFromConfig(const Config& config);

}  // namespace bm

#endif  // BM_MILTER_CONFIG_STORE_H_
