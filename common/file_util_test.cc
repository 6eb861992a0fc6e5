#include "common/file_util.h"

#include <gtest/gtest.h>

#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <fstream>

namespace bm {
namespace {

class FileUtilTest : public ::testing::Test {
 protected:
  void SetUp() override {
    path_ = (std::filesystem::temp_directory_path() /
             ("bm_file_util_" + std::to_string(::getpid()) + ".txt"))
                .string();
    std::ofstream(path_) << "0123456789";
  }
  void TearDown() override { std::remove(path_.c_str()); }
  std::string path_;
};

TEST_F(FileUtilTest, ReadsWholeFile) {
  Result<std::string> r = ReadFileBounded(path_, 10);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(*r, "0123456789");
}

TEST_F(FileUtilTest, RejectsFileOverLimit) {
  Result<std::string> r = ReadFileBounded(path_, 9);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), Status::Code::kLimitExceeded);
}

TEST_F(FileUtilTest, MissingFileIsNotFound) {
  Result<std::string> r = ReadFileBounded(path_ + ".missing", 100);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), Status::Code::kNotFound);
}

}  // namespace
}  // namespace bm
