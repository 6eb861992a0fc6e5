// raw_null_milter: null_milter's behaviour without libmilter. One thread, one
// epoll loop, non-blocking unix sockets, one read per readiness and every
// complete packet in it answered at once. It exists to measure how much of
// the cost of `null` / `null-data` in bench/milter_throughput is libmilter's
// way of working (a thread per connection, a poll and two reads per command)
// and how much is the milter protocol itself, i.e. Postfix's side and the
// round trips, which no milter implementation can avoid.
//
// Its answers are bench/null_answers.h's. Not a basis for a real milter: no
// timeouts, no limits beyond a packet size cap.
//
// usage: raw_null_milter unix:/path [data]
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>

#include "bench/null_answers.h"

namespace {

bool accept_at_data = false;

struct Connection {
  int fd = -1;
  std::string in;   // bytes read, not yet a complete packet
  std::string out;  // replies of one read, written together
};

// Reads what is there, answers every complete packet; false = close.
bool Serve(Connection& c) {
  char buffer[65536];
  const ssize_t n = read(c.fd, buffer, sizeof buffer);
  if (n == 0) return false;
  if (n < 0) return errno == EAGAIN || errno == EINTR;
  c.in.append(buffer, static_cast<std::size_t>(n));
  std::size_t pos = 0;
  for (;;) {
    std::size_t consumed = 0;
    bm::Result<std::optional<bm::milter::Packet>> packet =
        bm::milter::NextPacket(std::string_view(c.in).substr(pos), &consumed);
    if (!packet.ok()) return false;
    if (!packet->has_value()) break;
    if (!bm::AnswerLikeNullMilter(**packet, accept_at_data, &c.out)) return false;
    pos += consumed;
  }
  c.in.erase(0, pos);
  // Replies are a few bytes and Postfix waits for them: a short write on a
  // unix socket does not happen at these sizes; treat one as an error.
  if (!c.out.empty()) {
    const ssize_t w = write(c.fd, c.out.data(), c.out.size());
    if (w != static_cast<ssize_t>(c.out.size())) return false;
    c.out.clear();
  }
  return true;
}

int Listen(const char* spec) {
  const std::string_view s(spec);
  if (s.substr(0, 5) != "unix:" || s.size() - 5 >= sizeof(sockaddr_un{}.sun_path)) return -1;
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  std::memcpy(addr.sun_path, s.data() + 5, s.size() - 5);
  const int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) return -1;
  unlink(addr.sun_path);
  if (bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 || listen(fd, 128) != 0) {
    close(fd);
    return -1;
  }
  return fd;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2 || argc > 3 || (argc == 3 && std::string_view(argv[2]) != "data")) {
    std::fprintf(stderr, "usage: raw_null_milter unix:/path [data]\n");
    return 2;
  }
  accept_at_data = argc == 3;
  const int listener = Listen(argv[1]);
  const int ep = epoll_create1(EPOLL_CLOEXEC);
  if (listener < 0 || ep < 0) {
    std::fprintf(stderr, "raw_null_milter: cannot listen on %s: %s\n", argv[1],
                 std::strerror(errno));
    return 1;
  }
  epoll_event ev{};
  ev.events = EPOLLIN;
  ev.data.fd = listener;
  epoll_ctl(ep, EPOLL_CTL_ADD, listener, &ev);
  std::unordered_map<int, std::unique_ptr<Connection>> connections;
  epoll_event events[64];
  for (;;) {
    const int n = epoll_wait(ep, events, 64, -1);
    if (n < 0 && errno != EINTR) return 1;
    for (int i = 0; i < n; ++i) {
      const int fd = events[i].data.fd;
      if (fd == listener) {
        int client;
        while ((client = accept4(listener, nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC)) >= 0) {
          auto c = std::make_unique<Connection>();
          c->fd = client;
          ev.events = EPOLLIN;
          ev.data.fd = client;
          epoll_ctl(ep, EPOLL_CTL_ADD, client, &ev);
          connections.emplace(client, std::move(c));
        }
        continue;
      }
      auto it = connections.find(fd);
      if (it == connections.end()) continue;
      if (!Serve(*it->second)) {
        close(fd);  // also removes it from the epoll set
        connections.erase(it);
      }
    }
  }
}
