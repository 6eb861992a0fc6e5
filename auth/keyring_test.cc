#include "auth/keyring.h"

#include <sys/stat.h>
#include <unistd.h>

#include <fstream>
#include <string>

#include <gtest/gtest.h>

#include "auth/test_util.h"

namespace bm {
namespace {

using testing::TempDir;

constexpr std::int64_t kNow = 1795348800;  // 2026-11-22T12:00:00Z

mode_t ModeOf(const std::string& path) {
  struct stat st {};
  EXPECT_EQ(stat(path.c_str(), &st), 0);
  return st.st_mode & 07777;
}

void WriteFile(const std::string& path, const std::string& text, mode_t mode) {
  std::ofstream(path) << text;
  ASSERT_EQ(chmod(path.c_str(), mode), 0);
}

std::string SecretHex(const SigningKey& key) {
  std::string hex;
  for (std::uint8_t b : key.secret) {
    char buf[3];
    std::snprintf(buf, sizeof buf, "%02x", b);
    hex += buf;
  }
  return hex;
}

TEST(KeyringTest, GenerateSaveLoadRoundTrip) {
  TempDir dir;
  Result<Keyring> ring = Keyring::Generate(kNow);
  ASSERT_TRUE(ring.ok());
  EXPECT_EQ(ring->current().id, 'a');
  EXPECT_FALSE(ring->previous().has_value());
  ASSERT_TRUE(ring->SaveFile(dir.File("keys"), false).ok());

  Result<Keyring> loaded = Keyring::LoadFile(dir.File("keys"));
  ASSERT_TRUE(loaded.ok()) << loaded.status().ToString();
  EXPECT_EQ(loaded->current().id, 'a');
  EXPECT_EQ(loaded->current().created, kNow);
  EXPECT_EQ(loaded->current().secret, ring->current().secret);
}

TEST(KeyringTest, TwoGeneratedKeysDiffer) {
  Result<Keyring> a = Keyring::Generate(kNow);
  Result<Keyring> b = Keyring::Generate(kNow);
  ASSERT_TRUE(a.ok() && b.ok());
  EXPECT_NE(a->current().secret, b->current().secret);
}

TEST(KeyringTest, FileIsCreated0600WhateverTheUmask) {
  TempDir dir;
  mode_t old = umask(0);
  Result<Keyring> ring = Keyring::Generate(kNow);
  Status saved = ring->SaveFile(dir.File("keys"), false);
  umask(old);
  ASSERT_TRUE(saved.ok()) << saved.ToString();
  EXPECT_EQ(ModeOf(dir.File("keys")), 0600u);
}

TEST(KeyringTest, RefusesGroupOrWorldAccessibleFiles) {
  TempDir dir;
  for (mode_t mode : {0640, 0604, 0660, 0644, 0602}) {
    WriteFile(dir.File("keys"), testing::kTwoKeyFile, mode);
    Result<Keyring> ring = Keyring::LoadFile(dir.File("keys"));
    ASSERT_FALSE(ring.ok()) << std::oct << mode;
    EXPECT_EQ(ring.status().code(), Status::Code::kInvalidArgument);
    EXPECT_NE(ring.status().message().find("chmod 600"), std::string::npos)
        << ring.status().message();
  }
  ASSERT_EQ(chmod(dir.File("keys").c_str(), 0400), 0);
  EXPECT_TRUE(Keyring::LoadFile(dir.File("keys")).ok());
}

TEST(KeyringTest, SaveDoesNotReplaceUnlessAsked) {
  TempDir dir;
  Result<Keyring> first = Keyring::Generate(kNow);
  Result<Keyring> second = Keyring::Generate(kNow);
  ASSERT_TRUE(first->SaveFile(dir.File("keys"), false).ok());
  Status again = second->SaveFile(dir.File("keys"), false);
  EXPECT_EQ(again.code(), Status::Code::kInvalidArgument);
  EXPECT_EQ(Keyring::LoadFile(dir.File("keys"))->current().secret, first->current().secret);

  ASSERT_TRUE(second->SaveFile(dir.File("keys"), true).ok());
  EXPECT_EQ(Keyring::LoadFile(dir.File("keys"))->current().secret, second->current().secret);
  // No temporary file is left behind.
  int entries = 0;
  for (const auto& e : std::filesystem::directory_iterator(dir.File(""))) {
    (void)e;
    ++entries;
  }
  EXPECT_EQ(entries, 1);
}

TEST(KeyringTest, ReplacingKeepsTheOwner) {
  if (geteuid() != 0) GTEST_SKIP() << "needs root to hand the file to another user";
  TempDir dir;
  ASSERT_TRUE(Keyring::Generate(kNow)->SaveFile(dir.File("keys"), false).ok());
  ASSERT_EQ(chown(dir.File("keys").c_str(), 65534, 65534), 0);
  ASSERT_TRUE(Keyring::Generate(kNow)->SaveFile(dir.File("keys"), true).ok());
  struct stat st {};
  ASSERT_EQ(stat(dir.File("keys").c_str(), &st), 0);
  EXPECT_EQ(st.st_uid, 65534u);
  EXPECT_EQ(st.st_gid, 65534u);
  EXPECT_EQ(st.st_mode & 07777, 0600u);
}

TEST(KeyringTest, RotateMakesNewCurrentAndKeepsOnePrevious) {
  Result<Keyring> ring = Keyring::Generate(kNow);
  Result<Keyring> once = ring->Rotated(kNow + 100);
  ASSERT_TRUE(once.ok());
  EXPECT_EQ(once->current().id, 'b');
  EXPECT_EQ(once->current().created, kNow + 100);
  ASSERT_TRUE(once->previous().has_value());
  EXPECT_EQ(once->previous()->id, 'a');
  EXPECT_EQ(once->previous()->secret, ring->current().secret);
  EXPECT_NE(once->current().secret, ring->current().secret);

  Result<Keyring> twice = once->Rotated(kNow + 200);
  EXPECT_EQ(twice->current().id, 'c');
  EXPECT_EQ(twice->previous()->id, 'b');
  EXPECT_EQ(twice->Find('a'), nullptr);
  EXPECT_EQ(twice->Find('b')->secret, once->current().secret);
  EXPECT_EQ(twice->Find('c')->secret, twice->current().secret);
}

TEST(KeyringTest, KeyIdsWrapAroundTheAlphabet) {
  std::string text = testing::kTwoKeyFile;
  text.replace(text.find("current  b"), 10, "current  7");
  Result<Keyring> ring = Keyring::Parse(text, "t");
  ASSERT_TRUE(ring.ok()) << ring.status().ToString();
  EXPECT_EQ(ring->Rotated(kNow)->current().id, 'a');
}

TEST(KeyringTest, SerializeParsesBack) {
  Result<Keyring> ring = Keyring::Generate(kNow)->Rotated(kNow + 5);
  Result<Keyring> back = Keyring::Parse(ring->Serialize(), "t");
  ASSERT_TRUE(back.ok());
  EXPECT_EQ(back->current().secret, ring->current().secret);
  EXPECT_EQ(back->previous()->secret, ring->previous()->secret);
  EXPECT_EQ(back->previous()->created, kNow);
}

TEST(KeyringTest, ParseErrorsNameTheLineAndNeverTheSecret) {
  const std::string secret = "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08";
  struct Case {
    std::string text;
    std::string expected;
  } cases[] = {
      {"current b 2026-11-01T00:00:00Z " + secret + " extra\n", "keys:1: expected"},
      {"\n# c\ncurrent B 2026-11-01T00:00:00Z " + secret + "\n", "keys:3: key id"},
      {"current b 2026-11-01 " + secret + "\n", "keys:1: bad date"},
      {"current b 2026-11-01T00:00:00Z " + secret.substr(2) + "\n", "keys:1: secret"},
      {"current b 2026-11-01T00:00:00Z " + secret.substr(1) + "x\n", "keys:1: secret"},
      {"next b 2026-11-01T00:00:00Z " + secret + "\n", "keys:1: state"},
      {"current b 2026-11-01T00:00:00Z " + secret + "\ncurrent c 2026-11-01T00:00:00Z " +
           secret + "\n",
       "keys:2: second current"},
      {"previous b 2026-11-01T00:00:00Z " + secret + "\n", "keys: no current key"},
      {"current b 2026-11-01T00:00:00Z " + secret + "\nprevious b 2026-11-01T00:00:00Z " +
           secret + "\n",
       "same id"},
  };
  for (const Case& c : cases) {
    Result<Keyring> ring = Keyring::Parse(c.text, "keys");
    ASSERT_FALSE(ring.ok()) << c.text;
    EXPECT_NE(ring.status().message().find(c.expected), std::string::npos)
        << ring.status().message();
    EXPECT_EQ(ring.status().message().find(secret.substr(8, 16)), std::string::npos);
  }
}

TEST(KeyringTest, LoadErrors) {
  TempDir dir;
  EXPECT_EQ(Keyring::LoadFile(dir.File("missing")).status().code(), Status::Code::kNotFound);
  WriteFile(dir.File("big"), std::string(5000, '#'), 0600);
  EXPECT_EQ(Keyring::LoadFile(dir.File("big")).status().code(), Status::Code::kLimitExceeded);
  ASSERT_EQ(mkdir(dir.File("dir").c_str(), 0700), 0);
  EXPECT_EQ(Keyring::LoadFile(dir.File("dir")).status().code(), Status::Code::kInvalidArgument);
}

TEST(KeyringTest, SerializedSecretIsTheKey) {
  Result<Keyring> ring = Keyring::Generate(kNow);
  EXPECT_NE(ring->Serialize().find(SecretHex(ring->current())), std::string::npos);
  EXPECT_EQ(FormatUtc(kNow), "2026-11-22T12:00:00Z");
}

}  // namespace
}  // namespace bm
