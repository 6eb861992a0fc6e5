// The cryptographic primitives behind return-path tags: HMAC-SHA256 (GLib's
// GHmac), lower-case RFC 4648 base32, and a constant-time comparison.
//
// Lower-case base32 ("abcdefghijklmnopqrstuvwxyz234567") is used because
// remote MTAs may change the case of an address; callers lower-case a tag
// before comparing it.
//
// Thread safety: every function is reentrant (no shared state).
#ifndef BM_AUTH_TAG_CRYPTO_H_
#define BM_AUTH_TAG_CRYPTO_H_

#include <array>
#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>

namespace bm {

inline constexpr std::string_view kBase32Alphabet = "abcdefghijklmnopqrstuvwxyz234567";

// The value 0..31 of a lower-case base32 character, or -1.
int Base32Value(char c);

// The first `bits` bits of `data`, big-endian, as ceil(bits/5) base32
// characters. REQUIRES: bits <= 8 * data.size().
std::string Base32EncodeBits(std::span<const std::uint8_t> data, std::size_t bits);

// HMAC-SHA256 of `message` under `key`.
std::array<std::uint8_t, 32> HmacSha256(std::span<const std::uint8_t> key,
                                        std::string_view message);

// True when a == b. The time taken depends only on the lengths, never on
// where the strings differ, so a remote party cannot learn a tag one
// character at a time.
bool ConstantTimeEqual(std::string_view a, std::string_view b);

}  // namespace bm

#endif  // BM_AUTH_TAG_CRYPTO_H_
