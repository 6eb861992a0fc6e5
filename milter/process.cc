#include "milter/process.h"

#include <fcntl.h>
#include <grp.h>
#include <pwd.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <optional>

namespace bm {
namespace {

Status Errno(const std::string& what) {
  return Status::IOError(what + ": " + std::strerror(errno));
}

struct UserIds {
  uid_t uid = 0;
  gid_t gid = 0;
  std::string name;
};

Result<UserIds> LookupUser(const std::string& spec) {
  std::string user = spec.substr(0, spec.find(':'));
  std::string group_name =
      spec.find(':') == std::string::npos ? "" : spec.substr(spec.find(':') + 1);
  // getpwnam/getgrnam: called before any worker thread exists.
  const passwd* pw = getpwnam(user.c_str());
  if (pw == nullptr) return Status::NotFound("unknown user '" + user + "'");
  UserIds ids{pw->pw_uid, pw->pw_gid, pw->pw_name};
  if (!group_name.empty()) {
    const struct group* gr = getgrnam(group_name.c_str());
    if (gr == nullptr) return Status::NotFound("unknown group '" + group_name + "'");
    ids.gid = gr->gr_gid;
  }
  return ids;
}

// The path of a unix:/PATH or local:/PATH spec; nullopt for inet sockets.
std::optional<std::string> UnixSocketPath(std::string_view socket_spec) {
  std::size_t colon = socket_spec.find(':');
  std::string_view scheme = socket_spec.substr(0, colon);
  if (colon == std::string_view::npos || (scheme != "unix" && scheme != "local")) {
    return std::nullopt;
  }
  return std::string(socket_spec.substr(colon + 1));
}

}  // namespace

Status Daemonize(bool keep_stderr) {
  pid_t pid = fork();
  if (pid < 0) return Errno("fork");
  if (pid > 0) _exit(0);
  if (setsid() < 0) return Errno("setsid");
  if (chdir("/") != 0) return Errno("chdir /");
  int null_fd = open("/dev/null", O_RDWR);
  if (null_fd < 0) return Errno("open /dev/null");
  dup2(null_fd, STDIN_FILENO);
  dup2(null_fd, STDOUT_FILENO);
  if (!keep_stderr) dup2(null_fd, STDERR_FILENO);
  if (null_fd > STDERR_FILENO) close(null_fd);
  return Status::Ok();
}

Status WritePidFile(const std::string& path) {
  std::ofstream out(path, std::ios::trunc);
  out << getpid() << '\n';
  out.close();
  if (!out) return Status::IOError("cannot write pid file " + path);
  return Status::Ok();
}

Status SetSocketPermissions(std::string_view socket_spec, const std::string& owner,
                            unsigned mode) {
  std::optional<std::string> unix_path = UnixSocketPath(socket_spec);
  if (!unix_path) return Status::Ok();
  const std::string& path = *unix_path;
  // Done as root in a directory the daemon's user may write: never follow a
  // symbolic link put in the socket's place, or root would chown and chmod
  // the file it points to.
  struct stat st;
  if (lstat(path.c_str(), &st) != 0) return Errno("lstat " + path);
  if (!S_ISSOCK(st.st_mode)) return Status::IOError(path + " is no longer the daemon's socket");
  if (!owner.empty()) {
    Result<UserIds> ids = LookupUser(owner);
    if (!ids.ok()) return ids.status();
    if (lchown(path.c_str(), ids->uid, ids->gid) != 0) return Errno("chown " + path);
  }
  // Fails on a symbolic link (EOPNOTSUPP) instead of following it.
  if (fchmodat(AT_FDCWD, path.c_str(), static_cast<mode_t>(mode), AT_SYMLINK_NOFOLLOW) != 0) {
    return Errno("chmod " + path);
  }
  return Status::Ok();
}

Status RemoveUnixSocket(std::string_view socket_spec) {
  std::optional<std::string> path = UnixSocketPath(socket_spec);
  if (!path) return Status::Ok();
  struct stat st;
  if (lstat(path->c_str(), &st) != 0) return Status::Ok();
  if (!S_ISSOCK(st.st_mode)) return Status::Ok();
  if (unlink(path->c_str()) != 0 && errno != ENOENT) return Errno("unlink " + *path);
  return Status::Ok();
}

Status DropPrivileges(const std::string& user_spec) {
  if (user_spec.empty()) return Status::Ok();
  Result<UserIds> ids = LookupUser(user_spec);
  if (!ids.ok()) return ids.status();
  if (getuid() == ids->uid && geteuid() == ids->uid) return Status::Ok();
  if (initgroups(ids->name.c_str(), ids->gid) != 0) return Errno("initgroups");
  if (setgid(ids->gid) != 0) return Errno("setgid");
  if (setuid(ids->uid) != 0) return Errno("setuid");
  if (ids->uid != 0 && setuid(0) == 0) {
    return Status::Internal("privileges could be regained after setuid");
  }
  return Status::Ok();
}

}  // namespace bm
