// The daemon's hooks into the statically linked libmilter
// (libmilter_signals.cc explains them): SIGHUP is left to the daemon,
// SIGTERM and SIGINT stop libmilter at once, and the libmilter commands in
// progress can be waited for.
#ifndef BM_MILTER_LIBMILTER_SIGNALS_H_
#define BM_MILTER_LIBMILTER_SIGNALS_H_

#include <chrono>

namespace bm {

// For the stop, after smfi_main() has returned: from now on libmilter's
// workers start no new command (a session that would is closed, and the MTA
// applies its default action), and this waits until the commands already
// running (their callbacks included) have returned, at most `timeout`.
// True when none is left. Call once, from one thread.
bool DrainMilterCommands(std::chrono::milliseconds timeout);

}  // namespace bm

#endif  // BM_MILTER_LIBMILTER_SIGNALS_H_
