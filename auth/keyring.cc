#include "auth/keyring.h"

#include <fcntl.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cctype>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <sstream>
#include <vector>

#include "auth/tag_crypto.h"

namespace bm {
namespace {

constexpr std::size_t kMaxKeyFileBytes = 4096;
constexpr std::string_view kHexDigits = "0123456789abcdef";

std::string ErrnoText(const std::string& what, const std::string& path) {
  return what + " " + path + ": " + std::strerror(errno);
}

Status FillRandom(std::span<std::uint8_t> out) {
  std::size_t done = 0;
  while (done < out.size()) {
    ssize_t n = getrandom(out.data() + done, out.size() - done, 0);
    if (n < 0) {
      if (errno == EINTR) continue;
      return Status::IOError(std::string("getrandom: ") + std::strerror(errno));
    }
    done += static_cast<std::size_t>(n);
  }
  return Status::Ok();
}

bool ParseHexSecret(std::string_view hex, std::array<std::uint8_t, 32>& out) {
  if (hex.size() != 2 * out.size()) return false;
  for (std::size_t i = 0; i < out.size(); ++i) {
    auto hi = kHexDigits.find(static_cast<char>(std::tolower(hex[2 * i])));
    auto lo = kHexDigits.find(static_cast<char>(std::tolower(hex[2 * i + 1])));
    if (hi == std::string_view::npos || lo == std::string_view::npos) return false;
    out[i] = static_cast<std::uint8_t>(hi << 4 | lo);
  }
  return true;
}

bool ParseUtc(std::string_view text, std::int64_t& out) {
  std::tm tm{};
  std::string s(text);
  const char* end = strptime(s.c_str(), "%Y-%m-%dT%H:%M:%SZ", &tm);
  if (end == nullptr || *end != '\0') return false;
  out = static_cast<std::int64_t>(timegm(&tm));
  return true;
}

void AppendKeyLine(std::string& out, const char* state, const SigningKey& key) {
  out += state;
  out += ' ';
  out += key.id;
  out += ' ';
  out += FormatUtc(key.created);
  out += ' ';
  for (std::uint8_t b : key.secret) {
    out += kHexDigits[b >> 4];
    out += kHexDigits[b & 0xf];
  }
  out += '\n';
}

Status WriteAll(int fd, std::string_view data, const std::string& path) {
  while (!data.empty()) {
    ssize_t n = write(fd, data.data(), data.size());
    if (n < 0) {
      if (errno == EINTR) continue;
      return Status::IOError(ErrnoText("cannot write", path));
    }
    data.remove_prefix(static_cast<std::size_t>(n));
  }
  return Status::Ok();
}

std::string DirectoryOf(const std::string& path) {
  std::size_t slash = path.rfind('/');
  if (slash == std::string::npos) return ".";
  if (slash == 0) return "/";
  return path.substr(0, slash);
}

}  // namespace

SigningKey::~SigningKey() { explicit_bzero(secret.data(), secret.size()); }

std::string FormatUtc(std::int64_t seconds) {
  std::time_t t = static_cast<std::time_t>(seconds);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

Result<Keyring> Keyring::Generate(std::int64_t now) {
  Keyring ring;
  ring.current_.id = kBase32Alphabet[0];
  ring.current_.created = now;
  Status s = FillRandom(ring.current_.secret);
  if (!s.ok()) return s;
  return ring;
}

Result<Keyring> Keyring::Rotated(std::int64_t now) const {
  Keyring ring;
  ring.previous_ = current_;
  ring.current_.id = kBase32Alphabet[(Base32Value(current_.id) + 1) % kBase32Alphabet.size()];
  ring.current_.created = now;
  Status s = FillRandom(ring.current_.secret);
  if (!s.ok()) return s;
  return ring;
}

const SigningKey* Keyring::Find(char id) const {
  if (current_.id == id) return &current_;
  if (previous_ && previous_->id == id) return &*previous_;
  return nullptr;
}

std::string Keyring::Serialize() const {
  std::string out =
      "# bounce-milter return-path signing keys: secret, keep mode 0600.\n"
      "# Managed by `bouncectl keys generate|rotate`; see docs/security.md.\n"
      "# state id created secret\n";
  AppendKeyLine(out, "current", current_);
  if (previous_) AppendKeyLine(out, "previous", *previous_);
  return out;
}

Result<Keyring> Keyring::Parse(std::string_view text, const std::string& origin) {
  Keyring ring;
  bool have_current = false;
  std::istringstream in{std::string(text)};
  std::string line;
  for (int number = 1; std::getline(in, line); ++number) {
    const std::string where = origin + ":" + std::to_string(number) + ": ";
    std::istringstream fields(line);
    std::string state, id, created, secret, extra;
    if (!(fields >> state) || state[0] == '#') continue;
    if (!(fields >> id >> created >> secret) || (fields >> extra)) {
      return Status::InvalidArgument(where + "expected: STATE ID CREATED SECRET");
    }
    SigningKey key;
    if (id.size() != 1 || Base32Value(id[0]) < 0) {
      return Status::InvalidArgument(where + "key id must be one character of a-z, 2-7");
    }
    key.id = id[0];
    if (!ParseUtc(created, key.created)) {
      return Status::InvalidArgument(where + "bad date (want YYYY-MM-DDTHH:MM:SSZ)");
    }
    if (!ParseHexSecret(secret, key.secret)) {
      return Status::InvalidArgument(where + "secret must be 64 hexadecimal digits");
    }
    if (state == "current") {
      if (have_current) return Status::InvalidArgument(where + "second current key");
      ring.current_ = key;
      have_current = true;
    } else if (state == "previous") {
      if (ring.previous_) return Status::InvalidArgument(where + "second previous key");
      ring.previous_ = key;
    } else {
      return Status::InvalidArgument(where + "state must be 'current' or 'previous'");
    }
  }
  if (!have_current) return Status::InvalidArgument(origin + ": no current key");
  if (ring.previous_ && ring.previous_->id == ring.current_.id) {
    return Status::InvalidArgument(origin + ": current and previous keys have the same id");
  }
  return ring;
}

Result<Keyring> Keyring::LoadFile(const std::string& path) {
  int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    if (errno == ENOENT) return Status::NotFound("no key file " + path);
    return Status::IOError(ErrnoText("cannot open key file", path));
  }
  struct stat st {};
  if (fstat(fd, &st) != 0) {
    Status s = Status::IOError(ErrnoText("cannot stat key file", path));
    close(fd);
    return s;
  }
  if (!S_ISREG(st.st_mode)) {
    close(fd);
    return Status::InvalidArgument("key file " + path + " is not a regular file");
  }
  if ((st.st_mode & 077) != 0) {
    close(fd);
    char mode[8];
    std::snprintf(mode, sizeof mode, "%04o", static_cast<unsigned>(st.st_mode & 07777));
    return Status::InvalidArgument("key file " + path + " is accessible by group or others (mode " +
                                   mode + "); refusing to use it: run chmod 600 " + path +
                                   " and rotate the keys if others may have read them");
  }
  if (static_cast<std::size_t>(st.st_size) > kMaxKeyFileBytes) {
    close(fd);
    return Status::LimitExceeded("key file " + path + " is larger than 4096 bytes");
  }
  std::string text(kMaxKeyFileBytes + 1, '\0');
  std::size_t length = 0;
  while (length < text.size()) {
    ssize_t n = read(fd, text.data() + length, text.size() - length);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      Status s = Status::IOError(ErrnoText("cannot read key file", path));
      close(fd);
      return s;
    }
    if (n == 0) break;
    length += static_cast<std::size_t>(n);
  }
  close(fd);
  if (length > kMaxKeyFileBytes) {
    return Status::LimitExceeded("key file " + path + " is larger than 4096 bytes");
  }
  text.resize(length);
  Result<Keyring> ring = Parse(text, path);
  explicit_bzero(text.data(), text.size());
  return ring;
}

Status Keyring::SaveFile(const std::string& path, bool replace) const {
  std::string temp = path + ".tmp.XXXXXX";
  int fd = mkstemp(temp.data());
  if (fd < 0) return Status::IOError(ErrnoText("cannot create a file beside", path));
  std::string text = Serialize();
  Status s;
  // mkstemp's mode is subject to the umask on some systems: set it exactly.
  if (fchmod(fd, 0600) != 0) s = Status::IOError(ErrnoText("cannot chmod", temp));
  // A file replaced by root (`bouncectl keys rotate`) keeps its owner, so the
  // milter's user can still read it after the rotation.
  struct stat old {};
  if (s.ok() && replace && stat(path.c_str(), &old) == 0 &&
      (old.st_uid != geteuid() || old.st_gid != getegid()) &&
      fchown(fd, old.st_uid, old.st_gid) != 0) {
    s = Status::IOError(ErrnoText("cannot give the owner of the old key file to", temp));
  }
  if (s.ok()) s = WriteAll(fd, text, temp);
  explicit_bzero(text.data(), text.size());
  if (s.ok() && fsync(fd) != 0) s = Status::IOError(ErrnoText("cannot fsync", temp));
  if (close(fd) != 0 && s.ok()) s = Status::IOError(ErrnoText("cannot close", temp));
  if (s.ok()) {
    // link() refuses to replace an existing file; rename() replaces atomically.
    int rc = replace ? rename(temp.c_str(), path.c_str()) : link(temp.c_str(), path.c_str());
    if (rc != 0) {
      s = errno == EEXIST ? Status::InvalidArgument("key file " + path + " already exists")
                          : Status::IOError(ErrnoText("cannot install key file", path));
    }
  }
  unlink(temp.c_str());  // after rename() the name is gone already: ENOENT is fine
  if (!s.ok()) return s;
  int dir = open(DirectoryOf(path).c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dir >= 0) {
    fsync(dir);
    close(dir);
  }
  return Status::Ok();
}

}  // namespace bm
