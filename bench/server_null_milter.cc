// server_null_milter: null_milter's behaviour on the daemon's own milter
// server (milter/milter_server.h: one epoll loop, one read per batch of
// packets; these answers never block, so no worker thread). Against
// raw_null_milter (a bare epoll loop) it shows what the server's framing
// and bookkeeping cost; against bounce-milter, what the filter's logic
// costs.
//
// usage: server_null_milter SOCKET [data]   (SOCKET as in bounce-milter)
#include <signal.h>

#include <cstdio>
#include <memory>
#include <string_view>

#include "bench/null_answers.h"
#include "milter/milter_server.h"

namespace {

class NullHandler : public bm::PacketHandler {
 public:
  explicit NullHandler(bool accept_at_data) : accept_at_data_(accept_at_data) {}
  bool Handle(const bm::milter::Packet& packet, std::string* replies) override {
    return bm::AnswerLikeNullMilter(packet, accept_at_data_, replies);
  }

 private:
  bool accept_at_data_;
};

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2 || argc > 3 || (argc == 3 && std::string_view(argv[2]) != "data")) {
    std::fprintf(stderr, "usage: server_null_milter SOCKET [data]\n");
    return 2;
  }
  const bool accept_at_data = argc == 3;
  bm::MilterServerOptions options;
  options.socket = argv[1];
  bm::Result<std::unique_ptr<bm::MilterServer>> server =
      bm::MilterServer::Listen(options, [accept_at_data]() -> std::unique_ptr<bm::PacketHandler> {
        return std::make_unique<NullHandler>(accept_at_data);
      });
  if (!server.ok()) {
    std::fprintf(stderr, "server_null_milter: %s\n", server.status().ToString().c_str());
    return 1;
  }
  // Killed by the benchmark; no stop needed.
  return (*server)->Run().ok() ? 0 : 1;
}
