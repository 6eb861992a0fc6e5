// The bounce-milter executable of this build (BM_MILTER_PATH) started on a
// unix socket in a temporary directory and stopped with SIGTERM or SIGINT:
// it exits 0 within milliseconds (milter/milter_server.h), even with an MTA
// session open, which it closes, and leaves no pid file, no socket and a
// consistent store behind.
#include <fcntl.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <optional>
#include <sstream>
#include <thread>

#include <gtest/gtest.h>

#include "store/store.h"
#include "store/store_test_util.h"

namespace bm {
namespace {

using Clock = std::chrono::steady_clock;
namespace fs = std::filesystem;

// The stop waits for nothing but commands in progress (none here); the bound
// leaves room for a loaded machine and is still below the 5 s the daemon
// would wait for a command.
constexpr auto kStopBound = std::chrono::seconds(2);

int ConnectUnix(const std::string& path) {
  int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  path.copy(addr.sun_path, sizeof addr.sun_path - 1);
  if (fd >= 0 && connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0) return fd;
  if (fd >= 0) close(fd);
  return -1;
}

std::string ReadAll(const std::string& path) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// One milter protocol packet: 4-byte length (command + data), command, data.
bool SendPacket(int fd, char command, const std::string& data) {
  const std::uint32_t length = static_cast<std::uint32_t>(data.size() + 1);
  std::string packet = {static_cast<char>(length >> 24), static_cast<char>(length >> 16),
                        static_cast<char>(length >> 8), static_cast<char>(length), command};
  packet += data;
  return write(fd, packet.data(), packet.size()) == static_cast<ssize_t>(packet.size());
}

// The command byte of the next reply packet (its data skipped), or 0.
char ReadReply(int fd) {
  timeval timeout{10, 0};
  setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof timeout);
  unsigned char header[5];
  if (recv(fd, header, sizeof header, MSG_WAITALL) != sizeof header) return 0;
  std::uint32_t length = (std::uint32_t{header[0]} << 24) | (header[1] << 16) | (header[2] << 8) |
                         header[3];
  std::string rest(length - 1, '\0');
  if (length > 1 && recv(fd, rest.data(), rest.size(), MSG_WAITALL) !=
                        static_cast<ssize_t>(rest.size())) {
    return 0;
  }
  return static_cast<char>(header[4]);
}

// Negotiates and opens an SMTP connection, as an MTA does first: the daemon
// then holds a connection context for it.
void NegotiateAndConnect(int fd) {
  const std::string optneg = {0, 0, 0, 6,  0, 0, 0x01, static_cast<char>(0xff),  0, 0, 0, 0};
  ASSERT_TRUE(SendPacket(fd, 'O', optneg));
  ASSERT_EQ(ReadReply(fd), 'O');
  ASSERT_TRUE(SendPacket(fd, 'C', std::string("mta.test\0" "4\x00\x19" "192.0.2.1\0", 22)));
  ASSERT_EQ(ReadReply(fd), 'c');
}

class DaemonStopTest : public ::testing::TestWithParam<int> {
 protected:
  void SetUp() override {
    socket_ = dir_.Sub("milter.sock");
    pid_file_ = dir_.Sub("milter.pid");
    log_ = dir_.Sub("milter.log");
    std::ofstream(dir_.Sub("milter.conf")) << "Socket unix:" << socket_ << "\n"
                                           << "PidFile " << pid_file_ << "\n"
                                           << "StorePath " << dir_.Sub("store") << "\n";
    // The child calls only async-signal-safe functions until execl.
    const std::string conf = dir_.Sub("milter.conf");
    pid_ = fork();
    ASSERT_GE(pid_, 0);
    if (pid_ == 0) {
      int log = open(log_.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
      dup2(log, STDERR_FILENO);
      execl(BM_MILTER_PATH, "bounce-milter", "-f", "-c", conf.c_str(), nullptr);
      _exit(127);
    }
    // Listening: the socket exists before the store is opened, and a session
    // begun now is served once the daemon runs, after the store is open.
    const auto deadline = Clock::now() + std::chrono::seconds(20);
    int fd = -1;
    while (fd < 0 && Clock::now() < deadline && !Exited()) {
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
      fd = ConnectUnix(socket_);
    }
    ASSERT_GE(fd, 0) << "daemon did not start:\n" << ReadAll(log_);
    close(fd);
  }

  void TearDown() override {
    if (pid_ > 0 && !Exited()) {
      kill(pid_, SIGKILL);
      waitpid(pid_, nullptr, 0);
    }
  }

  bool Exited() {
    if (status_) return true;
    int status = 0;
    if (waitpid(pid_, &status, WNOHANG) != pid_) return false;
    status_ = status;
    return true;
  }

  TempDir dir_;
  std::string socket_, pid_file_, log_;
  pid_t pid_ = -1;
  std::optional<int> status_;
};

TEST_P(DaemonStopTest, StopsPromptlyAndCleanly) {
  ASSERT_TRUE(fs::exists(pid_file_));
  // An MTA connection in the middle of an SMTP session, idle between
  // commands.
  int mta = ConnectUnix(socket_);
  ASSERT_GE(mta, 0);
  NegotiateAndConnect(mta);
  std::this_thread::sleep_for(std::chrono::milliseconds(100));

  const auto start = Clock::now();
  ASSERT_EQ(kill(pid_, GetParam()), 0);
  while (!Exited() && Clock::now() - start < std::chrono::seconds(15)) {
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  const auto elapsed = Clock::now() - start;
  EXPECT_EQ(ReadReply(mta), 0);  // closed by the daemon, no stray reply
  close(mta);
  ASSERT_TRUE(status_.has_value()) << "still running after SIGTERM:\n" << ReadAll(log_);
  std::printf("stopped %lld ms after signal %d\n",
              static_cast<long long>(
                  std::chrono::duration_cast<std::chrono::milliseconds>(elapsed).count()),
              GetParam());
  EXPECT_LT(elapsed, kStopBound) << ReadAll(log_);
  EXPECT_TRUE(WIFEXITED(*status_) && WEXITSTATUS(*status_) == 0) << ReadAll(log_);
  EXPECT_FALSE(fs::exists(pid_file_));
  EXPECT_FALSE(fs::exists(socket_));
  const std::string log = ReadAll(log_);
  EXPECT_NE(log.find("store " + dir_.Sub("store") + " closed"), std::string::npos) << log;
  EXPECT_NE(log.find("bounce-milter stopped"), std::string::npos) << log;

  StoreOptions options;
  options.path = dir_.Sub("store");
  options.read_only = true;
  Result<std::unique_ptr<Store>> store = Store::Open(options);
  ASSERT_TRUE(store.ok()) << store.status().ToString();
  Result<VerifyReport> report = (*store)->Verify();
  ASSERT_TRUE(report.ok());
  EXPECT_TRUE(report->problems.empty());
}

INSTANTIATE_TEST_SUITE_P(Signals, DaemonStopTest, ::testing::Values(SIGTERM, SIGINT),
                         [](const ::testing::TestParamInfo<int>& info) {
                           return info.param == SIGTERM ? std::string("Sigterm")
                                                        : std::string("Sigint");
                         });

}  // namespace
}  // namespace bm
