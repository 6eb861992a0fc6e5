// The main of every bm_test binary: GoogleTest's, unless StartChild
// (common/test_child.h) started this process for a child role.
#include <gtest/gtest.h>

#include <optional>

#include "common/test_child.h"

int main(int argc, char** argv) {
  if (std::optional<int> status = bm::RunChildRoleIfAsked(argc, argv)) return *status;
  testing::InitGoogleTest(&argc, argv);
  return RUN_ALL_TESTS();
}
