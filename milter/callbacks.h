// The libmilter side of the daemon: one smfiDesc table whose callbacks are
// trampolines into a Filter. Each trampoline catches every exception and
// answers with On-InternalError, so nothing ever unwinds into libmilter; the
// connection context set with smfi_setpriv is freed in the close callback on
// every path.
#ifndef BM_MILTER_CALLBACKS_H_
#define BM_MILTER_CALLBACKS_H_

#include "common/status.h"
#include "milter/filter.h"

namespace bm {

// smfi_register()s the callbacks for `filter`. libmilter allows one filter per
// process, so this may be called once.
// REQUIRES: filter outlives smfi_main().
Status RegisterMilterCallbacks(Filter& filter);

}  // namespace bm

#endif  // BM_MILTER_CALLBACKS_H_
