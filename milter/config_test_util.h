// Test helper: a Config from text, failing the test (and giving the
// defaults) when the text does not load.
#ifndef BM_MILTER_CONFIG_TEST_UTIL_H_
#define BM_MILTER_CONFIG_TEST_UTIL_H_

#include <memory>
#include <string_view>

#include <gtest/gtest.h>

#include "milter/config.h"

namespace bm {

inline Config LoadTestConfig(std::string_view text) {
  Result<std::shared_ptr<const Config>> c = LoadConfigString(text, "test.conf");
  EXPECT_TRUE(c.ok()) << c.status().ToString();
  return c.ok() ? **c : DefaultConfig();
}

}  // namespace bm

#endif  // BM_MILTER_CONFIG_TEST_UTIL_H_
