#include "milter/milter_server.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <spdlog/spdlog.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <climits>
#include <cstring>
#include <exception>
#include <string_view>
#include <system_error>
#include <utility>

#include "milter/config_values.h"

namespace bm {
namespace {

constexpr std::size_t kReadSize = 64 * 1024;
// Replies are sent once they reach this size even when more packets are
// waiting: a peer that pipelines many small commands whose replies are
// larger (a refused recipient's reply text) must not grow them without
// bound.
constexpr std::size_t kMaxQueuedReplies = 64 * 1024;
constexpr auto kLimitWarningInterval = std::chrono::minutes(1);
constexpr auto kAcceptRetryDelay = std::chrono::milliseconds(100);
constexpr int kMaxEvents = 64;  // per epoll_wait

Status Errno(const std::string& what) {
  return Status::IOError(what + ": " + std::strerror(errno));
}

// Closes a descriptor on every path until released.
class FdCloser {
 public:
  explicit FdCloser(int fd) : fd_(fd) {}
  ~FdCloser() {
    if (fd_ >= 0) close(fd_);
  }
  int release() { return std::exchange(fd_, -1); }

 private:
  int fd_;
};

using config_text::SocketSpec;

Result<int> Bind(const SocketSpec& address, int backlog) {
  sockaddr_storage storage{};
  socklen_t size = 0;
  int family = AF_UNIX;
  if (address.kind == SocketSpec::Kind::kUnix) {
    sockaddr_un un{};
    un.sun_family = AF_UNIX;
    if (address.path.size() >= sizeof un.sun_path) {
      return Status::InvalidArgument("socket path too long: " + address.path);
    }
    address.path.copy(un.sun_path, sizeof un.sun_path - 1);
    std::memcpy(&storage, &un, sizeof un);
    size = sizeof un;
    // A socket left by a previous run (killed, or stopped as root) would make
    // bind fail; one that still answers is another daemon's (a second
    // instance started by mistake must not take its path over), and
    // anything else at that path is not ours to remove.
    struct stat st;
    if (lstat(address.path.c_str(), &st) == 0 && S_ISSOCK(st.st_mode)) {
      const int probe = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
      if (probe < 0) return Errno("socket");
      const bool live = connect(probe, reinterpret_cast<const sockaddr*>(&un), sizeof un) == 0;
      close(probe);
      if (live) return Status::IOError("another process is listening on " + address.path);
      if (unlink(address.path.c_str()) != 0) return Errno("unlink stale socket " + address.path);
    }
  } else {
    family = address.kind == SocketSpec::Kind::kInet ? AF_INET : AF_INET6;
    addrinfo hints{};
    hints.ai_family = family;
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_flags = AI_PASSIVE;
    addrinfo* found = nullptr;
    const std::string port = std::to_string(address.port);
    const int rc = getaddrinfo(address.host.empty() ? nullptr : address.host.c_str(), port.c_str(),
                               &hints, &found);
    if (rc != 0 || found == nullptr) {
      return Status::NotFound("cannot resolve " + address.host + ": " + gai_strerror(rc));
    }
    std::memcpy(&storage, found->ai_addr, found->ai_addrlen);
    size = found->ai_addrlen;
    freeaddrinfo(found);
  }
  // Non-blocking: a connection that goes away between epoll_wait() and
  // accept4() must not leave the loop blocked.
  const int fd = socket(family, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
  if (fd < 0) return Errno("socket");
  FdCloser closer(fd);
  const int one = 1;
  if (family != AF_UNIX) setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  if (bind(fd, reinterpret_cast<const sockaddr*>(&storage), size) != 0) return Errno("bind");
  if (listen(fd, backlog) != 0) return Errno("listen");
  return closer.release();
}

}  // namespace


// One MTA connection: its socket, its handler, the bytes read and not yet
// handled, the replies not yet sent and what it waits for. Owned by the
// loop, or by a worker while one has it; destroying it destroys the handler,
// closes the socket and frees the slot Reserve() took for it.
struct MilterServer::Connection {
  // What the connection waits for; its deadline says until when.
  enum class Wait { kNegotiation, kPacket, kIdle, kSend };

  // REQUIRES: server.Reserve(fd) returned true.
  Connection(MilterServer& server, int fd, std::unique_ptr<PacketHandler> handler,
             Clock::time_point negotiation_deadline)
      : server(server),
        fd(fd),
        handler(std::move(handler)),
        negotiation_deadline(negotiation_deadline) {}
  ~Connection() {
    handler.reset();  // before the slot is free: Drain() waits for it
    server.Release(fd);
  }
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;

  std::string_view Unhandled() const { return {in.get() + begin, end - begin}; }
  bool Sending() const { return sent < out.size(); }

  // Hands the packet of `size` bytes at the front of the unhandled ones to
  // the handler. False: the handler threw (logged); close at once.
  bool Handle(const milter::Packet& packet, std::size_t size) {
    bool keep = false;
    try {
      keep = handler->Handle(packet, &out);
    } catch (const std::exception& e) {
      spdlog::error("milter connection: {}", e.what());
      return false;
    } catch (...) {
      spdlog::error("milter connection: unknown exception");
      return false;
    }
    begin += size;
    negotiated = true;
    wait = Wait::kIdle;  // the next packet has a deadline of its own
    if (!keep) closing = true;
    return true;
  }

  // Sends what the socket takes of the replies; *progress is set when some
  // went out. False: the MTA is gone (logged).
  bool Send(bool* progress) {
    while (Sending()) {
      const ssize_t n = send(fd, out.data() + sent, out.size() - sent, MSG_NOSIGNAL);
      if (n > 0) {
        sent += static_cast<std::size_t>(n);
        *progress = true;
      } else if (n < 0 && errno == EINTR) {
        continue;
      } else if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
        return true;
      } else {
        spdlog::info("milter connection: MTA did not take a reply: {}",
                     n < 0 ? std::strerror(errno) : "connection closed");
        return false;
      }
    }
    sent = 0;
    out.clear();
    // A handler may answer with far more than a batch (it is bounded only
    // by what it appends): do not keep that much per idle connection.
    if (out.capacity() > 2 * kMaxQueuedReplies) std::string().swap(out);
    return true;
  }

  // Reads what the MTA has sent. False: it closed, or the read failed
  // (logged).
  bool Read(bool tcp) {
    // Keep the unhandled bytes at the front; a full buffer holds part of a
    // packet larger than it (at most kMaxPacketSize, checked): grow it.
    if (begin == end) {
      begin = end = 0;
    } else if (begin > 0) {
      std::memmove(in.get(), in.get() + begin, end - begin);
      end -= begin;
      begin = 0;
    }
    if (end == capacity) {
      capacity = std::min<std::size_t>(2 * capacity, milter::kMaxPacketSize + 4);
      std::unique_ptr<char[]> larger = std::make_unique_for_overwrite<char[]>(capacity);
      std::memcpy(larger.get(), in.get(), end);
      in = std::move(larger);
    }
    const ssize_t n = read(fd, in.get() + end, capacity - end);
    if (n > 0) {
      // The MTA writes a command that gets no reply (macros, a header) and
      // then the next one, which its Nagle algorithm holds back until the
      // first is acknowledged: acknowledge at once rather than after the
      // delayed-ACK timeout. Linux leaves quick-ack mode on its own, hence
      // after each read.
      const int one = 1;
      if (tcp) setsockopt(fd, IPPROTO_TCP, TCP_QUICKACK, &one, sizeof one);
      end += static_cast<std::size_t>(n);
      return true;
    }
    if (n < 0 && (errno == EINTR || errno == EAGAIN || errno == EWOULDBLOCK)) return true;
    if (n < 0) spdlog::info("closing milter connection: {}", std::strerror(errno));
    return false;  // end of file: the MTA closed
  }

  MilterServer& server;
  const int fd;
  std::unique_ptr<PacketHandler> handler;
  // Not zeroed: only bytes read are looked at. Unhandled: in[begin, end).
  std::size_t capacity = kReadSize;
  std::unique_ptr<char[]> in = std::make_unique_for_overwrite<char[]>(kReadSize);
  std::size_t begin = 0, end = 0;
  std::string out;        // replies; out[sent, size) not sent yet
  std::size_t sent = 0;
  bool negotiated = false;  // a first packet was handled
  bool closing = false;     // the handler or a bad packet ended it: close once out is sent
  bool broken = false;      // a handler threw in a worker: close without sending
  // For a worker: the next packet (a view into `in`), whose handler may block.
  std::optional<milter::Packet> blocked;
  std::size_t blocked_size = 0;
  const Clock::time_point negotiation_deadline;
  Wait wait = Wait::kNegotiation;
  Clock::time_point deadline;
  std::optional<std::multimap<Clock::time_point, Connection*>::iterator> deadline_entry;
  std::uint32_t events = 0;  // registered with epoll; 0: not registered
};

Result<std::unique_ptr<MilterServer>> MilterServer::Listen(const MilterServerOptions& options,
                                                           PacketHandlerFactory factory) {
  Result<SocketSpec> address = config_text::ParseSocketSpec(options.socket);
  if (!address.ok()) return address.status();
  Result<int> fd = Bind(*address, options.backlog);
  if (!fd.ok()) {
    if (fd.status().code() != Status::Code::kIOError) return fd.status();
    return Status::IOError(options.socket + ": " + fd.status().message());
  }
  FdCloser listen_closer(*fd);
  const int wake_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
  if (wake_fd < 0) return Errno("eventfd");
  FdCloser wake_closer(wake_fd);
  const int epoll_fd = epoll_create1(EPOLL_CLOEXEC);
  if (epoll_fd < 0) return Errno("epoll_create1");
  FdCloser epoll_closer(epoll_fd);
  epoll_event wake{};
  wake.events = EPOLLIN;
  wake.data.fd = wake_fd;
  if (epoll_ctl(epoll_fd, EPOLL_CTL_ADD, wake_fd, &wake) != 0) return Errno("epoll_ctl");
  return std::unique_ptr<MilterServer>(
      new MilterServer(listen_closer.release(), wake_closer.release(), epoll_closer.release(),
                       address->kind != SocketSpec::Kind::kUnix, options, std::move(factory)));
}

MilterServer::MilterServer(int listen_fd, int wake_fd, int epoll_fd, bool tcp,
                           const MilterServerOptions& options, PacketHandlerFactory factory)
    : listen_fd_(listen_fd),
      wake_fd_(wake_fd),
      epoll_fd_(epoll_fd),
      tcp_(tcp),
      options_(options),
      factory_(std::move(factory)) {}

MilterServer::~MilterServer() {
  Stop();
  // Workers finish their connections (stopping_ is set) and end.
  for (std::thread& t : workers_) t.join();
  for (std::thread& t : ended_) t.join();
  // Run() closes the listener; it may never have run.
  if (listen_fd_ >= 0) close(listen_fd_);
  close(epoll_fd_);
  close(wake_fd_);
}

void MilterServer::Stop() {
  {
    std::lock_guard lock(mu_);
    if (stopping_) return;
    stopping_ = true;
  }
  work_cv_.notify_all();
  WakeLoop();
}

void MilterServer::WakeLoop() {
  const std::uint64_t one = 1;
  // An eventfd write of 8 bytes is not short; EAGAIN: already readable.
  (void)!write(wake_fd_, &one, sizeof one);
}

Status MilterServer::Run() {
  Status status = Status::Ok();
  UpdateListening();
  epoll_event events[kMaxEvents];
  while (!stopping_) {
    const int n = epoll_wait(epoll_fd_, events, kMaxEvents, NextTimeout());
    if (n < 0) {
      if (errno == EINTR) continue;
      status = Errno("milter socket: epoll_wait");
      break;
    }
    for (int i = 0; i < n; ++i) {
      const int fd = events[i].data.fd;
      if (fd == wake_fd_) {
        std::uint64_t count;
        (void)!read(wake_fd_, &count, sizeof count);
        AdoptReturned();
      } else if (fd == listen_fd_) {
        AcceptAll();
      } else {
        OnEvent(fd);
      }
    }
    ExpireDeadlines();
  }
  Stop();  // after a failure, the connections stop as well
  StopServing();
  return status;
}

void MilterServer::StopServing() {
  // New connections are refused from now on (the unix socket file stays
  // until the daemon removes it at exit).
  UpdateListening();
  close(listen_fd_);
  listen_fd_ = -1;
  AdoptReturned();  // stopping_: taken in, not served
  // Connections waiting for the MTA close now; replies still to send go out
  // from a worker, which the loop cannot wait for.
  while (!connections_.empty()) {
    Connection& c = *connections_.begin()->second;
    if (c.Sending()) {
      ToWorker(c);
    } else {
      CloseInLoop(c);
    }
  }
}

void MilterServer::UpdateListening() {
  bool full;
  {
    std::lock_guard lock(mu_);
    full = open_.size() >= options_.max_connections;
  }
  const bool wanted = !stopping_ && !full && !accept_retry_;
  if (wanted == listening_) return;
  if (full && !stopping_) {
    const Clock::time_point now = Clock::now();
    if (!last_limit_warning_ || now - *last_limit_warning_ >= kLimitWarningInterval) {
      spdlog::warn("MaxConnections ({}) MTA connections open: new ones wait in the listen backlog",
                   options_.max_connections);
      last_limit_warning_ = now;
    }
  }
  epoll_event ev{};
  ev.events = EPOLLIN;
  ev.data.fd = listen_fd_;
  if (epoll_ctl(epoll_fd_, wanted ? EPOLL_CTL_ADD : EPOLL_CTL_DEL, listen_fd_, &ev) == 0) {
    listening_ = wanted;
  } else {
    // Without memory for the registration: retried as a failed accept.
    spdlog::error("milter socket: epoll_ctl: {}", std::strerror(errno));
    if (wanted) accept_retry_ = Clock::now() + kAcceptRetryDelay;
  }
}

void MilterServer::AcceptAll() {
  while (listening_) {
    const int fd = accept4(listen_fd_, nullptr, nullptr, SOCK_CLOEXEC | SOCK_NONBLOCK);
    if (fd >= 0) {
      AcceptOne(fd);
      UpdateListening();
      continue;
    }
    if (errno == EINTR || errno == ECONNABORTED) continue;
    if (errno == EAGAIN || errno == EWOULDBLOCK) return;
    // Out of descriptors or memory: the connection stays in the backlog;
    // retry in a moment rather than spin, and say so once a minute.
    const Clock::time_point now = Clock::now();
    if (!last_accept_error_ || now - *last_accept_error_ >= kLimitWarningInterval) {
      spdlog::error("milter socket: accept: {} (retrying every 100 ms)", std::strerror(errno));
      last_accept_error_ = now;
    }
    accept_retry_ = now + kAcceptRetryDelay;
    UpdateListening();
  }
}

void MilterServer::AcceptOne(int fd) {
  const int accepted = fd;
  try {
    if (!Reserve(fd)) {
      close(fd);  // stopping: the MTA applies its default action
      return;
    }
    // Over TCP: replies are small and the MTA waits for each, so no Nagle
    // delay on our side.
    const int one = 1;
    if (tcp_) setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    // The MTA negotiates as soon as it connects (Postfix and Sendmail do):
    // a client that says nothing, or trickles bytes, must not keep one of
    // the MaxConnections slots for long.
    const Clock::time_point negotiation_deadline =
        Clock::now() + std::min<Clock::duration>(options_.negotiation_timeout,
                                                 std::chrono::seconds(options_.timeout_seconds));
    auto c = std::make_unique<Connection>(*this, fd, factory_(), negotiation_deadline);
    fd = -1;  // closed with c from here on
    Connection& ref = *c;
    connections_.emplace(accepted, std::move(c));
    Watch(ref, EPOLLIN);
    SetDeadline(ref, false);
  } catch (const std::exception& e) {
    // Out of memory, or no handler: this connection is closed (the MTA
    // applies its default action), the daemon goes on.
    spdlog::error("milter connection: cannot serve it: {}", e.what());
    if (fd >= 0) {
      Release(fd);
    } else if (auto it = connections_.find(accepted); it != connections_.end()) {
      CloseInLoop(*it->second);
    }
  }
}

bool MilterServer::Reserve(int fd) {
  std::lock_guard lock(mu_);
  // Checked under mu_, where Stop() sets it: once Drain() has seen no
  // connection left after a stop, none begins.
  if (stopping_) return false;
  open_.insert(fd);
  return true;
}

void MilterServer::Release(int fd) {
  std::lock_guard lock(mu_);
  // Closed under the lock: CloseConnections() must not shut down a reused
  // descriptor.
  close(fd);
  open_.erase(fd);
  if (open_.empty()) drained_cv_.notify_all();
}

void MilterServer::OnEvent(int fd) {
  auto it = connections_.find(fd);
  // Closed, or handed to a worker, earlier in this batch of events.
  if (it == connections_.end()) return;
  Connection& c = *it->second;
  try {
    if (c.events == EPOLLIN && !c.Read(tcp_)) {
      CloseInLoop(c);
      return;
    }
    Advance(c);
  } catch (const std::exception& e) {
    // Out of memory for a larger buffer, epoll out of memory: this
    // connection only.
    spdlog::error("closing milter connection: {}", e.what());
    if (it = connections_.find(fd); it != connections_.end()) CloseInLoop(*it->second);
  }
}

void MilterServer::Advance(Connection& c) {
  bool progress = false;  // replies went out: the send deadline starts again
  for (;;) {
    // Replies of earlier packets go out before more packets are handled.
    bool more = c.Sending();  // complete packets may be left behind
    while (!more && !c.closing && !stopping_) {
      if (c.out.size() >= kMaxQueuedReplies) {
        more = true;
        break;
      }
      std::size_t size = 0;
      Result<std::optional<milter::Packet>> packet = milter::NextPacket(c.Unhandled(), &size);
      if (!packet.ok()) {
        spdlog::warn("closing milter connection: {}", packet.status().ToString());
        c.closing = true;
        break;
      }
      if (!packet->has_value()) break;
      if (c.handler->MayBlock(**packet)) {
        // The replies before it go out first, not after the slow packet.
        if (!c.out.empty()) {
          more = true;
          break;
        }
        c.blocked = **packet;
        c.blocked_size = size;
        ToWorker(c);
        return;
      }
      if (!c.Handle(**packet, size)) {
        CloseInLoop(c);
        return;
      }
    }
    if (!c.Send(&progress)) {
      CloseInLoop(c);
      return;
    }
    if (c.Sending()) break;
    if (c.closing) {
      CloseInLoop(c);
      return;
    }
    if (!more) break;
  }
  // A peer that does not take its replies is not read until it does: what
  // the server holds for it stays bounded.
  Watch(c, c.Sending() ? EPOLLOUT : EPOLLIN);
  SetDeadline(c, progress);
}

void MilterServer::Watch(Connection& c, std::uint32_t events) {
  if (c.events == events) return;
  epoll_event ev{};
  ev.events = events;
  ev.data.fd = c.fd;
  const int op = events == 0 ? EPOLL_CTL_DEL : c.events == 0 ? EPOLL_CTL_ADD : EPOLL_CTL_MOD;
  if (epoll_ctl(epoll_fd_, op, c.fd, &ev) != 0) {
    throw std::system_error(errno, std::generic_category(), "epoll_ctl");
  }
  c.events = events;
}

void MilterServer::SetDeadline(Connection& c, bool progress) {
  using Wait = Connection::Wait;
  const Clock::time_point now = Clock::now();
  const std::chrono::seconds timeout(options_.timeout_seconds);
  if (c.Sending()) {
    if (c.wait != Wait::kSend || progress) c.deadline = now + timeout;
    c.wait = Wait::kSend;
  } else if (!c.negotiated) {
    c.wait = Wait::kNegotiation;
    c.deadline = c.negotiation_deadline;
  } else if (c.begin != c.end) {
    // A packet begun must be complete within the timeout of its first byte.
    if (c.wait != Wait::kPacket) c.deadline = now + timeout;
    c.wait = Wait::kPacket;
  } else {
    c.wait = Wait::kIdle;
    c.deadline = now + timeout;
  }
  if (!c.deadline_entry) {
    c.deadline_entry = deadlines_.emplace(c.deadline, &c);
  } else if ((*c.deadline_entry)->first != c.deadline) {
    // Moved, not reallocated: most connections move theirs at every packet.
    auto node = deadlines_.extract(*c.deadline_entry);
    node.key() = c.deadline;
    c.deadline_entry = deadlines_.insert(std::move(node));
  }
}

int MilterServer::NextTimeout() const {
  std::optional<Clock::time_point> next = accept_retry_;
  if (!deadlines_.empty() && (!next || deadlines_.begin()->first < *next)) {
    next = deadlines_.begin()->first;
  }
  if (!next) return -1;
  const Clock::duration left = *next - Clock::now();
  if (left <= Clock::duration::zero()) return 0;
  // Rounded up: waking before the deadline would only wait again.
  return static_cast<int>(std::min<std::int64_t>(
      std::chrono::ceil<std::chrono::milliseconds>(left).count(), INT_MAX));
}

void MilterServer::ExpireDeadlines() {
  const Clock::time_point now = Clock::now();
  if (accept_retry_ && *accept_retry_ <= now) {
    accept_retry_.reset();
    UpdateListening();
  }
  while (!deadlines_.empty() && deadlines_.begin()->first <= now) {
    Connection& c = *deadlines_.begin()->second;
    using Wait = Connection::Wait;
    spdlog::info("closing milter connection: {}",
                 c.wait == Wait::kNegotiation ? "no negotiation from the MTA in time"
                 : c.wait == Wait::kPacket    ? "a command from the MTA did not arrive in time"
                 : c.wait == Wait::kIdle      ? "no command from the MTA for MilterTimeout"
                                              : "the MTA did not take a reply in time");
    CloseInLoop(c);
  }
}

void MilterServer::CloseInLoop(Connection& c) {
  if (c.deadline_entry) deadlines_.erase(*c.deadline_entry);
  // Its descriptor leaves the epoll set as it is closed.
  const int fd = c.fd;  // not a reference into what erase() destroys
  connections_.erase(fd);
  UpdateListening();
}

void MilterServer::AdoptReturned() {
  std::list<std::unique_ptr<Connection>> returned;
  {
    std::lock_guard lock(mu_);
    returned.swap(returned_);
  }
  for (std::unique_ptr<Connection>& c : returned) {
    if (c->broken) {
      c.reset();  // its handler threw: closed without its replies
      continue;
    }
    const int fd = c->fd;
    try {
      Connection& ref = *connections_.emplace(fd, std::move(c)).first->second;
      if (!stopping_) Advance(ref);  // else StopServing() decides
    } catch (const std::exception& e) {
      spdlog::error("closing milter connection: {}", e.what());
      if (auto it = connections_.find(fd); it != connections_.end()) CloseInLoop(*it->second);
    }
  }
  // A broken connection closed above freed its MaxConnections slot: at the
  // limit the listener is not watched, and nothing else would wake the loop
  // to watch it again.
  UpdateListening();
}

void MilterServer::ToWorker(Connection& c) {
  if (c.deadline_entry) {
    deadlines_.erase(*c.deadline_entry);
    c.deadline_entry.reset();
  }
  // Not watched while away: events would wake the loop for nothing. DEL
  // fails only for a descriptor not registered, which then has no events.
  if (c.events != 0) epoll_ctl(epoll_fd_, EPOLL_CTL_DEL, c.fd, nullptr);
  c.events = 0;
  auto node = connections_.extract(c.fd);
  std::unique_ptr<Connection> job = std::move(node.mapped());
  std::list<std::thread> ended;
  {
    std::lock_guard lock(mu_);
    ended.swap(ended_);
    try {
      jobs_.push_back(std::move(job));
      if (jobs_.size() <= idle_workers_) {
        work_cv_.notify_one();
      } else if (!StartWorker() && live_workers_ == 0) {
        job = std::move(jobs_.back());
        jobs_.pop_back();
      }
      // Without a new thread, a busy one takes it when it is done.
    } catch (const std::exception& e) {
      spdlog::error("cannot queue a milter connection for a worker: {}", e.what());
    }
  }
  // Out of the lock; these threads have left WorkerLoop() and only exit.
  for (std::thread& t : ended) t.join();
  if (job != nullptr) {
    spdlog::error("closing a milter connection: no worker thread to take it");
    job.reset();  // out of the lock: it takes mu_
    UpdateListening();
  }
}

bool MilterServer::StartWorker() {
  std::list<std::thread>::iterator self = workers_.end();
  try {
    self = workers_.emplace(workers_.end());
    // The new thread waits for mu_, held here, before it uses `self`.
    *self = std::thread([this, self] { WorkerLoop(self); });
    ++live_workers_;
    return true;
  } catch (const std::exception& e) {
    if (self != workers_.end()) workers_.erase(self);
    spdlog::error("cannot start a milter worker thread: {}", e.what());
    return false;
  }
}

void MilterServer::WorkerLoop(std::list<std::thread>::iterator self) {
  for (;;) {
    // The connection's list node moves from jobs_ to here and on to
    // returned_: handing it back to the loop allocates nothing, so it
    // cannot fail.
    std::list<std::unique_ptr<Connection>> job;
    {
      std::unique_lock lock(mu_);
      bool expired = false;
      while (jobs_.empty() && !stopping_ && !expired) {
        ++idle_workers_;
        expired = work_cv_.wait_for(lock, options_.idle_worker_lifetime) == std::cv_status::timeout;
        --idle_workers_;
      }
      if (jobs_.empty()) {
        // Stopping (the destructor joins it), or idle too long: joined by
        // the loop when it next hands a connection over.
        --live_workers_;
        if (!stopping_) ended_.splice(ended_.end(), workers_, self);
        return;
      }
      job.splice(job.end(), jobs_, jobs_.begin());
    }
    Connection& c = *job.front();
    if (c.blocked) {
      const milter::Packet packet = *c.blocked;
      c.blocked.reset();
      c.broken = !c.Handle(packet, c.blocked_size);
    }
    {
      std::lock_guard lock(mu_);
      if (!stopping_) returned_.splice(returned_.end(), job);
    }
    if (job.empty()) {
      WakeLoop();
    } else {
      FinishAfterStop(std::move(job.front()));
    }
  }
}

void MilterServer::FinishAfterStop(std::unique_ptr<Connection> c) {
  if (c->broken || !c->Sending()) return;  // closed as c goes
  // The loop is gone: wait for the MTA to take the replies, each part
  // within timeout_seconds (CloseConnections() cuts that short).
  const int flags = fcntl(c->fd, F_GETFL);
  if (flags >= 0) fcntl(c->fd, F_SETFL, flags & ~O_NONBLOCK);
  const timeval timeout{options_.timeout_seconds, 0};
  setsockopt(c->fd, SOL_SOCKET, SO_SNDTIMEO, &timeout, sizeof timeout);
  bool progress = false;
  if (c->Send(&progress) && c->Sending()) {
    spdlog::info("closing milter connection: the MTA did not take a reply in time");
  }
}

std::size_t MilterServer::WorkerCount() {
  std::lock_guard lock(mu_);
  return live_workers_;
}

void MilterServer::CloseConnections() {
  std::lock_guard lock(mu_);
  for (int fd : open_) shutdown(fd, SHUT_RDWR);
}

bool MilterServer::Drain(std::chrono::milliseconds timeout) {
  std::unique_lock lock(mu_);
  return drained_cv_.wait_for(lock, timeout, [&] { return open_.empty(); });
}

}  // namespace bm
