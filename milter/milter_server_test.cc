// MilterServer over a real unix socket in a temporary directory: whole
// sessions with raw packets (FilterConnection over the real filter), packets
// split and batched across reads, a malformed packet or a throwing handler
// closing only its connection, the timeouts, the connection limit, bounded
// output to a peer that does not read, packets that may block handled by
// workers without holding the others back, and the stop with idle and busy
// connections.
#include "milter/milter_server.h"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <fcntl.h>

#include <atomic>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <functional>
#include <future>
#include <mutex>
#include <stdexcept>
#include <thread>

#include "milter/filter_connection.h"
#include "milter/milter_test_util.h"

namespace bm {
namespace {

using namespace milter_test;  // NOLINT: test helpers
using std::chrono::milliseconds;

// The MTA's end of one connection.
class Client {
 public:
  explicit Client(const std::string& path) {
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    path.copy(addr.sun_path, sizeof addr.sun_path - 1);
    Connect(reinterpret_cast<sockaddr*>(&addr), sizeof addr);
  }
  // Over TCP to a loopback address.
  Client(int family, const char* ip, int port) {
    sockaddr_storage addr{};
    if (family == AF_INET) {
      auto* in = reinterpret_cast<sockaddr_in*>(&addr);
      in->sin_family = AF_INET;
      in->sin_port = htons(static_cast<std::uint16_t>(port));
      inet_pton(AF_INET, ip, &in->sin_addr);
    } else {
      auto* in6 = reinterpret_cast<sockaddr_in6*>(&addr);
      in6->sin6_family = AF_INET6;
      in6->sin6_port = htons(static_cast<std::uint16_t>(port));
      inet_pton(AF_INET6, ip, &in6->sin6_addr);
    }
    Connect(reinterpret_cast<sockaddr*>(&addr), sizeof addr);
  }
  ~Client() { close(fd_); }

  void Send(std::string_view bytes) {
    ASSERT_EQ(send(fd_, bytes.data(), bytes.size(), MSG_NOSIGNAL),
              static_cast<ssize_t>(bytes.size()));
  }
  // The next reply; command 0 at end of file or timeout.
  Reply Read() {
    unsigned char header[5];
    if (recv(fd_, header, sizeof header, MSG_WAITALL) != sizeof header) return {};
    const std::uint32_t length =
        (std::uint32_t{header[0]} << 24) | (header[1] << 16) | (header[2] << 8) | header[3];
    std::string data(length - 1, '\0');
    if (length > 1 &&
        recv(fd_, data.data(), data.size(), MSG_WAITALL) != static_cast<ssize_t>(data.size())) {
      return {};
    }
    return {static_cast<char>(header[4]), data};
  }
  // The commands of the next n replies.
  std::string Read(int n) {
    std::string commands;
    for (int i = 0; i < n; ++i) commands += Read().command;
    return commands;
  }
  // True when the server closed the connection (end of file, no more bytes).
  bool Closed() {
    char byte;
    const ssize_t n = recv(fd_, &byte, 1, 0);
    // A reset (the server closed with our bytes unread) is a close too; a
    // timeout is not.
    return n == 0 || (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK);
  }
  void Connect(const sockaddr* addr, socklen_t size) {
    fd_ = socket(addr->sa_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
    EXPECT_EQ(connect(fd_, addr, size), 0) << std::strerror(errno);
    const timeval timeout{10, 0};
    setsockopt(fd_, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof timeout);
  }
  int fd() const { return fd_; }
  void SetReadTimeout(int ms) {
    const timeval timeout{ms / 1000, (ms % 1000) * 1000};
    setsockopt(fd_, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof timeout);
  }

 private:
  int fd_ = -1;
};

// What the handlers of the tests below share.
struct Script {
  void Open() {
    std::call_once(opened, [&] { open.set_value(); });
  }

  std::atomic<int> live{0};     // handlers not yet destroyed
  std::atomic<int> entered{0};  // slow packets begun
  std::promise<void> open;
  std::shared_future<void> gate = open.get_future().share();
  std::once_flag opened;
};

// Answers 'c' with the packet's data to every packet, except: 'S' is slow
// (it may block: handled by a worker, and waits for the gate), 'X' throws
// in the loop and 'Y' in a worker, 'Q' ends the connection.
class ScriptedHandler : public PacketHandler {
 public:
  explicit ScriptedHandler(Script& script) : script_(script) { ++script_.live; }
  ~ScriptedHandler() override { --script_.live; }
  bool MayBlock(const milter::Packet& packet) const override {
    return packet.command == 'S' || packet.command == 'Y';
  }
  bool Handle(const milter::Packet& packet, std::string* replies) override {
    if (packet.command == 'X' || packet.command == 'Y') throw std::runtime_error("scripted");
    if (packet.command == 'S') {
      ++script_.entered;
      script_.gate.wait();
    }
    milter::AppendPacket(replies, 'c', packet.data);
    return packet.command != 'Q';
  }

 private:
  Script& script_;
};

class MilterServerTest : public FilterFixture {
 protected:
  void TearDown() override {
    script_.Open();  // a test that failed may have left slow packets waiting
    if (server_) {
      server_->Stop();
      if (run_.valid()) run_.wait();
      EXPECT_TRUE(server_->Drain(std::chrono::seconds(10)));
      server_.reset();
    }
    FilterFixture::TearDown();
  }

  std::string SocketPath() const { return (dir_ / "milter.sock").string(); }

  void Start(PacketHandlerFactory factory, std::size_t max_connections = 512,
             std::string socket = "",
             milliseconds idle_worker_lifetime = std::chrono::seconds(60),
             const std::function<void(MilterServerOptions&)>& adjust = nullptr) {
    MilterServerOptions options;
    options.idle_worker_lifetime = idle_worker_lifetime;
    options.socket = socket.empty() ? "unix:" + SocketPath() : socket;
    options.max_connections = max_connections;
    options.timeout_seconds = 30;
    if (adjust) adjust(options);
    Result<std::unique_ptr<MilterServer>> server = MilterServer::Listen(options, factory);
    ASSERT_TRUE(server.ok()) << server.status().ToString();
    server_ = std::move(*server);
    run_ = std::async(std::launch::async, [this] { EXPECT_TRUE(server_->Run().ok()); });
  }
  void StartFilter(std::size_t max_connections = 512, std::string socket = "") {
    Start(
        [this]() -> std::unique_ptr<PacketHandler> {
          return std::make_unique<FilterConnection>(*filter_);
        },
        max_connections, std::move(socket));
  }
  void StartScripted(std::size_t max_connections = 512,
                     milliseconds idle_worker_lifetime = std::chrono::seconds(60)) {
    Start([this] { return std::make_unique<ScriptedHandler>(script_); }, max_connections, "",
          idle_worker_lifetime);
  }
  void StopServer() {
    server_->Stop();
    run_.wait();
    ASSERT_TRUE(server_->Drain(milliseconds(1000)));
    server_.reset();
  }

  Script script_;  // outlives the server and its handlers
  std::unique_ptr<MilterServer> server_;
  std::future<void> run_;
};

TEST_F(MilterServerTest, ServesWholeSessionsAndQuitNewConnection) {
  StartFilter();
  Client mta(SocketPath());
  // Negotiation, then connect with its macros: one reply (connect has none).
  mta.Send(Optneg() + MacroPacket('C', {"j", "mx.test"}) + Connect4("client.test", "203.0.113.9"));
  EXPECT_EQ(mta.Read().command, 'O');
  // A DSN, one packet per write as Postfix sends them; headers get no reply.
  mta.Send(Mail("<>"));
  EXPECT_EQ(mta.Read().command, 'c');
  mta.Send(Rcpt("<news@mta.test>"));
  EXPECT_EQ(mta.Read().command, 'c');
  mta.Send(MessagePackets(Dsn("gone@remote.test")));
  const Reply eoh = mta.Read();
  EXPECT_EQ(eoh.command, 'c');
  EXPECT_EQ(mta.Read(3), "cha");  // body; the tag header, then the final verdict

  // Outbound: the suppressed recipient is refused with its reply.
  mta.Send(Packet('A') + MacroPacket('M', {"{auth_authen}", "alice"}) +
           Mail("<alice@example.com>"));
  EXPECT_EQ(mta.Read().command, 'c');
  mta.Send(Rcpt("<gone@remote.test>"));
  const Reply refused = mta.Read();
  EXPECT_EQ(refused.command, 'y');
  EXPECT_EQ(refused.data.substr(0, 9), "550 5.1.1");
  // Not a bounce: accepted at end of headers.
  mta.Send(Rcpt("<ok@remote.test>"));
  EXPECT_EQ(mta.Read().command, 'c');
  mta.Send(HeaderPacket("Subject", "hello") + HeaderPacket("Message-ID", "<m1@example.com>") +
           Packet('N'));
  EXPECT_EQ(mta.Read().command, 'a');

  // K, then a second session on the same socket.
  mta.Send(Packet('K') + Connect4("second.test", "192.0.2.8") + Mail("<>"));
  EXPECT_EQ(mta.Read().command, 'c');
  mta.Send(Packet('A') + Packet('Q'));
  EXPECT_TRUE(mta.Closed());
}

TEST_F(MilterServerTest, PacketsSplitAcrossWritesAreReassembled) {
  StartFilter();
  Client mta(SocketPath());
  const std::string stream = Optneg() + Connect4("client.test", "203.0.113.9") + Mail("<>");
  for (char byte : stream) {
    mta.Send(std::string_view(&byte, 1));
    std::this_thread::sleep_for(std::chrono::microseconds(200));
  }
  EXPECT_EQ(mta.Read(2), "Oc");
  // A body chunk larger than one read.
  mta.Send(Rcpt("<news@mta.test>") + Packet('N') + Packet('B', std::string(200000, 'x')));
  EXPECT_EQ(mta.Read(3), "ccc");
}

// A client that does not negotiate, or trickles a packet byte by byte, loses
// its connection (and its MaxConnections slot) without waiting for
// MilterTimeout between each byte; a negotiated connection may stay idle.
TEST_F(MilterServerTest, SilentOrTricklingClientsAreCut) {
  Start(
      [this]() -> std::unique_ptr<PacketHandler> {
        return std::make_unique<FilterConnection>(*filter_);
      },
      512, "", std::chrono::seconds(60), [](MilterServerOptions& options) {
        options.negotiation_timeout = milliseconds(300);
        options.timeout_seconds = 2;
      });
  const auto started = std::chrono::steady_clock::now();
  Client silent(SocketPath());
  EXPECT_TRUE(silent.Closed());
  EXPECT_LT(std::chrono::steady_clock::now() - started, milliseconds(1500));

  Client idle(SocketPath());
  idle.Send(Optneg());
  EXPECT_EQ(idle.Read(1), "O");
  std::this_thread::sleep_for(milliseconds(500));  // beyond the negotiation timeout
  idle.Send(Connect4("client.test", "203.0.113.9") + Mail("<>"));
  EXPECT_EQ(idle.Read(1), "c");
  // Idle for the timeout between packets: closed then, not before.
  const auto last_reply = std::chrono::steady_clock::now();
  EXPECT_TRUE(idle.Closed());
  EXPECT_GT(std::chrono::steady_clock::now() - last_reply, milliseconds(1500));
  EXPECT_LT(std::chrono::steady_clock::now() - last_reply, milliseconds(3500));

  Client trickle(SocketPath());
  trickle.Send(Optneg());
  EXPECT_EQ(trickle.Read(1), "O");
  const std::string packet = Mail("<news@mta.test>");
  const auto first_byte = std::chrono::steady_clock::now();
  // One byte every 250 ms: each read comes well within the timeout, the
  // packet as a whole would take several times it.
  for (std::size_t i = 0; i + 1 < packet.size() && i < 16; ++i) {
    if (send(trickle.fd(), &packet[i], 1, MSG_NOSIGNAL) != 1) break;
    std::this_thread::sleep_for(milliseconds(250));
  }
  EXPECT_TRUE(trickle.Closed());
  EXPECT_LT(std::chrono::steady_clock::now() - first_byte, milliseconds(3500));
}

TEST_F(MilterServerTest, MalformedOrOversizedPacketClosesOnlyItsConnection) {
  StartFilter();
  Client good(SocketPath());
  good.Send(Optneg() + Connect4("client.test", "203.0.113.9"));
  EXPECT_EQ(good.Read().command, 'O');
  {
    Client bad(SocketPath());
    bad.Send(Optneg() + Packet('M', "no terminating nul"));
    EXPECT_EQ(bad.Read().command, 'O');
    EXPECT_TRUE(bad.Closed());
  }
  {
    Client huge(SocketPath());
    huge.Send(Be32(milter::kMaxPacketSize + 1) + "B");
    EXPECT_TRUE(huge.Closed());
  }
  good.Send(Mail("<>"));
  EXPECT_EQ(good.Read().command, 'c');
}

// A free TCP port on a loopback address (bound to port 0, then released);
// 0 when the address family is not available.
int FreePort(int family) {
  const int fd = socket(family, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_storage addr{};
  socklen_t size = sizeof addr;
  addr.ss_family = static_cast<sa_family_t>(family);
  if (family == AF_INET) {
    reinterpret_cast<sockaddr_in*>(&addr)->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    size = sizeof(sockaddr_in);
  } else {
    reinterpret_cast<sockaddr_in6*>(&addr)->sin6_addr = in6addr_loopback;
    size = sizeof(sockaddr_in6);
  }
  int port = 0;
  if (fd >= 0 && bind(fd, reinterpret_cast<sockaddr*>(&addr), size) == 0 &&
      getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &size) == 0) {
    port = ntohs(family == AF_INET ? reinterpret_cast<sockaddr_in*>(&addr)->sin_port
                                   : reinterpret_cast<sockaddr_in6*>(&addr)->sin6_port);
  }
  if (fd >= 0) close(fd);
  return port;
}

TEST_F(MilterServerTest, ListensOnEveryInetForm) {
  struct Form {
    int family;
    const char* host;  // after the port
    const char* ip;    // to connect to
  };
  for (const Form& form : {Form{AF_INET, "@127.0.0.1", "127.0.0.1"},
                           Form{AF_INET, "@localhost", "127.0.0.1"}, Form{AF_INET, "", "127.0.0.1"},
                           Form{AF_INET6, "@[::1]", "::1"}, Form{AF_INET6, "@::1", "::1"}}) {
    const int port = FreePort(form.family);
    if (port == 0) continue;  // no IPv6 here
    const std::string spec =
        std::string(form.family == AF_INET ? "inet:" : "inet6:") + std::to_string(port) + form.host;
    SCOPED_TRACE(spec);
    StartFilter(512, spec);
    {
      Client mta(form.family, form.ip, port);
      mta.Send(Optneg() + Connect4("client.test", "203.0.113.9") + Mail("<>"));
      EXPECT_EQ(mta.Read(2), "Oc");
    }
    StopServer();
  }
}

// Postfix writes a macro packet and then a command, with Nagle's algorithm
// on: the command waits for the acknowledgement of the macros unless the
// server sends it at once. 20 such exchanges take about 20 delayed-ACK
// timeouts (40 ms each) otherwise.
TEST_F(MilterServerTest, TcpCommandAfterAPacketWithoutReplyIsNotDelayed) {
  const int port = FreePort(AF_INET);
  ASSERT_NE(port, 0);
  StartFilter(512, "inet:" + std::to_string(port) + "@127.0.0.1");
  Client mta(AF_INET, "127.0.0.1", port);
  mta.Send(Optneg() + Connect4("client.test", "203.0.113.9"));
  EXPECT_EQ(mta.Read().command, 'O');
  const auto start = std::chrono::steady_clock::now();
  for (int i = 0; i < 20; ++i) {
    mta.Send(MacroPacket('M', {"{mail_addr}", "a@b.test"}));
    mta.Send(Mail("<>"));
    ASSERT_EQ(mta.Read().command, 'c');
    mta.Send(Packet('A'));
  }
  EXPECT_LT(std::chrono::steady_clock::now() - start, milliseconds(400));
}

TEST_F(MilterServerTest, RemovesAStaleSocketButNotAFile) {
  StartFilter();
  StopServer();
  // The socket file is still there (the daemon removes it at exit): a new
  // server takes its place.
  struct stat st;
  ASSERT_EQ(lstat(SocketPath().c_str(), &st), 0);
  StartFilter();
  Client mta(SocketPath());
  mta.Send(Optneg());
  EXPECT_EQ(mta.Read().command, 'O');

  const std::string file = (dir_ / "plain").string();
  std::ofstream(file) << "not a socket";
  MilterServerOptions options;
  options.socket = "unix:" + file;
  EXPECT_FALSE(MilterServer::Listen(options, nullptr).ok());
  options.socket = "tcp:25";
  EXPECT_FALSE(MilterServer::Listen(options, nullptr).ok());
}

// A second daemon started by mistake on the same path must not take it over.
TEST_F(MilterServerTest, RefusesASocketAnotherServerListensOn) {
  StartFilter();
  MilterServerOptions options;
  options.socket = "unix:" + SocketPath();
  Result<std::unique_ptr<MilterServer>> second = MilterServer::Listen(options, nullptr);
  ASSERT_FALSE(second.ok());
  EXPECT_NE(second.status().message().find("another process is listening"), std::string::npos)
      << second.status().ToString();
  Client mta(SocketPath());
  mta.Send(Optneg());
  EXPECT_EQ(mta.Read().command, 'O');
}

// A worker blocked sending to an MTA that no longer reads is not woken by
// Stop() (its command's reply must go out), but CloseConnections() frees it.
TEST_F(MilterServerTest, CloseConnectionsFreesAWorkerBlockedSending) {
  class Flood : public PacketHandler {
   public:
    bool Handle(const milter::Packet&, std::string* replies) override {
      replies->append(32 << 20, 'c');  // far beyond any socket buffer
      return true;
    }
  };
  Start([] { return std::make_unique<Flood>(); });
  Client mta(SocketPath());
  mta.Send(Optneg());  // never reads the reply
  std::this_thread::sleep_for(milliseconds(200));
  server_->Stop();
  run_.wait();
  EXPECT_FALSE(server_->Drain(milliseconds(300)));
  server_->CloseConnections();
  EXPECT_TRUE(server_->Drain(std::chrono::seconds(5)));
}

// Answers every packet with a reply of kReplyBytes (as a refused
// recipient's reply is far longer than its RCPT), noting the most replies
// the server let it queue at once and how many handlers are alive.
class ReplyAmplifier : public PacketHandler {
 public:
  static constexpr std::size_t kReplyBytes = 1000;
  ReplyAmplifier(std::atomic<std::size_t>& most_queued, std::atomic<int>& live)
      : most_queued_(most_queued), live_(live) {
    ++live_;
  }
  ~ReplyAmplifier() override { --live_; }
  bool Handle(const milter::Packet&, std::string* replies) override {
    if (replies->size() > most_queued_) most_queued_ = replies->size();
    milter::AppendPacket(replies, 'c', std::string(kReplyBytes - 5, 'x'));
    return true;
  }

 private:
  std::atomic<std::size_t>& most_queued_;
  std::atomic<int>& live_;
};

// A peer that pipelines many small commands with larger replies gets its
// replies in bounded batches, not all those of its 64 KiB read at once.
TEST_F(MilterServerTest, RepliesToPipelinedCommandsAreSentInBoundedBatches) {
  constexpr std::size_t kReplyBytes = ReplyAmplifier::kReplyBytes;
  std::atomic<std::size_t> most_queued{0};
  std::atomic<int> live{0};
  Start([&] { return std::make_unique<ReplyAmplifier>(most_queued, live); });
  Client mta(SocketPath());
  constexpr int kPackets = 12000;  // 60,000 bytes: one read; 12 MB of replies
  std::string stream;
  for (int i = 0; i < kPackets; ++i) stream += Packet('N');
  std::thread sender([&] { mta.Send(stream); });
  int replies = 0;
  while (replies < kPackets && mta.Read().command == 'c') ++replies;
  sender.join();
  EXPECT_EQ(replies, kPackets);
  EXPECT_LT(most_queued.load(), std::size_t{64 * 1024} + kReplyBytes);
}

TEST_F(MilterServerTest, ConnectionsBeyondTheLimitWaitForAFreeOne) {
  StartFilter(1);
  auto first = std::make_unique<Client>(SocketPath());
  first->Send(Optneg());
  EXPECT_EQ(first->Read().command, 'O');
  Client second(SocketPath());  // in the backlog
  second.Send(Optneg());
  second.SetReadTimeout(300);
  EXPECT_EQ(second.Read().command, 0);  // not served yet
  first.reset();
  second.SetReadTimeout(10000);
  EXPECT_EQ(second.Read().command, 'O');
}

// Waits until `done`, at most 10 s.
template <typename Predicate>
bool WaitUntil(Predicate done) {
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (!done()) {
    if (std::chrono::steady_clock::now() > deadline) return false;
    std::this_thread::sleep_for(milliseconds(2));
  }
  return true;
}

TEST_F(MilterServerTest, WorkersHandleOnlyPacketsThatMayBlockAndAreReused) {
  StartScripted(512, milliseconds(300));
  {
    Client plain(SocketPath());
    plain.Send(Packet('N', "1") + Packet('N', "2"));
    EXPECT_EQ(plain.Read(2), "cc");
    EXPECT_EQ(server_->WorkerCount(), 0u);  // served by the loop alone
  }
  {
    Client a(SocketPath()), b(SocketPath()), c(SocketPath());
    for (Client* mta : {&a, &b, &c}) mta->Send(Packet('S'));
    ASSERT_TRUE(WaitUntil([&] { return script_.entered == 3; }));
    EXPECT_EQ(server_->WorkerCount(), 3u);  // one per slow packet at once
    script_.Open();
    for (Client* mta : {&a, &b, &c}) EXPECT_EQ(mta->Read().command, 'c');
  }
  // One slow packet after another: the idle workers take them.
  for (int i = 0; i < 5; ++i) {
    Client mta(SocketPath());
    mta.Send(Packet('S'));
    EXPECT_EQ(mta.Read().command, 'c');
  }
  EXPECT_LE(server_->WorkerCount(), 3u);
  EXPECT_TRUE(WaitUntil([&] { return server_->WorkerCount() == 0; }));
  // A new slow packet starts a new worker (and the ended ones are joined).
  Client mta(SocketPath());
  mta.Send(Packet('S'));
  EXPECT_EQ(mta.Read().command, 'c');
  EXPECT_EQ(server_->WorkerCount(), 1u);
}

// A packet that blocks in a worker holds back neither the other connections
// nor the replies to its own connection's earlier packets; the loop
// handles the later ones once the connection is back.
TEST_F(MilterServerTest, ASlowPacketDoesNotDelayOtherConnections) {
  StartScripted();
  Client slow(SocketPath());
  slow.Send(Packet('N', "before") + Packet('S', "slow") + Packet('N', "after"));
  ASSERT_TRUE(WaitUntil([&] { return script_.entered == 1; }));
  EXPECT_EQ(slow.Read().data, "before");
  const auto start = std::chrono::steady_clock::now();
  for (int i = 0; i < 20; ++i) {
    Client other(SocketPath());
    other.Send(Packet('N', "other"));
    const Reply reply = other.Read();
    ASSERT_EQ(reply.command, 'c');
    EXPECT_EQ(reply.data, "other");
  }
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(5));
  slow.SetReadTimeout(100);
  EXPECT_EQ(slow.Read().command, 0);  // still blocked
  script_.Open();
  slow.SetReadTimeout(10000);
  EXPECT_EQ(slow.Read().data, "slow");
  EXPECT_EQ(slow.Read().data, "after");
  slow.Send(Packet('N', "again"));
  EXPECT_EQ(slow.Read().data, "again");
}

// An exception from a handler, in the loop or in a worker, closes its
// connection (destroying its handler) and nothing else.
TEST_F(MilterServerTest, AHandlerThatThrowsClosesOnlyItsConnection) {
  StartScripted();
  Client good(SocketPath());
  good.Send(Packet('N', "1"));
  EXPECT_EQ(good.Read().data, "1");
  for (char command : {'X', 'Y'}) {
    Client bad(SocketPath());
    bad.Send(Packet('N', "before"));
    EXPECT_EQ(bad.Read().data, "before");
    bad.Send(Packet(command) + Packet('N', "never"));
    EXPECT_TRUE(bad.Closed());
  }
  EXPECT_TRUE(WaitUntil([&] { return script_.live == 1; }));
  good.Send(Packet('N', "2"));
  EXPECT_EQ(good.Read().data, "2");
}

// A peer that sends commands but never reads their replies: the server
// stops handling (and reading) its packets while replies wait, so what it
// holds for it stays within one batch, and the send timeout closes it.
TEST_F(MilterServerTest, APeerThatReadsNoRepliesIsNotBufferedAndTimesOut) {
  constexpr std::size_t kReplyBytes = ReplyAmplifier::kReplyBytes;
  std::atomic<std::size_t> most_queued{0};
  std::atomic<int> live{0};
  Start([&] { return std::make_unique<ReplyAmplifier>(most_queued, live); }, 512, "",
        std::chrono::seconds(60), [](MilterServerOptions& options) { options.timeout_seconds = 1; });
  Client mta(SocketPath());
  fcntl(mta.fd(), F_SETFL, fcntl(mta.fd(), F_GETFL) | O_NONBLOCK);
  // Send until the server has stopped reading: nothing goes out for 300 ms.
  const std::string packet = Packet('N');
  std::size_t sent = 0;
  auto last_progress = std::chrono::steady_clock::now();
  while (std::chrono::steady_clock::now() - last_progress < milliseconds(300)) {
    if (send(mta.fd(), packet.data(), packet.size(), MSG_NOSIGNAL) > 0) {
      sent += packet.size();
      last_progress = std::chrono::steady_clock::now();
    } else {
      ASSERT_TRUE(errno == EAGAIN || errno == EWOULDBLOCK) << std::strerror(errno);
      std::this_thread::sleep_for(milliseconds(1));
    }
  }
  EXPECT_GT(sent, std::size_t{0});
  EXPECT_LT(most_queued.load(), std::size_t{64 * 1024} + kReplyBytes);
  // Closed by the send timeout (1 s), its handler destroyed.
  EXPECT_TRUE(server_->Drain(milliseconds(3000)));
  EXPECT_EQ(live.load(), 0);
}

TEST_F(MilterServerTest, AConnectionWithAWorkerCountsTowardsTheLimit) {
  StartScripted(1);
  Client slow(SocketPath());
  slow.Send(Packet('S'));
  ASSERT_TRUE(WaitUntil([&] { return script_.entered == 1; }));
  Client waiting(SocketPath());  // in the backlog
  waiting.Send(Packet('N', "waiting"));
  waiting.SetReadTimeout(300);
  EXPECT_EQ(waiting.Read().command, 0);
  script_.Open();
  EXPECT_EQ(slow.Read().command, 'c');
  slow.Send(Packet('Q'));
  EXPECT_EQ(slow.Read().command, 'c');
  EXPECT_TRUE(slow.Closed());
  waiting.SetReadTimeout(10000);
  EXPECT_EQ(waiting.Read().data, "waiting");
}

// A worker whose handler throws closes its connection, which frees its
// MaxConnections slot: at the limit the loop accepts again (it had stopped
// watching the listener, and nothing else would wake it to).
TEST_F(MilterServerTest, AWorkerThatThrowsFreesItsConnectionSlot) {
  StartScripted(1);
  {
    Client bad(SocketPath());
    bad.Send(Packet('Y'));
    EXPECT_TRUE(bad.Closed());
  }
  Client next(SocketPath());
  next.Send(Packet('N', "served"));
  next.SetReadTimeout(3000);
  EXPECT_EQ(next.Read().data, "served");
}

// No connection begins after Stop(), even one waiting in the backlog behind
// the event that stops the server in the same batch: a Drain() that found
// none left must stay true, and no handler is created after it.
TEST_F(MilterServerTest, NoConnectionBeginsAfterStop) {
  class Callback : public PacketHandler {
   public:
    explicit Callback(std::function<void(char)> on_packet) : on_packet_(std::move(on_packet)) {}
    bool Handle(const milter::Packet& packet, std::string* replies) override {
      on_packet_(packet.command);
      milter::AppendPacket(replies, 'c');
      return true;
    }

   private:
    std::function<void(char)> on_packet_;
  };
  std::atomic<int> created{0}, created_at_stop{-1};
  std::atomic<bool> busy{false};
  std::promise<void> release;
  std::shared_future<void> released = release.get_future().share();
  // In the loop thread: 'W' holds the loop until released, 'T' stops.
  auto on_packet = [&](char command) {
    if (command == 'W') {
      busy = true;
      released.wait();
    } else if (command == 'T') {
      created_at_stop = created.load();
      server_->Stop();
    }
  };
  Start([&] {
    ++created;
    return std::make_unique<Callback>(on_packet);
  });
  Client stopper(SocketPath());
  stopper.Send(Packet('N'));
  EXPECT_EQ(stopper.Read().command, 'c');  // accepted and watched
  Client holder(SocketPath());
  holder.Send(Packet('W'));
  ASSERT_TRUE(WaitUntil([&] { return busy.load(); }));
  // While the loop is held: the stopping packet, then a new connection, are
  // ready together and reported in that order.
  stopper.Send(Packet('T'));
  Client late(SocketPath());  // in the backlog
  release.set_value();
  ASSERT_EQ(run_.wait_for(std::chrono::seconds(10)), std::future_status::ready);
  EXPECT_TRUE(server_->Drain(std::chrono::seconds(5)));
  EXPECT_EQ(created.load(), created_at_stop.load()) << "a connection began after Stop()";
  EXPECT_TRUE(late.Closed());
}

// A handler that blocks in its first packet until released.
class BlockingHandler : public PacketHandler {
 public:
  BlockingHandler(std::atomic<bool>* entered, std::future<void>* release)
      : entered_(entered), release_(release) {}
  bool MayBlock(const milter::Packet&) const override { return true; }
  bool Handle(const milter::Packet&, std::string* replies) override {
    entered_->store(true);
    release_->wait();
    milter::AppendPacket(replies, 'c');
    return true;
  }

 private:
  std::atomic<bool>* entered_;
  std::future<void>* release_;
};

// Stop(): the loop returns at once and closes the connections waiting for
// the MTA; a worker handling a packet finishes it, sends its reply and
// closes its connection without handling the next packet.
TEST_F(MilterServerTest, StopWaitsForTheCommandInProgressAndClosesIdleConnections) {
  std::atomic<bool> entered{false};
  std::promise<void> release;
  std::future<void> released = release.get_future();
  Start([&]() -> std::unique_ptr<PacketHandler> {
    return std::make_unique<BlockingHandler>(&entered, &released);
  });
  Client idle(SocketPath());
  Client busy(SocketPath());
  busy.Send(Packet('M', Z({"<a@b.test>"})) + Packet('R', Z({"<c@d.test>"})));
  while (!entered) std::this_thread::sleep_for(milliseconds(1));

  server_->Stop();
  EXPECT_EQ(run_.wait_for(std::chrono::seconds(5)), std::future_status::ready);
  EXPECT_TRUE(idle.Closed());                       // woken at once
  EXPECT_FALSE(server_->Drain(milliseconds(100)));  // the command is still running
  release.set_value();
  EXPECT_TRUE(server_->Drain(std::chrono::seconds(5)));
  // Its reply was sent; the next packet, already there, was not handled.
  EXPECT_EQ(busy.Read().command, 'c');
  EXPECT_TRUE(busy.Closed());
  // Nothing listens any more.
  int fd = socket(AF_UNIX, SOCK_STREAM, 0);
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  SocketPath().copy(addr.sun_path, sizeof addr.sun_path - 1);
  EXPECT_NE(connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
  close(fd);
}

}  // namespace
}  // namespace bm
