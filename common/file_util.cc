#include "common/file_util.h"

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <memory>

namespace bm {

Result<std::string> ReadFileBounded(const std::string& path, std::size_t max_bytes) {
  const bool is_stdin = path == "-";
  FILE* f = is_stdin ? stdin : std::fopen(path.c_str(), "rb");
  if (f == nullptr) {
    std::string why = std::strerror(errno);
    if (errno == ENOENT) return Status::NotFound(path + ": " + why);
    return Status::IOError(path + ": " + why);
  }
  std::unique_ptr<FILE, int (*)(FILE*)> closer(is_stdin ? nullptr : f, &std::fclose);

  std::string data;
  char buf[65536];
  while (true) {
    std::size_t want = sizeof(buf);
    if (data.size() + want > max_bytes + 1) want = max_bytes + 1 - data.size();
    std::size_t n = std::fread(buf, 1, want, f);
    data.append(buf, n);
    if (data.size() > max_bytes) {
      return Status::LimitExceeded(path + ": larger than " + std::to_string(max_bytes) + " bytes");
    }
    if (n < want) break;
  }
  if (std::ferror(f)) return Status::IOError(path + ": " + std::strerror(errno));
  return data;
}

}  // namespace bm
