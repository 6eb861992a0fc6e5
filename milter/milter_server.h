// MilterServer: the daemon's listening socket and the event loop that serves
// the MTA's milter connections. It frames packets (milter/milter_protocol.h)
// and hands each to the connection's PacketHandler; what the packets mean is
// the handler's business.
//
// Threads: Run() is the event loop, one thread for every connection. It
// accepts, reads (one read() takes every packet already sent; no poll per
// packet), handles the packets of the bytes read and sends their replies
// together, in batches of at most about 64 KiB, for as many ready
// connections as one epoll wake-up reports. A packet whose handler says it
// may block (PacketHandler::MayBlock) is handled on a worker thread instead,
// so that a slow step of one connection does not hold the others back:
// while a worker has the connection, the loop does not touch it (no reads,
// no timeouts); afterwards it returns to the loop with the replies.
// Workers are started on demand and reused, and one left idle for
// idle_worker_lifetime ends. Per-thread caches (the store's domain cache and
// LMDB reader slot) live in the loop thread and in the workers. Logging is
// synchronous (milter/logging.cc: spdlog's *_mt sinks, no async logger): a
// line logged in the loop is written before the loop goes on, so a log
// target that stalls (syslog or journald not reading its socket, a stderr
// pipe nobody reads, a hung disk) stalls every connection, not only the one
// that logged.
//
// Limits: at most max_connections are open at once (in the loop or with a
// worker); beyond that the loop stops accepting (logged once a minute) and
// new connections wait in the listen backlog. A failed accept (out of
// descriptors) is retried every 100 ms, logged once a minute. Output is
// bounded per connection: replies go out before more packets are handled,
// and a connection whose MTA does not take them is not read until they are
// sent. timeout_seconds bounds every wait for the MTA: its next packet, the
// rest of a packet begun, and taking a reply that does not fit the socket
// buffer (measured from the last progress); an MTA silent for that long
// loses its connection. Over TCP, replies go out unbuffered (TCP_NODELAY)
// and every read is acknowledged at once (TCP_QUICKACK), or the MTA's
// Nagle algorithm would hold a command back behind a packet that gets no
// reply.
//
// Stop: Stop() (from any thread) makes the loop stop accepting, close the
// listening socket and the connections waiting for the MTA, and return; no
// connection begins after Stop() (one the loop accepts meanwhile, in the
// batch of events it is handling, is closed at once, without a handler). A
// connection whose packet is being handled (by a worker) finishes it, sends
// its replies and closes instead of handling the next one; so does one
// whose replies are still being sent (a worker finishes sending them).
// Drain() waits for all of that.
//
// A malformed or oversized packet closes only its connection (logged); the
// MTA applies its default action to it. So does an exception from a
// handler. Whatever closes a connection, its handler is destroyed.
#ifndef BM_MILTER_MILTER_SERVER_H_
#define BM_MILTER_MILTER_SERVER_H_

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <list>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <thread>
#include <unordered_map>

#include "common/status.h"
#include "milter/milter_protocol.h"

namespace bm {

// The protocol side of one connection. Created by the loop when it accepts
// the connection and destroyed when it closes, on every path, in the loop
// or (at a stop) in a worker. One thread at a time calls it.
class PacketHandler {
 public:
  virtual ~PacketHandler() = default;
  // Handles one packet and appends the replies to *replies (none for a
  // command the MTA expects no reply to). False: close the connection (after
  // sending *replies).
  virtual bool Handle(const milter::Packet& packet, std::string* replies) = 0;
  // Whether Handle(packet) may wait (for a disk write, a lock held across
  // I/O, another process) or compute for long: the packet is then handled on
  // a worker thread, not in the event loop, where it would delay every other
  // connection. Asked in the loop just before Handle(packet). The
  // destructor must never block.
  virtual bool MayBlock(const milter::Packet& packet) const {
    (void)packet;
    return false;
  }
};

using PacketHandlerFactory = std::function<std::unique_ptr<PacketHandler>()>;

struct MilterServerOptions {
  std::string
      socket;  // Socket syntax: unix:/PATH, local:/PATH, inet:PORT[@HOST], inet6:PORT[@HOST]
  int backlog = 128;
  int timeout_seconds = 300;
  std::size_t max_connections = 512;
  // A worker thread without a packet to handle for this long ends.
  std::chrono::milliseconds idle_worker_lifetime = std::chrono::seconds(60);
  // The MTA's negotiation must arrive within this of the connection (capped
  // by timeout_seconds); a packet begun, within timeout_seconds of its first
  // byte. Between packets a connection may wait timeout_seconds.
  std::chrono::milliseconds negotiation_timeout = std::chrono::seconds(10);
};

class MilterServer {
 public:
  // Creates and binds the listening socket (a stale unix socket file is
  // removed first; a file that is not a socket is an error). Call before
  // dropping privileges. Errors: kInvalidArgument (socket spec), kNotFound
  // (host name), kIOError (socket, bind, listen, epoll).
  static Result<std::unique_ptr<MilterServer>> Listen(const MilterServerOptions& options,
                                                      PacketHandlerFactory factory);

  MilterServer(const MilterServer&) = delete;
  MilterServer& operator=(const MilterServer&) = delete;
  // Stops and joins every worker: waits for the connections they still
  // serve. REQUIRES: Run() is not running.
  ~MilterServer();

  // Serves connections until Stop(), then closes the listening socket and
  // the connections no worker needs, and returns (at once when Stop() came
  // first). Call once. Errors: kIOError when waiting for events failed; the
  // server is then stopped too.
  Status Run();

  // Thread-safe; idempotent. Not async-signal-safe: call it from a thread
  // that waits for signals, not from a handler.
  void Stop();

  // Waits until every connection is closed and its handler destroyed, at
  // most `timeout`. True when none is left; after Stop(), when true, the
  // server has stopped serving: no connection begins any more, so no
  // handler is created or called again.
  bool Drain(std::chrono::milliseconds timeout);

  // For a Drain() that timed out: shuts every connection down both ways, so
  // that a worker blocked sending a reply the MTA does not read returns (the
  // reply is lost; the MTA applies its default action). A worker inside a
  // handler still finishes it. Thread-safe.
  void CloseConnections();

  // Worker threads started and not ended (for tests and logs): those
  // handling a packet that may block, or sending the last replies after a
  // stop, and the idle ones waiting for the next.
  std::size_t WorkerCount();

 private:
  struct Connection;  // milter_server.cc
  using Clock = std::chrono::steady_clock;

  MilterServer(int listen_fd, int wake_fd, int epoll_fd, bool tcp,
               const MilterServerOptions& options, PacketHandlerFactory factory);

  // The loop (the thread in Run()).
  void AcceptAll();
  void AcceptOne(int fd);
  // Takes a slot in open_ for an accepted descriptor; false (and none
  // taken) after Stop(). Throws std::bad_alloc.
  bool Reserve(int fd);
  // Closes a descriptor Reserve() took a slot for, and frees the slot.
  // Thread-safe (a worker destroys a connection after a stop).
  void Release(int fd);
  // Registers the listener with epoll when the loop should accept, and not
  // otherwise; logs reaching max_connections.
  void UpdateListening();
  void OnEvent(int fd);
  // Handles the buffered packets, sends the replies, and decides what the
  // connection waits for next; closes it or hands it to a worker.
  void Advance(Connection& c);
  // Sets the epoll events watched (0: none; throws std::system_error).
  void Watch(Connection& c, std::uint32_t events);
  // `progress`: some replies went out (the send deadline starts again).
  void SetDeadline(Connection& c, bool progress);
  void ExpireDeadlines();
  void AdoptReturned();
  void CloseInLoop(Connection& c);
  // Hands the connection to a worker: to handle c.blocked, or after Stop()
  // to send what it has not sent and close it.
  void ToWorker(Connection& c);
  void StopServing();
  // Milliseconds until the next deadline (epoll_wait's timeout), -1: none.
  int NextTimeout() const;

  // Workers.
  // REQUIRES: mu_ held. False when no thread could be started.
  bool StartWorker();
  void WorkerLoop(std::list<std::thread>::iterator self);
  // Sends what the connection has not sent, waiting for the MTA, and
  // closes it.
  void FinishAfterStop(std::unique_ptr<Connection> c);
  void WakeLoop();

  int listen_fd_;      // -1 once Run() has closed it
  const int wake_fd_;  // eventfd: Stop(), or a connection back from a worker
  const int epoll_fd_;
  const bool tcp_;  // inet or inet6, not unix
  const MilterServerOptions options_;
  const PacketHandlerFactory factory_;

  // Declared before anything that holds a Connection: its destructor uses them.
  std::mutex mu_;
  std::condition_variable work_cv_;     // workers: a job or the stop
  std::condition_variable drained_cv_;  // Drain(): the last connection closed
  std::atomic<bool> stopping_{false};   // set under mu_; read anywhere
  std::set<int> open_;                  // descriptors of every open connection
  // Lists, so that a worker moves a connection from one to the other by
  // splicing its node, which cannot fail.
  std::list<std::unique_ptr<Connection>> jobs_;      // for the workers
  std::list<std::unique_ptr<Connection>> returned_;  // from the workers, for the loop
  std::size_t idle_workers_ = 0;
  // Workers in WorkerLoop() that have not decided to end: each takes queued
  // jobs until none is left. Not workers_.size(): after Stop(), workers_
  // also holds the threads that have ended.
  std::size_t live_workers_ = 0;
  std::list<std::thread> workers_;
  std::list<std::thread> ended_;  // left WorkerLoop() before a stop; joined by the loop

  // Owned by the loop thread.
  std::unordered_map<int, std::unique_ptr<Connection>> connections_;  // by descriptor
  std::multimap<Clock::time_point, Connection*> deadlines_;
  bool listening_ = false;  // listen_fd_ is registered with epoll
  std::optional<Clock::time_point> accept_retry_;  // after an accept error
  std::optional<Clock::time_point> last_limit_warning_;
  std::optional<Clock::time_point> last_accept_error_;
};

}  // namespace bm

#endif  // BM_MILTER_MILTER_SERVER_H_
