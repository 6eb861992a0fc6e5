// MilterServer: the daemon's listening socket and the threads that serve the
// MTA's milter connections. It frames packets (milter/milter_protocol.h) and
// hands each to the connection's PacketHandler; what the packets mean is the
// handler's business.
//
// Threads: Run() is the acceptor; it only accepts and hands the socket to a
// worker. A worker serves one connection at a time, from negotiation to
// close, with blocking reads through a buffer (one read() takes every packet
// already sent; no poll per packet; their replies go out together, in
// batches of at most about 64 KiB), and then waits for the next accepted
// connection: workers are started on demand and reused, and one left idle
// for idle_worker_lifetime ends (with it its per-thread caches, such as the
// store's domain cache and LMDB reader slot). At most
// max_connections are served at once; beyond that the acceptor stops
// accepting (logged) and new connections wait in the listen backlog.
// timeout_seconds bounds every read and write (SO_RCVTIMEO/SO_SNDTIMEO): an
// MTA silent for that long loses its connection. Over TCP, replies go out
// unbuffered (TCP_NODELAY) and every packet is acknowledged at once
// (TCP_QUICKACK), or the MTA's Nagle algorithm would hold a command back
// behind a packet that gets no reply.
//
// Stop: Stop() (from any thread) stops accepting and closes the listening
// socket (Run() then returns); a worker finishes the packet it is handling,
// sends its replies, and closes its connection instead of handling or
// reading another. Connections waiting for the MTA are woken at once
// (shutdown(SHUT_RD)). Drain() waits for all of that.
//
// A malformed or oversized packet closes only its connection (logged); the
// MTA applies its default action to it.
#ifndef BM_MILTER_MILTER_SERVER_H_
#define BM_MILTER_MILTER_SERVER_H_

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <deque>
#include <functional>
#include <list>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "common/status.h"
#include "milter/milter_protocol.h"

namespace bm {

// The protocol side of one connection. Created by the worker that serves the
// connection and destroyed there when it closes, on every path.
class PacketHandler {
 public:
  virtual ~PacketHandler() = default;
  // Handles one packet and appends the replies to *replies (none for a
  // command the MTA expects no reply to). False: close the connection (after
  // sending *replies).
  virtual bool Handle(const milter::Packet& packet, std::string* replies) = 0;
};

using PacketHandlerFactory = std::function<std::unique_ptr<PacketHandler>()>;

struct MilterServerOptions {
  std::string
      socket;  // Socket syntax: unix:/PATH, local:/PATH, inet:PORT[@HOST], inet6:PORT[@HOST]
  int backlog = 128;
  int timeout_seconds = 300;
  std::size_t max_connections = 512;
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
  // (host name), kIOError (socket, bind, listen).
  static Result<std::unique_ptr<MilterServer>> Listen(const MilterServerOptions& options,
                                                      PacketHandlerFactory factory);

  MilterServer(const MilterServer&) = delete;
  MilterServer& operator=(const MilterServer&) = delete;
  // Stops and joins every worker: waits for connections still served.
  ~MilterServer();

  // Accepts connections until Stop(), then closes the listening socket and
  // returns (at once when Stop() came first). Call once. Errors: kIOError
  // when waiting for connections failed; the server is then stopped too.
  Status Run();

  // Thread-safe; idempotent. Not async-signal-safe: call it from a thread
  // that waits for signals, not from a handler.
  void Stop();

  // Waits until every connection is closed and its handler destroyed, at
  // most `timeout`; after Stop(), until the server has stopped serving. True
  // when none is left.
  bool Drain(std::chrono::milliseconds timeout);

  // For a Drain() that timed out: shuts every connection down both ways, so
  // that a worker blocked sending a reply the MTA does not read returns (the
  // reply is lost; the MTA applies its default action). A worker inside a
  // callback still finishes it. Thread-safe.
  void CloseConnections();

  // Worker threads started and not ended (for tests and logs).
  std::size_t WorkerCount();

 private:
  MilterServer(int listen_fd, int wake_fd, bool tcp, const MilterServerOptions& options,
               PacketHandlerFactory factory);

  // Queues an accepted connection for a worker, starting one when none is idle.
  void Dispatch(int fd);
  // REQUIRES: mu_ held.
  void StartWorker();
  void WorkerLoop(std::list<std::thread>::iterator self);
  void Serve(int fd);
  void Close(int fd);

  int listen_fd_;      // -1 once Run() has closed it
  const int wake_fd_;  // eventfd, readable after Stop()
  const bool tcp_;     // inet or inet6, not unix
  const MilterServerOptions options_;
  const PacketHandlerFactory factory_;

  std::mutex mu_;
  std::condition_variable work_cv_;    // workers: a queued connection or the stop
  std::condition_variable slots_cv_;   // acceptor and Drain(): a connection closed
  std::atomic<bool> stopping_{false};  // set under mu_; read anywhere
  std::deque<int> queue_;              // accepted, not yet taken by a worker
  std::set<int> serving_;              // taken by a worker, not yet closed
  std::size_t connections_ = 0;        // queued + serving
  std::size_t idle_workers_ = 0;
  std::list<std::thread> workers_;
  std::list<std::thread> ended_;  // left WorkerLoop(); joined by the acceptor
};

}  // namespace bm

#endif  // BM_MILTER_MILTER_SERVER_H_
