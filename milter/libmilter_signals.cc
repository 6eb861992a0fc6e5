// Keeps SIGHUP away from libmilter.
//
// smfi_main() starts a thread that sigwait()s for SIGHUP, SIGTERM and SIGINT
// and stops the milter on any of them. bounce-milter gives SIGHUP its
// conventional meaning, reload, so the executable is linked with
// -Wl,--wrap=sigwait (libmilter is linked statically for this): libmilter's
// call lands here and waits for the same set minus SIGHUP. The daemon's own
// signal thread uses sigwaitinfo(), which is not wrapped.
#include <signal.h>

extern "C" int __real_sigwait(const sigset_t* set, int* sig);

extern "C" int __wrap_sigwait(const sigset_t* set, int* sig) {
  sigset_t without_hup = *set;
  sigdelset(&without_hup, SIGHUP);
  return __real_sigwait(&without_hup, sig);
}
