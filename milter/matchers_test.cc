#include "milter/matchers.h"

#include <arpa/inet.h>
#include <netinet/in.h>

#include <gtest/gtest.h>

namespace bm {
namespace {

bool Contains(std::string_view net, std::string_view ip) {
  Result<NetRange> n = ParseNetRange(net);
  EXPECT_TRUE(n.ok()) << net;
  std::optional<IpAddress> a = ParseIpAddress(ip);
  EXPECT_TRUE(a.has_value()) << ip;
  return n.ok() && a && NetContains(*n, *a);
}

TEST(MatchersTest, Networks) {
  EXPECT_TRUE(Contains("127.0.0.0/8", "127.0.0.1"));
  EXPECT_TRUE(Contains("127.0.0.0/8", "127.255.1.2"));
  EXPECT_FALSE(Contains("127.0.0.0/8", "128.0.0.1"));
  EXPECT_TRUE(Contains("192.0.2.7", "192.0.2.7"));
  EXPECT_FALSE(Contains("192.0.2.7", "192.0.2.8"));
  EXPECT_TRUE(Contains("192.0.2.0/25", "192.0.2.127"));
  EXPECT_FALSE(Contains("192.0.2.0/25", "192.0.2.128"));
  EXPECT_TRUE(Contains("0.0.0.0/0", "203.0.113.9"));
  EXPECT_FALSE(Contains("0.0.0.0/0", "2001:db8::1"));
  EXPECT_TRUE(Contains("::1/128", "::1"));
  EXPECT_TRUE(Contains("2001:db8::/32", "2001:db8:ffff::1"));
  EXPECT_FALSE(Contains("2001:db8::/32", "2001:db9::1"));
  // An IPv4-mapped client address matches an IPv4 network.
  EXPECT_TRUE(Contains("10.0.0.0/8", "::ffff:10.1.2.3"));
}

TEST(MatchersTest, BadNetworks) {
  for (const char* bad : {"", "10.0.0.0/", "10.0.0.0/-1", "10.0.0.0/33", "::/129", "host",
                          "10.0.0.0/8x", "1.2.3.4.5"}) {
    EXPECT_FALSE(ParseNetRange(bad).ok()) << bad;
  }
}

TEST(MatchersTest, FromSockaddr) {
  sockaddr_in in{};
  in.sin_family = AF_INET;
  inet_pton(AF_INET, "198.51.100.4", &in.sin_addr);
  std::optional<IpAddress> ip = IpFromSockaddr(reinterpret_cast<sockaddr*>(&in));
  ASSERT_TRUE(ip.has_value());
  EXPECT_TRUE(NetContains(*ParseNetRange("198.51.100.0/24"), *ip));
  EXPECT_FALSE(IpFromSockaddr(nullptr).has_value());
  sockaddr unix_addr{};
  unix_addr.sa_family = AF_UNIX;
  EXPECT_FALSE(IpFromSockaddr(&unix_addr).has_value());
}

TEST(MatchersTest, StripAngleBrackets) {
  EXPECT_EQ(StripAngleBrackets("<a@b>"), "a@b");
  EXPECT_EQ(StripAngleBrackets(" <a@b> "), "a@b");
  EXPECT_EQ(StripAngleBrackets("a@b"), "a@b");
  EXPECT_EQ(StripAngleBrackets("<>"), "");
  EXPECT_EQ(StripAngleBrackets(""), "");
  EXPECT_EQ(StripAngleBrackets("<"), "<");
}

}  // namespace
}  // namespace bm
