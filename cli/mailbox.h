// Reading messages for `bouncectl ingest`: single message files, mbox files
// (mboxrd/mboxo: "From " separator lines, ">From " unescaped), Maildir
// directories (new/ and cur/) and plain directories of message files.
#ifndef BM_CLI_MAILBOX_H_
#define BM_CLI_MAILBOX_H_

#include <cstddef>
#include <functional>
#include <string>

#include "common/status.h"

namespace bm::cli {

// Called once per message: `name` says where it came from ("box.mbox#3",
// "Maildir/cur/1234.host"), `raw` is the message or why it could not be read
// (kLimitExceeded for a message over max_message_bytes, which is skipped).
using MessageFn = std::function<void(const std::string& name, const Result<std::string>& raw)>;

// Visits every message at `path` ("-" = standard input, one message or an
// mbox). Memory stays bounded by max_message_bytes per message. Errors:
// kNotFound / kIOError when the path itself cannot be read.
Status ForEachMessage(const std::string& path, std::size_t max_message_bytes, const MessageFn& fn);

}  // namespace bm::cli

#endif  // BM_CLI_MAILBOX_H_
