#include "store/lmdb.h"

#include <cerrno>
#include <cstring>

namespace bm::lmdb {

Status ErrorStatus(int rc, std::string_view what) {
  std::string message = std::string(what) + ": " + mdb_strerror(rc);
  switch (rc) {
    case MDB_MAP_FULL:
    case MDB_MAP_RESIZED:
    case MDB_READERS_FULL:
    case MDB_TXN_FULL:
      return Status::Unavailable(std::move(message));
    case MDB_CORRUPTED:
    case MDB_PAGE_NOTFOUND:
    case MDB_VERSION_MISMATCH:
    case MDB_INVALID:
    case MDB_BAD_DBI:
    case MDB_INCOMPATIBLE:
      return Status::Corruption(std::move(message));
    case ENOENT:
      return Status::NotFound(std::move(message));
    case EINVAL:
    case MDB_BAD_VALSIZE:
      return Status::InvalidArgument(std::move(message));
    default:
      return Status::IOError(std::move(message));
  }
}

std::string EncodeU64Key(std::uint64_t v) {
  std::string out(8, '\0');
  for (int i = 7; i >= 0; --i) {
    out[i] = static_cast<char>(v & 0xff);
    v >>= 8;
  }
  return out;
}

std::uint64_t DecodeU64Key(std::string_view key) {
  std::uint64_t v = 0;
  for (int i = 0; i < 8; ++i) v = (v << 8) | static_cast<unsigned char>(key[i]);
  return v;
}

Env::~Env() {
  if (env_ != nullptr) mdb_env_close(env_);
}

Status Env::Open(const std::string& dir, std::size_t map_bytes, unsigned max_dbs,
                 unsigned max_readers, bool read_only) {
  int rc = mdb_env_create(&env_);
  if (rc != 0) return ErrorStatus(rc, "mdb_env_create");
  if ((rc = mdb_env_set_maxdbs(env_, max_dbs)) != 0) return ErrorStatus(rc, "mdb_env_set_maxdbs");
  if ((rc = mdb_env_set_maxreaders(env_, max_readers)) != 0) {
    return ErrorStatus(rc, "mdb_env_set_maxreaders");
  }
  if ((rc = mdb_env_set_mapsize(env_, map_bytes)) != 0) {
    return ErrorStatus(rc, "mdb_env_set_mapsize");
  }
  unsigned flags = read_only ? MDB_RDONLY : 0;
  rc = mdb_env_open(env_, dir.c_str(), flags, 0640);
  if (rc != 0) {
    mdb_env_close(env_);
    env_ = nullptr;
    return ErrorStatus(rc, "open " + dir);
  }
  // Another process may have grown the map past map_bytes: adopt its size.
  if ((rc = mdb_env_set_mapsize(env_, 0)) != 0) return ErrorStatus(rc, "mdb_env_set_mapsize");
  return Status::Ok();
}

Status Env::SetMapSize(std::size_t bytes) {
  int rc = mdb_env_set_mapsize(env_, bytes);
  return rc == 0 ? Status::Ok() : ErrorStatus(rc, "mdb_env_set_mapsize");
}

std::size_t Env::MapSize() const {
  MDB_envinfo info;
  mdb_env_info(env_, &info);
  return info.me_mapsize;
}

std::size_t Env::PageSize() const {
  MDB_stat st;
  mdb_env_stat(env_, &st);
  return st.ms_psize;
}

int Txn::Begin(const Env& env, bool read_only, Txn* out) {
  out->Abort();
  return mdb_txn_begin(env.get(), nullptr, read_only ? MDB_RDONLY : 0, &out->txn_);
}

Txn& Txn::operator=(Txn&& o) noexcept {
  if (this != &o) {
    Abort();
    txn_ = o.txn_;
    o.txn_ = nullptr;
  }
  return *this;
}

int Txn::Commit() {
  MDB_txn* t = txn_;
  txn_ = nullptr;
  return mdb_txn_commit(t);
}

void Txn::Abort() {
  if (txn_ != nullptr) mdb_txn_abort(txn_);
  txn_ = nullptr;
}

int Txn::Get(MDB_dbi dbi, std::string_view key, std::string_view* value) const {
  MDB_val k = ToVal(key);
  MDB_val v;
  int rc = mdb_get(txn_, dbi, &k, &v);
  if (rc == 0) *value = FromVal(v);
  return rc;
}

int Txn::Put(MDB_dbi dbi, std::string_view key, std::string_view value, unsigned flags) {
  MDB_val k = ToVal(key);
  MDB_val v = ToVal(value);
  return mdb_put(txn_, dbi, &k, &v, flags);
}

int Txn::Del(MDB_dbi dbi, std::string_view key) {
  MDB_val k = ToVal(key);
  int rc = mdb_del(txn_, dbi, &k, nullptr);
  return rc == MDB_NOTFOUND ? 0 : rc;
}

int OpenDbi(const Txn& txn, const char* name, bool create, MDB_dbi* out) {
  return mdb_dbi_open(txn.get(), name, create ? MDB_CREATE : 0, out);
}

int Cursor::Open(const Txn& txn, MDB_dbi dbi, Cursor* out) {
  return mdb_cursor_open(txn.get(), dbi, &out->cursor_);
}

Cursor::~Cursor() {
  if (cursor_ != nullptr) mdb_cursor_close(cursor_);
}

int Cursor::Op(MDB_cursor_op op, std::string_view* key, std::string_view* value) {
  MDB_val k{0, nullptr};
  MDB_val v{0, nullptr};
  if (op == MDB_SET_RANGE) k = ToVal(*key);
  int rc = mdb_cursor_get(cursor_, &k, &v, op);
  if (rc == 0) {
    *key = FromVal(k);
    *value = FromVal(v);
  }
  return rc;
}

int Cursor::First(std::string_view* key, std::string_view* value) { return Op(MDB_FIRST, key, value); }
int Cursor::Last(std::string_view* key, std::string_view* value) { return Op(MDB_LAST, key, value); }
int Cursor::Next(std::string_view* key, std::string_view* value) { return Op(MDB_NEXT, key, value); }
int Cursor::Prev(std::string_view* key, std::string_view* value) { return Op(MDB_PREV, key, value); }

int Cursor::Seek(std::string_view key, std::string_view* found_key, std::string_view* value) {
  *found_key = key;
  return Op(MDB_SET_RANGE, found_key, value);
}

int Cursor::Del() { return mdb_cursor_del(cursor_, 0); }

}  // namespace bm::lmdb
