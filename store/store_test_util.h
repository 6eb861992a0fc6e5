// Test helpers for store/: a temporary directory removed at the end, and a
// bounce event with the usual fields.
#ifndef BM_STORE_STORE_TEST_UTIL_H_
#define BM_STORE_STORE_TEST_UTIL_H_

#include <stdlib.h>

#include <cstdint>
#include <filesystem>
#include <string>
#include <utility>

#include "store/store.h"

namespace bm {

// A hard (5.1.1) or soft (4.2.2) bounce of `address` at `time`, rule "test".
inline BounceEvent Bounce(std::string address, std::string reason, bool hard, std::int64_t time) {
  BounceEvent ev;
  ev.address = std::move(address);
  ev.reason = std::move(reason);
  ev.hard = hard;
  ev.bounce_class = hard ? "permanent" : "transient";
  ev.status = hard ? "5.1.1" : "4.2.2";
  ev.diagnostic = "550 no such user";
  ev.rule_id = "test";
  ev.time = time;
  return ev;
}

class TempDir {
 public:
  TempDir() {
    std::string tmpl = (std::filesystem::temp_directory_path() / "bm-store-XXXXXX").string();
    path_ = mkdtemp(tmpl.data());
  }
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const std::string& path() const { return path_; }
  std::string Sub(const std::string& name) const { return path_ + "/" + name; }

 private:
  std::string path_;
};

}  // namespace bm

#endif  // BM_STORE_STORE_TEST_UTIL_H_
