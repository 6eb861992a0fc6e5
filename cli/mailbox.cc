#include "cli/mailbox.h"

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <sstream>
#include <vector>

#include "common/file_util.h"

namespace bm::cli {
namespace {

namespace fs = std::filesystem;

bool IsFromLine(const std::string& line) { return line.rfind("From ", 0) == 0; }

// Reads one line (without its LF) keeping at most `max` bytes of it; the
// rest of an overlong line is consumed and dropped. False at end of input.
bool ReadLineBounded(std::istream& in, std::string* line, std::size_t max, bool* overlong) {
  line->clear();
  *overlong = false;
  std::streambuf* buf = in.rdbuf();
  for (;;) {
    int c = buf->sbumpc();
    if (c == std::char_traits<char>::eof()) return !line->empty() || *overlong;
    if (c == '\n') return true;
    if (line->size() < max) {
      line->push_back(static_cast<char>(c));
    } else {
      *overlong = true;
    }
  }
}

void ReadMbox(std::istream& in, const std::string& name, std::size_t max_bytes, const MessageFn& fn) {
  std::string line, message;
  bool in_message = false, too_big = false, previous_blank = true;
  std::size_t index = 0;
  auto finish = [&] {
    if (!in_message) return;
    const std::string id = name + "#" + std::to_string(index);
    if (too_big) {
      fn(id, Status::LimitExceeded("message larger than " + std::to_string(max_bytes) + " bytes"));
    } else {
      fn(id, message);
    }
    message.clear();
    too_big = false;
  };
  bool overlong = false;
  while (ReadLineBounded(in, &line, max_bytes + 1, &overlong)) {
    if (IsFromLine(line) && previous_blank) {
      finish();
      in_message = true;
      ++index;
      previous_blank = false;
      continue;
    }
    previous_blank = line.empty() || line == "\r";
    if (!in_message || too_big) continue;
    // mboxrd: one '>' is removed from ">From ", ">>From ", ...
    std::size_t quotes = line.find_first_not_of('>');
    std::string_view text = line;
    if (quotes != std::string::npos && quotes > 0 && line.compare(quotes, 5, "From ") == 0) {
      text.remove_prefix(1);
    }
    if (overlong || message.size() + text.size() + 1 > max_bytes) {
      too_big = true;
      message.clear();
      continue;
    }
    message.append(text);
    message.push_back('\n');
  }
  finish();
}

bool LooksLikeMbox(std::istream& in) {
  char head[5];
  in.read(head, 5);
  const bool mbox = in.gcount() == 5 && std::string_view(head, 5) == "From ";
  in.clear();
  in.seekg(0);
  return mbox;
}

std::vector<fs::path> SortedFiles(const fs::path& dir) {
  std::vector<fs::path> files;
  std::error_code ec;
  for (const fs::directory_entry& e : fs::directory_iterator(dir, ec)) {
    if (e.is_regular_file(ec) && e.path().filename().string()[0] != '.') files.push_back(e.path());
  }
  std::sort(files.begin(), files.end());
  return files;
}

Status ReadFileMessages(const std::string& path, std::size_t max_bytes, const MessageFn& fn) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return Status::NotFound("cannot open " + path);
  if (LooksLikeMbox(in)) {
    ReadMbox(in, path, max_bytes, fn);
    return in.bad() ? Status::IOError("read error in " + path) : Status::Ok();
  }
  in.close();
  fn(path, ReadFileBounded(path, max_bytes));
  return Status::Ok();
}

}  // namespace

Status ForEachMessage(const std::string& path, std::size_t max_message_bytes, const MessageFn& fn) {
  if (path == "-") {
    Result<std::string> raw = ReadFileBounded("-", max_message_bytes);
    if (raw.ok() && raw->rfind("From ", 0) == 0) {
      std::istringstream in(*raw);
      ReadMbox(in, "<stdin>", max_message_bytes, fn);
    } else {
      fn("<stdin>", raw);
    }
    return Status::Ok();
  }
  std::error_code ec;
  const fs::path p(path);
  if (!fs::exists(p, ec)) return Status::NotFound(path + ": no such file or directory");
  if (!fs::is_directory(p, ec)) return ReadFileMessages(path, max_message_bytes, fn);
  const bool maildir = fs::is_directory(p / "cur", ec) || fs::is_directory(p / "new", ec);
  std::vector<fs::path> files;
  if (maildir) {
    for (const char* sub : {"new", "cur"}) {
      std::vector<fs::path> part = SortedFiles(p / sub);
      files.insert(files.end(), part.begin(), part.end());
    }
  } else {
    files = SortedFiles(p);
  }
  for (const fs::path& f : files) {
    // Inside Maildir every file is one message; elsewhere a file may be an mbox.
    if (maildir) {
      fn(f.string(), ReadFileBounded(f.string(), max_message_bytes));
    } else {
      Status s = ReadFileMessages(f.string(), max_message_bytes, fn);
      if (!s.ok()) fn(f.string(), s);
    }
  }
  return Status::Ok();
}

}  // namespace bm::cli
