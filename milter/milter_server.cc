#include "milter/milter_server.h"

#include <arpa/inet.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <spdlog/spdlog.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <exception>
#include <optional>
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
timeval ToTimeval(std::chrono::steady_clock::duration d) {
  const auto us = std::max<std::int64_t>(
      1, std::chrono::duration_cast<std::chrono::microseconds>(d).count());
  return timeval{static_cast<time_t>(us / 1000000), static_cast<suseconds_t>(us % 1000000)};
}

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

// The whole of `bytes`, or false (timeout, peer gone).
bool WriteAll(int fd, std::string_view bytes) {
  while (!bytes.empty()) {
    const ssize_t n = send(fd, bytes.data(), bytes.size(), MSG_NOSIGNAL);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    bytes.remove_prefix(static_cast<std::size_t>(n));
  }
  return true;
}

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
  // Non-blocking: a connection that goes away between poll() and accept4()
  // must not leave the acceptor blocked where Stop() cannot wake it.
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

Result<std::unique_ptr<MilterServer>> MilterServer::Listen(const MilterServerOptions& options,
                                                           PacketHandlerFactory factory) {
  Result<SocketSpec> address = config_text::ParseSocketSpec(options.socket);
  if (!address.ok()) return address.status();
  Result<int> fd = Bind(*address, options.backlog);
  if (!fd.ok()) {
    if (fd.status().code() != Status::Code::kIOError) return fd.status();
    return Status::IOError(options.socket + ": " + fd.status().message());
  }
  FdCloser closer(*fd);
  const int wake_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
  if (wake_fd < 0) return Errno("eventfd");
  return std::unique_ptr<MilterServer>(new MilterServer(closer.release(), wake_fd,
                                                        address->kind != SocketSpec::Kind::kUnix,
                                                        options, std::move(factory)));
}

MilterServer::MilterServer(int listen_fd, int wake_fd, bool tcp, const MilterServerOptions& options,
                           PacketHandlerFactory factory)
    : listen_fd_(listen_fd),
      wake_fd_(wake_fd),
      tcp_(tcp),
      options_(options),
      factory_(std::move(factory)) {}

MilterServer::~MilterServer() {
  Stop();
  {
    std::unique_lock lock(mu_);
    work_cv_.notify_all();
  }
  for (std::thread& t : workers_) t.join();
  for (std::thread& t : ended_) t.join();
  // Run() closes the listener; it may never have run.
  if (listen_fd_ >= 0) close(listen_fd_);
  close(wake_fd_);
}

void MilterServer::Stop() {
  {
    std::lock_guard lock(mu_);
    if (stopping_) return;
    stopping_ = true;
    // A worker waiting for the MTA's next command wakes with end of file; one
    // handling a packet finds stopping_ set when it is done.
    for (int fd : serving_) shutdown(fd, SHUT_RD);
  }
  work_cv_.notify_all();
  slots_cv_.notify_all();
  const std::uint64_t one = 1;
  // An eventfd write of 8 bytes is not short; EAGAIN: already readable.
  (void)!write(wake_fd_, &one, sizeof one);
}

Status MilterServer::Run() {
  Status status = Status::Ok();
  std::optional<std::chrono::steady_clock::time_point> last_warning;
  std::optional<std::chrono::steady_clock::time_point> last_accept_error;
  for (;;) {
    {
      std::unique_lock lock(mu_);
      if (connections_ >= options_.max_connections && !stopping_) {
        const auto now = std::chrono::steady_clock::now();
        if (!last_warning || now - *last_warning >= kLimitWarningInterval) {
          spdlog::warn(
              "MaxConnections ({}) MTA connections open: new ones wait in the listen "
              "backlog",
              options_.max_connections);
          last_warning = now;
        }
        slots_cv_.wait(lock, [&] { return stopping_ || connections_ < options_.max_connections; });
      }
      if (stopping_) break;
    }
    pollfd fds[2] = {{listen_fd_, POLLIN, 0}, {wake_fd_, POLLIN, 0}};
    if (poll(fds, 2, -1) < 0) {
      if (errno == EINTR) continue;
      status = Errno("milter socket: poll");
      break;
    }
    if (fds[1].revents != 0) break;
    if (fds[0].revents == 0) continue;
    const int fd = accept4(listen_fd_, nullptr, nullptr, SOCK_CLOEXEC);
    if (fd < 0) {
      if (errno == EINTR || errno == EAGAIN || errno == ECONNABORTED) continue;
      // Out of descriptors or memory: the connection stays in the backlog;
      // retry in a moment rather than spin, and say so once a minute.
      const auto now = std::chrono::steady_clock::now();
      if (!last_accept_error || now - *last_accept_error >= kLimitWarningInterval) {
        spdlog::error("milter socket: accept: {} (retrying every 100 ms)", std::strerror(errno));
        last_accept_error = now;
      }
      poll(&fds[1], 1, 100);
      continue;
    }
    Dispatch(fd);
  }
  // New connections are refused from now on (the unix socket file stays
  // until the daemon removes it at exit).
  close(listen_fd_);
  listen_fd_ = -1;
  Stop();  // after a failure, the connections stop as well
  return status;
}

void MilterServer::Dispatch(int fd) {
  std::list<std::thread> ended;
  {
    std::unique_lock lock(mu_);
    ended.swap(ended_);
    bool queued = false;
    if (!stopping_) {
      try {
        queue_.push_back(fd);
        queued = true;
      } catch (const std::exception& e) {
        // Out of memory: this connection is closed (the MTA applies its
        // default action), the daemon goes on.
        spdlog::error("milter socket: cannot queue a connection: {}", e.what());
      }
    }
    if (!queued) {
      close(fd);
    } else {
      ++connections_;
      if (queue_.size() <= idle_workers_) {
        work_cv_.notify_one();
      } else {
        StartWorker();
      }
    }
  }
  // Out of the lock; these threads have left WorkerLoop() and only exit.
  for (std::thread& t : ended) t.join();
}

void MilterServer::StartWorker() {
  std::list<std::thread>::iterator self = workers_.end();
  try {
    self = workers_.emplace(workers_.end());
    // The new thread waits for mu_, held here, before it uses `self`.
    *self = std::thread([this, self] { WorkerLoop(self); });
  } catch (const std::exception& e) {
    if (self != workers_.end()) workers_.erase(self);
    // Served later by a worker that finishes its connection, if any.
    spdlog::error("cannot start a milter worker thread: {}", e.what());
    if (workers_.empty()) {
      close(queue_.back());
      queue_.pop_back();
      --connections_;
    }
  }
}

void MilterServer::WorkerLoop(std::list<std::thread>::iterator self) {
  for (;;) {
    int fd;
    {
      std::unique_lock lock(mu_);
      bool expired = false;
      while (queue_.empty() && !stopping_ && !expired) {
        ++idle_workers_;
        expired = work_cv_.wait_for(lock, options_.idle_worker_lifetime) == std::cv_status::timeout;
        --idle_workers_;
      }
      if (queue_.empty()) {
        // Stopping (the destructor joins it), or idle too long: joined by
        // the acceptor at its next connection.
        if (!stopping_) ended_.splice(ended_.end(), workers_, self);
        return;
      }
      fd = queue_.front();
      queue_.pop_front();
      serving_.insert(fd);
      // Stop() shuts down only the connections it sees in serving_.
      if (stopping_) shutdown(fd, SHUT_RD);
    }
    try {
      Serve(fd);
    } catch (const std::exception& e) {
      spdlog::error("milter connection: {}", e.what());
    } catch (...) {
      spdlog::error("milter connection: unknown exception");
    }
    Close(fd);
  }
}

void MilterServer::Close(int fd) {
  std::lock_guard lock(mu_);
  // Closed under the lock: Stop() must not shut down a reused descriptor.
  close(fd);
  serving_.erase(fd);
  --connections_;
  slots_cv_.notify_all();
}

void MilterServer::Serve(int fd) {
  using Clock = std::chrono::steady_clock;
  const std::chrono::seconds timeout_seconds(options_.timeout_seconds);
  const timeval timeout{options_.timeout_seconds, 0};
  setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &timeout, sizeof timeout);
  // Reads wait at most MilterTimeout between commands. A packet begun must
  // be complete within MilterTimeout of its first byte, and the first one
  // (negotiation) within negotiation_timeout of the connection: the MTA
  // negotiates as soon as it connects (Postfix and Sendmail do), and a client
  // that says nothing, or trickles bytes, must not keep one of the
  // MaxConnections slots for long. The receive timeout is changed only while
  // such a deadline runs, not on every read.
  std::optional<Clock::time_point> deadline =
      Clock::now() + std::min<Clock::duration>(options_.negotiation_timeout, timeout_seconds);
  bool receive_timeout_is_idle = false;
  bool negotiated = false;  // a first packet was handled
  // Over TCP: replies are small and the MTA waits for each, so no Nagle
  // delay on our side.
  const int one = 1;
  if (tcp_) setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);

  std::unique_ptr<PacketHandler> handler = factory_();
  // Not zeroed: only bytes read are looked at.
  std::size_t capacity = kReadSize;
  std::unique_ptr<char[]> in = std::make_unique_for_overwrite<char[]>(capacity);
  std::size_t begin = 0, end = 0;  // unhandled bytes: in[begin, end)
  std::string replies;
  for (;;) {
    // Every complete packet of the bytes read; replies go out together.
    bool keep = true;
    bool more = false;  // packets left in the buffer: replies went out first
    while (keep) {
      std::size_t consumed = 0;
      Result<std::optional<milter::Packet>> packet =
          milter::NextPacket(std::string_view(in.get() + begin, end - begin), &consumed);
      if (!packet.ok()) {
        spdlog::warn("closing milter connection: {}", packet.status().ToString());
        keep = false;
        break;
      }
      if (!packet->has_value()) break;
      if (stopping_) {
        keep = false;
        break;
      }
      keep = handler->Handle(**packet, &replies);
      begin += consumed;
      negotiated = true;
      deadline.reset();  // the next packet has a deadline of its own
      if (replies.size() >= kMaxQueuedReplies) {
        more = true;
        break;
      }
    }
    if (!replies.empty()) {
      if (!WriteAll(fd, replies)) {
        spdlog::info("milter connection: MTA did not take a reply: {}",
                     errno == EAGAIN ? "timeout" : std::strerror(errno));
        return;
      }
      replies.clear();
    }
    if (!keep || stopping_) return;
    if (more) continue;
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
    if (negotiated && begin != end && !deadline) deadline = Clock::now() + timeout_seconds;
    if (deadline) {
      const timeval left = ToTimeval(*deadline - Clock::now());
      setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &left, sizeof left);
      receive_timeout_is_idle = false;
    } else if (!receive_timeout_is_idle) {
      setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof timeout);
      receive_timeout_is_idle = true;
    }
    const ssize_t n = read(fd, in.get() + end, capacity - end);
    // The MTA writes a command that gets no reply (macros, a header) and
    // then the next one, which its Nagle algorithm holds back until the first
    // is acknowledged: acknowledge at once rather than after the delayed-ACK
    // timeout. Linux leaves quick-ack mode on its own, hence after each read.
    if (tcp_ && n > 0) setsockopt(fd, IPPROTO_TCP, TCP_QUICKACK, &one, sizeof one);
    if (n < 0 && errno == EINTR) continue;
    if (n == 0) return;  // the MTA closed, or Stop()
    if (n < 0) {
      if (errno == EAGAIN || errno == EWOULDBLOCK) {
        spdlog::info("closing milter connection: {}",
                     !negotiated ? "no negotiation from the MTA in time"
                     : deadline  ? "a command from the MTA did not arrive in time"
                                 : "no command from the MTA for MilterTimeout");
      } else {
        spdlog::info("closing milter connection: {}", std::strerror(errno));
      }
      return;
    }
    end += static_cast<std::size_t>(n);
  }
}

std::size_t MilterServer::WorkerCount() {
  std::lock_guard lock(mu_);
  return workers_.size();
}

void MilterServer::CloseConnections() {
  std::lock_guard lock(mu_);
  for (int fd : serving_) shutdown(fd, SHUT_RDWR);
}

bool MilterServer::Drain(std::chrono::milliseconds timeout) {
  std::unique_lock lock(mu_);
  return slots_cv_.wait_for(lock, timeout, [&] { return connections_ == 0; });
}

}  // namespace bm
