// Keyring: the secret keys that sign return paths, and their key file.
//
// A keyring holds the current key (used to sign) and at most one previous
// key (still accepted when verifying, so bounces of mail signed before a
// rotation keep verifying until their tags expire). Each key has a one
// character id (a lower-case base32 digit, carried in every tag) and a
// 256-bit secret.
//
// Key file (text, one key per line, '#' comments):
//
//   # state    id  created               secret (64 hex digits)
//   current    b   2026-11-22T21:30:00Z  9f86d081884c7d659a2feaa0c55ad015...
//   previous   a   2026-10-01T08:00:00Z  60303ae22b998861bce3b28f33eec1be...
//
// Security: files are written with mode 0600 whatever the umask, replaced
// atomically (write a temporary file, fsync, rename); a key file readable or
// writable by group or others is refused by LoadFile() with an error that
// says how to fix it. Secrets never appear in error messages or logs, and
// are wiped from memory when a key is destroyed.
//
// Thread safety: a Keyring is immutable after construction; share it as
// std::shared_ptr<const Keyring> between threads.
#ifndef BM_AUTH_KEYRING_H_
#define BM_AUTH_KEYRING_H_

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "common/status.h"

namespace bm {

// Where bouncectl and the milter look for the keys unless told otherwise.
inline constexpr const char* kDefaultKeyFile = "/etc/bounce-milter/return-path.keys";

struct SigningKey {
  ~SigningKey();  // wipes the secret

  char id = 'a';               // lower-case base32 digit
  std::int64_t created = 0;    // seconds since the epoch (UTC)
  std::array<std::uint8_t, 32> secret{};
};

class Keyring {
 public:
  // A keyring with one fresh random key (id 'a'), created at `now`
  // (seconds since the epoch). Errors: kIOError when the kernel's random
  // source fails.
  static Result<Keyring> Generate(std::int64_t now);

  // Reads and parses a key file. Errors: kNotFound, kIOError, kInvalidArgument
  // (the file is readable or writable by group/others, is not a regular
  // file, or a line is malformed: "FILE:LINE: ..."), kLimitExceeded (> 4 KiB).
  static Result<Keyring> LoadFile(const std::string& path);

  // Parses key file text; `origin` names it in error messages.
  static Result<Keyring> Parse(std::string_view text, const std::string& origin);

  // A new random current key (the next id after the current one), the
  // current key becomes previous, the old previous key is dropped.
  Result<Keyring> Rotated(std::int64_t now) const;

  // Writes the key file with mode 0600 (atomically). With replace = false
  // an existing file is left alone and kInvalidArgument is returned; with
  // replace = true the new file keeps the owner and group of the old one.
  Status SaveFile(const std::string& path, bool replace) const;

  // The key file text (contains the secrets).
  std::string Serialize() const;

  const SigningKey& current() const { return current_; }
  const std::optional<SigningKey>& previous() const { return previous_; }
  // The key with this id (current or previous), or nullptr.
  const SigningKey* Find(char id) const;

 private:
  Keyring() = default;

  SigningKey current_;
  std::optional<SigningKey> previous_;
};

// "2026-11-22T21:30:00Z"
std::string FormatUtc(std::int64_t seconds);

}  // namespace bm

#endif  // BM_AUTH_KEYRING_H_
