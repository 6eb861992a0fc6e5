#include "parser/mime_prescan.h"

#include <gtest/gtest.h>

#include <string>

namespace bm {
namespace {

std::string Nested(int levels) {
  std::string open, close;
  for (int i = 0; i < levels; ++i) {
    const std::string b = "b" + std::to_string(i);
    open += "Content-Type: multipart/mixed; boundary=\"" + b + "\"\n\n--" + b + "\n";
    close = "--" + b + "--\n" + close;
  }
  return open + "Content-Type: text/plain\n\nx\n" + close;
}

TEST(MimePrescanTest, CountsNestingDepth) {
  EXPECT_EQ(PrescanMime(Nested(5), 100, 100).max_depth, 5);
}

TEST(MimePrescanTest, SiblingsDoNotAddDepth) {
  std::string m = "Content-Type: multipart/mixed; boundary=outer\n\n";
  for (int i = 0; i < 10; ++i) {
    const std::string b = "in" + std::to_string(i);
    m += "--outer\nContent-Type: multipart/alternative;\n boundary=" + b + "\n\n--" + b +
         "\nContent-Type: text/plain\n\nx\n--" + b + "--\n";
  }
  m += "--outer--\n";
  MimeShape s = PrescanMime(m, 100, 1000);
  EXPECT_EQ(s.max_depth, 2);
  EXPECT_EQ(s.parts, 20u);
}

TEST(MimePrescanTest, StopsEarlyOnDeepNesting) {
  MimeShape s = PrescanMime(Nested(10000), 32, 2000);
  EXPECT_GT(s.max_depth, 32);
  EXPECT_LE(s.max_depth, 33);
}

TEST(MimePrescanTest, EmbeddedMessagesCount) {
  std::string m = "Content-Type: message/rfc822\n\nContent-Type: message/rfc822\n\nSubject: x\n\nbody\n";
  EXPECT_EQ(PrescanMime(m, 10, 10).max_depth, 2);
}

}  // namespace
}  // namespace bm
