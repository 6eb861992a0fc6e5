#include "milter/matchers.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <charconv>
#include <cstring>

namespace bm {
namespace {

constexpr std::uint8_t kMappedPrefix[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};

IpAddress FromV4(const in_addr& a) {
  IpAddress ip;
  std::memcpy(ip.bytes.data(), kMappedPrefix, 12);
  std::memcpy(ip.bytes.data() + 12, &a, 4);
  return ip;
}

IpAddress FromV6(const in6_addr& a) {
  IpAddress ip;
  std::memcpy(ip.bytes.data(), &a, 16);
  return ip;
}

bool IsMapped(const IpAddress& ip) { return std::memcmp(ip.bytes.data(), kMappedPrefix, 12) == 0; }

}  // namespace

std::optional<IpAddress> ParseIpAddress(std::string_view text) {
  if (text.size() > INET6_ADDRSTRLEN) return std::nullopt;
  std::string s(text);
  in_addr v4;
  if (inet_pton(AF_INET, s.c_str(), &v4) == 1) return FromV4(v4);
  in6_addr v6;
  if (inet_pton(AF_INET6, s.c_str(), &v6) == 1) return FromV6(v6);
  return std::nullopt;
}

Result<NetRange> ParseNetRange(std::string_view text) {
  NetRange net;
  net.text = std::string(text);
  std::string_view addr = text;
  std::optional<int> prefix;
  if (auto slash = text.find('/'); slash != std::string_view::npos) {
    addr = text.substr(0, slash);
    std::string_view bits = text.substr(slash + 1);
    int value = -1;
    auto [end, ec] = std::from_chars(bits.data(), bits.data() + bits.size(), value);
    if (ec != std::errc() || end != bits.data() + bits.size()) {
      return Status::InvalidArgument("bad prefix length in '" + net.text + "'");
    }
    prefix = value;
  }
  std::optional<IpAddress> ip = ParseIpAddress(addr);
  if (!ip) return Status::InvalidArgument("not an IP address or network: '" + net.text + "'");
  const bool v4 = IsMapped(*ip) && addr.find(':') == std::string_view::npos;
  const int max_bits = v4 ? 32 : 128;
  int bits = prefix.value_or(max_bits);
  if (bits < 0 || bits > max_bits) {
    return Status::InvalidArgument("prefix length out of range in '" + net.text + "'");
  }
  net.base = *ip;
  net.prefix_bits = v4 ? 96 + bits : bits;
  return net;
}

std::optional<IpAddress> IpFromSockaddr(const sockaddr* addr) {
  if (addr == nullptr) return std::nullopt;
  if (addr->sa_family == AF_INET) {
    sockaddr_in in;
    std::memcpy(&in, addr, sizeof in);
    return FromV4(in.sin_addr);
  }
  if (addr->sa_family == AF_INET6) {
    sockaddr_in6 in6;
    std::memcpy(&in6, addr, sizeof in6);
    return FromV6(in6.sin6_addr);
  }
  return std::nullopt;
}

bool NetContains(const NetRange& net, const IpAddress& ip) {
  int bits = net.prefix_bits;
  for (int i = 0; i < 16 && bits > 0; ++i, bits -= 8) {
    const std::uint8_t mask = bits >= 8 ? 0xff : static_cast<std::uint8_t>(0xff << (8 - bits));
    if ((net.base.bytes[i] & mask) != (ip.bytes[i] & mask)) return false;
  }
  return true;
}

std::string_view StripAngleBrackets(std::string_view address) {
  auto blank = [](char c) { return c == ' ' || c == '\t'; };
  while (!address.empty() && blank(address.front())) address.remove_prefix(1);
  while (!address.empty() && blank(address.back())) address.remove_suffix(1);
  if (address.size() >= 2 && address.front() == '<' && address.back() == '>') {
    address = address.substr(1, address.size() - 2);
  }
  return address;
}

}  // namespace bm
