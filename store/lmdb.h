// Thin RAII wrappers over the LMDB C API, in the spirit of lmdbxx: an
// environment, a transaction that aborts in its destructor, a cursor, and the
// one place where LMDB return codes become Status values. MDB_NOTFOUND is a
// normal answer (false / nullopt), never an error.
//
// Internal to store/; not thread-safe beyond what LMDB itself guarantees (an
// LmdbTxn belongs to the thread that began it).
#ifndef BM_STORE_LMDB_H_
#define BM_STORE_LMDB_H_

#include <lmdb.h>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "common/status.h"

namespace bm::lmdb {

// Maps an LMDB/errno return code to a Status: MDB_MAP_FULL and
// MDB_MAP_RESIZED -> kUnavailable (the caller grows/adopts the map and
// retries), MDB_CORRUPTED/MDB_PAGE_NOTFOUND/MDB_VERSION_MISMATCH/MDB_INVALID
// -> kCorruption, anything else -> kIOError. `what` names the operation.
// REQUIRES: rc != 0 and rc != MDB_NOTFOUND.
Status ErrorStatus(int rc, std::string_view what);
// True when rc says "the map must grow / be re-read, then retry".
inline bool IsMapFull(int rc) { return rc == MDB_MAP_FULL; }
inline bool IsMapResized(int rc) { return rc == MDB_MAP_RESIZED; }

inline MDB_val ToVal(std::string_view s) {
  return MDB_val{s.size(), const_cast<char*>(s.data())};
}
inline std::string_view FromVal(const MDB_val& v) {
  return std::string_view(static_cast<const char*>(v.mv_data), v.mv_size);
}

// Big-endian 8 bytes: keys that sort numerically.
std::string EncodeU64Key(std::uint64_t v);
std::uint64_t DecodeU64Key(std::string_view key);  // REQUIRES: key.size() >= 8

class Env {
 public:
  Env() = default;
  ~Env();
  Env(const Env&) = delete;
  Env& operator=(const Env&) = delete;

  // Creates the environment. MDB_NOTLS is not set: each thread reuses its
  // reader slot, so beginning a read transaction takes no lock.
  Status Open(const std::string& dir, std::size_t map_bytes, unsigned max_dbs,
              unsigned max_readers, bool read_only);
  MDB_env* get() const { return env_; }
  // REQUIRES: no transaction of this process is active (the map is remapped).
  // 0 = adopt the size another process set.
  Status SetMapSize(std::size_t bytes);
  std::size_t MapSize() const;
  std::size_t PageSize() const;

 private:
  MDB_env* env_ = nullptr;
};

class Txn {
 public:
  // Begins a transaction; rc is returned raw so that callers can recognise
  // MDB_MAP_RESIZED.
  static int Begin(const Env& env, bool read_only, Txn* out);
  Txn() = default;
  ~Txn() { Abort(); }
  Txn(Txn&& o) noexcept : txn_(o.txn_) { o.txn_ = nullptr; }
  Txn& operator=(Txn&& o) noexcept;
  Txn(const Txn&) = delete;
  Txn& operator=(const Txn&) = delete;

  MDB_txn* get() const { return txn_; }
  // Returns the raw rc (0 = committed); the transaction is gone either way.
  int Commit();
  void Abort();

  // Raw get: rc 0 found (value set), MDB_NOTFOUND, or an error.
  int Get(MDB_dbi dbi, std::string_view key, std::string_view* value) const;
  int Put(MDB_dbi dbi, std::string_view key, std::string_view value, unsigned flags = 0);
  // MDB_NOTFOUND is returned as 0: deleting an absent key is not an error.
  int Del(MDB_dbi dbi, std::string_view key);

 private:
  MDB_txn* txn_ = nullptr;
};

// Opens (with create when the txn is writable) a named database.
int OpenDbi(const Txn& txn, const char* name, bool create, MDB_dbi* out);

class Cursor {
 public:
  static int Open(const Txn& txn, MDB_dbi dbi, Cursor* out);
  Cursor() = default;
  ~Cursor();
  Cursor(const Cursor&) = delete;
  Cursor& operator=(const Cursor&) = delete;

  // Positioning: rc 0 (key/value set), MDB_NOTFOUND at the end, or an error.
  int First(std::string_view* key, std::string_view* value);
  int Last(std::string_view* key, std::string_view* value);
  int Next(std::string_view* key, std::string_view* value);
  int Prev(std::string_view* key, std::string_view* value);
  // First entry with key >= `key`.
  int Seek(std::string_view key, std::string_view* found_key, std::string_view* value);
  // Deletes the entry under the cursor.
  int Del();

 private:
  int Op(MDB_cursor_op op, std::string_view* key, std::string_view* value);
  MDB_cursor* cursor_ = nullptr;
};

}  // namespace bm::lmdb

#endif  // BM_STORE_LMDB_H_
