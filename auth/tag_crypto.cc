#include "auth/tag_crypto.h"

#include <glib.h>

namespace bm {

int Base32Value(char c) {
  if (c >= 'a' && c <= 'z') return c - 'a';
  if (c >= '2' && c <= '7') return 26 + (c - '2');
  return -1;
}

std::string Base32EncodeBits(std::span<const std::uint8_t> data, std::size_t bits) {
  std::string out;
  out.reserve((bits + 4) / 5);
  for (std::size_t pos = 0; pos < bits; pos += 5) {
    unsigned value = 0;
    for (std::size_t b = pos; b < pos + 5; ++b) {
      unsigned bit = 0;
      if (b < bits) bit = (data[b / 8] >> (7 - b % 8)) & 1u;
      value = (value << 1) | bit;
    }
    out.push_back(kBase32Alphabet[value]);
  }
  return out;
}

std::array<std::uint8_t, 32> HmacSha256(std::span<const std::uint8_t> key,
                                        std::string_view message) {
  GHmac* hmac = g_hmac_new(G_CHECKSUM_SHA256, key.data(), key.size());
  g_hmac_update(hmac, reinterpret_cast<const guchar*>(message.data()),
                static_cast<gssize>(message.size()));
  std::array<std::uint8_t, 32> digest{};
  gsize length = digest.size();
  g_hmac_get_digest(hmac, digest.data(), &length);
  g_hmac_unref(hmac);
  return digest;
}

bool ConstantTimeEqual(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  unsigned char diff = 0;
  for (std::size_t i = 0; i < a.size(); ++i) {
    diff |= static_cast<unsigned char>(a[i] ^ b[i]);
  }
  return diff == 0;
}

}  // namespace bm
