// Small file helpers shared by the command-line tools and the daemon.
#ifndef BM_COMMON_FILE_UTIL_H_
#define BM_COMMON_FILE_UTIL_H_

#include <cstddef>
#include <string>

#include "common/status.h"

namespace bm {

// Reads a whole file, or standard input when path is "-". Errors: kNotFound,
// kIOError, kLimitExceeded when the content is larger than max_bytes (the
// file is not read past max_bytes + 1, so a huge input costs bounded memory).
Result<std::string> ReadFileBounded(const std::string& path, std::size_t max_bytes);

}  // namespace bm

#endif  // BM_COMMON_FILE_UTIL_H_
