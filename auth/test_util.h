// Helpers shared by the auth/ tests: a private temporary directory and fixed
// keyrings, so tests are reproducible.
#ifndef BM_AUTH_TEST_UTIL_H_
#define BM_AUTH_TEST_UTIL_H_

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <memory>
#include <string>

#include <gtest/gtest.h>

#include "auth/keyring.h"

namespace bm::testing {

// A directory removed with its content when the object goes away.
class TempDir {
 public:
  TempDir() {
    std::string pattern = (std::filesystem::temp_directory_path() / "bm-auth-XXXXXX").string();
    if (mkdtemp(pattern.data()) == nullptr) ADD_FAILURE() << "mkdtemp failed";
    path_ = pattern;
  }
  ~TempDir() {
    std::error_code ignored;
    std::filesystem::remove_all(path_, ignored);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;

  std::string File(const std::string& name) const { return (path_ / name).string(); }

 private:
  std::filesystem::path path_;
};

// current key 'b', previous key 'a', with fixed secrets.
inline constexpr const char* kTwoKeyFile =
    "# test keys\n"
    "current  b 2026-11-01T00:00:00Z "
    "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08\n"
    "previous a 2026-10-01T00:00:00Z "
    "60303ae22b998861bce3b28f33eec1be758a213c86c93c076dbe9f558c11c752\n";

inline std::shared_ptr<const Keyring> TwoKeyRing() {
  Result<Keyring> ring = Keyring::Parse(kTwoKeyFile, "test");
  EXPECT_TRUE(ring.ok()) << ring.status().ToString();
  return std::make_shared<const Keyring>(std::move(ring).value());
}

// 2026-11-22T12:00:00Z
inline std::chrono::system_clock::time_point TestNow() {
  return std::chrono::system_clock::time_point(std::chrono::seconds(1795348800));
}

inline std::chrono::system_clock::time_point DaysLater(int days) {
  return TestNow() + std::chrono::days(days);
}

}  // namespace bm::testing

#endif  // BM_AUTH_TEST_UTIL_H_
