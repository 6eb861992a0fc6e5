// Process set-up of the daemon: detaching, the pid file, the unix socket's
// owner and mode, and dropping root privileges. Each returns a Status naming
// what failed; none logs.
//
// SECURITY: the daemon starts as root only to create its socket (and pid and
// log files); DropPrivileges() is called before the first connection is
// served and before the store is opened.
#ifndef BM_MILTER_PROCESS_H_
#define BM_MILTER_PROCESS_H_

#include <string>
#include <string_view>

#include "common/status.h"

namespace bm {

// fork + setsid + chdir("/") + stdin/stdout/stderr to /dev/null (unless
// keep_stderr). The parent exits 0 in the child's stead.
Status Daemonize(bool keep_stderr);

Status WritePidFile(const std::string& path);

// For a unix:/local: socket spec, chown()s the socket file to owner
// ("user[:group]"; empty = unchanged) and chmod()s it to mode. No-op for
// inet sockets.
Status SetSocketPermissions(std::string_view socket_spec, const std::string& owner,
                            unsigned mode);

// For a unix:/local: socket spec, removes the socket file at exit when it is
// still there and still a socket. Already gone is OK. No-op for inet sockets.
Status RemoveUnixSocket(std::string_view socket_spec);

// "user" or "user:group": setgroups/initgroups, setgid, setuid, and a check
// that root cannot be regained. Empty spec: no change.
Status DropPrivileges(const std::string& user_spec);

}  // namespace bm

#endif  // BM_MILTER_PROCESS_H_
