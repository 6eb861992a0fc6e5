// The daemon's hooks into libmilter: SIGHUP kept for the daemon, a prompt
// stop on SIGTERM and SIGINT, and the end of the commands in progress.
// libmilter is linked statically so that the calls below can be wrapped
// (-Wl,--wrap=sigwait,--wrap=listen,--wrap=poll,--wrap=mi_engine); facts
// about libmilter are from sendmail 8.17 (Debian 12), libmilter/{signal,
// listener,worker,engine}.c.
//
// SIGHUP: smfi_main() starts a thread that sigwait()s for SIGHUP, SIGTERM and
// SIGINT and stops the milter on any of them. bounce-milter gives SIGHUP its
// conventional meaning, reload: libmilter's call lands in __wrap_sigwait and
// waits for the same set minus SIGHUP. The daemon's own signal thread uses
// sigwaitinfo(), which is not wrapped.
//
// Prompt stop: libmilter's listener thread waits for connections with
// poll(listening socket, 5000 ms) while holding its listener mutex, and
// looks at the stop flag only when poll returns. The signal thread sets the
// flag and then (mi_stop_milters -> mi_closener) waits for that mutex, so a
// stop took up to 5 s. Here, listen() records libmilter's listening socket
// and creates an eventfd; a poll() on that socket alone also waits on the
// eventfd, which __wrap_sigwait makes readable when it hands SIGTERM or
// SIGINT to libmilter. The poll then reports a timeout, the case libmilter's
// loop already handles by re-checking the stop flag: the listener stops
// accepting and releases the mutex, libmilter closes (and, when not root,
// unlinks) the socket, and smfi_main() returns. Every other poll (the
// connections' I/O in libmilter's workers) is passed through untouched.
//
// Commands in progress: smfi_main() returns without waiting for libmilter's
// worker threads, which finish the command in hand (mi_engine(), where every
// callback runs) and then exit. __wrap_mi_engine counts the workers inside
// it, so that DrainMilterCommands() can wait for them before the daemon
// closes the store and frees the filter they use.
#include "milter/libmilter_signals.h"

#include <poll.h>
#include <signal.h>
#include <sys/eventfd.h>
#include <time.h>
#include <unistd.h>

#include <atomic>
#include <cstdint>
#include <thread>

#include <libmilter/mfapi.h>

namespace {

std::atomic<int> g_listen_fd{-1};
// Workers inside mi_engine(), and whether new entries are refused.
std::atomic<int> g_commands_running{0};
std::atomic<bool> g_draining{false};
// Readable once a stop signal was handed to libmilter; never drained.
std::atomic<int> g_stop_fd{-1};

void WakeListener() {
  const int stop_fd = g_stop_fd.load();
  if (stop_fd < 0) return;
  const std::uint64_t one = 1;
  // An eventfd write of 8 bytes cannot be short; EAGAIN means it is already
  // readable, which is all that is needed.
  (void)!write(stop_fd, &one, sizeof one);
}

}  // namespace

extern "C" int __real_sigwait(const sigset_t* set, int* sig);
extern "C" int __real_listen(int fd, int backlog);
extern "C" int __real_poll(struct pollfd* fds, nfds_t nfds, int timeout);
// libmilter's own (engine.c); called by its workers for a session's commands.
extern "C" int __real_mi_engine(void* ctx);

extern "C" int __wrap_sigwait(const sigset_t* set, int* sig) {
  sigset_t without_hup = *set;
  sigdelset(&without_hup, SIGHUP);
  const int rc = __real_sigwait(&without_hup, sig);
  if (rc == 0 && (*sig == SIGTERM || *sig == SIGINT)) WakeListener();
  return rc;
}

// Called by smfi_opensocket() in the main thread, before any thread exists.
extern "C" int __wrap_listen(int fd, int backlog) {
  const int rc = __real_listen(fd, backlog);
  if (rc == 0) {
    if (g_stop_fd.load() < 0) g_stop_fd.store(eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK));
    g_listen_fd.store(fd);
  }
  return rc;
}

extern "C" int __wrap_poll(struct pollfd* fds, nfds_t nfds, int timeout) {
  const int listen_fd = g_listen_fd.load(std::memory_order_relaxed);
  const int stop_fd = g_stop_fd.load(std::memory_order_relaxed);
  if (nfds != 1 || listen_fd < 0 || stop_fd < 0 || fds[0].fd != listen_fd) {
    return __real_poll(fds, nfds, timeout);
  }
  struct pollfd both[2] = {fds[0], {stop_fd, POLLIN, 0}};
  const int n = __real_poll(both, 2, timeout);
  if (n > 0 && both[1].revents != 0) {
    // libmilter sets its stop flag just after __wrap_sigwait returns; until
    // it has, every poll lands here: pause a millisecond instead of spinning.
    const struct timespec pause = {0, 1000 * 1000};
    nanosleep(&pause, nullptr);
    fds[0].revents = 0;
    return 0;
  }
  fds[0].revents = both[0].revents;
  return n < 0 ? n : (both[0].revents != 0 ? 1 : 0);
}

extern "C" int __wrap_mi_engine(void* ctx) {
  g_commands_running.fetch_add(1);
  if (g_draining.load()) {
    // The daemon is stopping and may already have freed what a callback
    // uses: refuse, and libmilter closes the session (the MTA applies its
    // default action).
    g_commands_running.fetch_sub(1);
    return MI_FAILURE;
  }
  const int rc = __real_mi_engine(ctx);
  g_commands_running.fetch_sub(1);
  return rc;
}

namespace bm {

bool DrainMilterCommands(std::chrono::milliseconds timeout) {
  g_draining.store(true);
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (g_commands_running.load() != 0) {
    if (std::chrono::steady_clock::now() >= deadline) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
  }
  return true;
}

}  // namespace bm
