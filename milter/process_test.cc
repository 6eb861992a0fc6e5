// The daemon's process helpers on real files in a temporary directory: the
// socket permissions are set on the socket itself and never through a
// symbolic link put in its place (root does this in a directory the
// daemon's user may write).
#include "milter/process.h"

#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <fstream>
#include <string>

#include <gtest/gtest.h>

#include "store/store_test_util.h"

namespace bm {
namespace {

mode_t ModeOf(const std::string& path) {
  struct stat st {};
  EXPECT_EQ(lstat(path.c_str(), &st), 0) << path;
  return st.st_mode & 07777;
}

TEST(ProcessTest, SocketPermissionsApplyToTheSocket) {
  TempDir dir;
  const std::string path = dir.path() + "/milter.sock";
  const int fd = socket(AF_UNIX, SOCK_STREAM, 0);
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  path.copy(addr.sun_path, sizeof addr.sun_path - 1);
  ASSERT_EQ(bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
  EXPECT_TRUE(SetSocketPermissions("unix:" + path, "", 0640).ok());
  EXPECT_EQ(ModeOf(path), 0640u);
  close(fd);
  // inet sockets have no file: nothing to do.
  EXPECT_TRUE(SetSocketPermissions("inet:8895@127.0.0.1", "", 0640).ok());
}

TEST(ProcessTest, SocketPermissionsNeverFollowALink) {
  TempDir dir;
  const std::string target = dir.path() + "/precious";
  std::ofstream(target) << "secret";
  ASSERT_EQ(chmod(target.c_str(), 0600), 0);
  const std::string path = dir.path() + "/milter.sock";
  ASSERT_EQ(symlink(target.c_str(), path.c_str()), 0);
  EXPECT_FALSE(SetSocketPermissions("unix:" + path, "", 0666).ok());
  EXPECT_EQ(ModeOf(target), 0600u);
  // Nor a plain file in the socket's place.
  EXPECT_FALSE(SetSocketPermissions("unix:" + target, "", 0666).ok());
  EXPECT_EQ(ModeOf(target), 0600u);
}

}  // namespace
}  // namespace bm
