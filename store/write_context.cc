// The record-level helpers of a write transaction (WriteContext) and the
// dictionaries (domain ids, texts) read and extended inside transactions.
#include "store/store_impl.h"

namespace bm {
namespace {

// Texts longer than this are stored inline: a dictionary key (the text) must
// stay under LMDB's 511-byte key limit, and long diagnostics rarely repeat.
constexpr std::size_t kMaxTextBytes = 255;
// The text dictionary never shrinks; past this many entries new texts are
// stored inline, which bounds it (to about 100 MB at worst).
constexpr std::uint32_t kMaxTexts = 200'000;
constexpr std::uint32_t kMaxDomains = 0xfffffff0u;

}  // namespace

std::string ExpiryKey(std::int64_t until, std::string_view name) {
  std::string key = lmdb::EncodeU64Key(static_cast<std::uint64_t>(until));
  key.append(name);
  return key;
}

Result<std::string> TxnDictionaryReader::Text(std::uint32_t id) {
  std::string_view value;
  int rc = txn_->Get(dbis_.texts, IdKey(id), &value);
  if (rc == MDB_NOTFOUND) return Status::Corruption("reference to unknown text " + std::to_string(id));
  if (rc != 0) return lmdb::ErrorStatus(rc, "get text");
  return std::string(value);
}

Result<std::string> TxnDictionaryReader::DomainName(std::uint32_t id) {
  if (id != 0 && id == last_id_) return last_name_;
  std::string_view value;
  int rc = txn_->Get(dbis_.domain_ids, IdKey(id), &value);
  if (rc == MDB_NOTFOUND) {
    return Status::Corruption("reference to unknown domain id " + std::to_string(id));
  }
  if (rc != 0) return lmdb::ErrorStatus(rc, "get domain id");
  last_id_ = id;
  last_name_.assign(value);
  return last_name_;
}

Result<std::uint32_t> TxnDictionaryReader::FindDomainId(std::string_view domain) {
  if (last_id_ != 0 && domain == last_name_) return last_id_;
  std::string_view value;
  int rc = txn_->Get(dbis_.domains, domain, &value);
  if (rc == MDB_NOTFOUND) return std::uint32_t{0};
  if (rc != 0) return lmdb::ErrorStatus(rc, "get domain");
  DomainHead head;
  Status s = DecodeDomainHead(value, &head);
  if (!s.ok()) return s;
  last_id_ = head.id;
  last_name_.assign(domain);
  return head.id;
}

Status WriteContext::Check(int rc, std::string_view what) {
  if (rc == 0) return Status::Ok();
  if (lmdb::IsMapFull(rc)) map_full_ = true;
  return lmdb::ErrorStatus(rc, what);
}

Result<std::uint32_t> WriteContext::NextId(MDB_dbi dbi, std::uint32_t* next) {
  if (*next == 0) {
    lmdb::Cursor cursor;
    Status s = Check(lmdb::Cursor::Open(*txn_, dbi, &cursor), "cursor");
    if (!s.ok()) return s;
    std::string_view key, value;
    int rc = cursor.Last(&key, &value);
    if (rc == MDB_NOTFOUND) {
      *next = 1;
    } else if (rc != 0) {
      return Check(rc, "last id");
    } else if (key.size() != kIdKeyBytes) {
      return Status::Corruption("dictionary key of " + std::to_string(key.size()) + " bytes");
    } else {
      *next = DecodeIdKey(key) + 1;
    }
  }
  return *next;
}

Result<std::uint32_t> WriteContext::TextId(std::string_view text) {
  if (text.size() > kMaxTextBytes) return std::uint32_t{0};
  std::string_view value;
  int rc = txn_->Get(dbis_.text_ids, text, &value);
  if (rc == 0) {
    if (value.size() != kIdKeyBytes) return Status::Corruption("malformed text id");
    return DecodeIdKey(value);
  }
  if (rc != MDB_NOTFOUND) return Check(rc, "get text id");
  Result<std::uint32_t> id = NextId(dbis_.texts, &next_text_id_);
  if (!id.ok()) return id.status();
  if (*id > kMaxTexts) return std::uint32_t{0};
  const std::string key = IdKey(*id);
  Status s = Check(txn_->Put(dbis_.texts, key, text, MDB_APPEND), "put text");
  if (s.ok()) s = Check(txn_->Put(dbis_.text_ids, text, key), "put text id");
  if (!s.ok()) return s;
  ++next_text_id_;
  return *id;
}

Result<std::uint32_t> WriteContext::DomainId(std::string_view domain) {
  Result<std::uint32_t> id = reader_.FindDomainId(domain);
  if (!id.ok() || *id != 0) return id;
  DomainRecord d;
  d.domain.assign(domain);
  Status s = PutDomain(d, /*was_suppressed=*/false);
  if (!s.ok()) return s;
  return d.id;
}

namespace {

// Splits a normalised address at its '@'.
Status Split(std::string_view address, std::string_view* local, std::string_view* domain) {
  const std::size_t at = address.rfind('@');
  if (at == 0 || at == std::string_view::npos) {
    std::string message = "not a normalised address: ";
    message.append(address);
    return Status::InvalidArgument(std::move(message));
  }
  *local = address.substr(0, at);
  *domain = address.substr(at + 1);
  return Status::Ok();
}

}  // namespace

Result<std::string> WriteContext::KeyOf(std::string_view address) {
  std::string_view local, domain;
  Status s = Split(address, &local, &domain);
  if (!s.ok()) return s;
  Result<std::uint32_t> id = DomainId(domain);
  if (!id.ok()) return id.status();
  return AddressKey(*id, local);
}

Result<std::optional<AddressRecord>> WriteContext::GetRecordByKey(std::string_view key) {
  std::string_view value;
  int rc = txn_->Get(dbis_.addresses, key, &value);
  if (rc == MDB_NOTFOUND) return std::optional<AddressRecord>();
  if (rc != 0) return Check(rc, "get address");
  AddressRecord rec;
  Status s = DecodeAddressRecord(key, value, *this, &rec);
  if (!s.ok()) return s;
  return std::optional<AddressRecord>(std::move(rec));
}

Result<std::optional<AddressRecord>> WriteContext::GetRecord(const std::string& address) {
  std::string_view local, domain;
  Status s = Split(address, &local, &domain);
  if (!s.ok()) return s;
  Result<std::uint32_t> id = reader_.FindDomainId(domain);
  if (!id.ok()) return id.status();
  if (*id == 0) return std::optional<AddressRecord>();
  return GetRecordByKey(AddressKey(*id, local));
}

Status WriteContext::PutRecord(const AddressRecord* before, const AddressRecord& rec) {
  Result<std::string> key = KeyOf(rec.address);
  if (!key.ok()) return key.status();
  const bool was_temporary = before != nullptr && before->state == AddressState::kSuppressedTemporary;
  const bool is_temporary = rec.state == AddressState::kSuppressedTemporary;
  if (was_temporary && (!is_temporary || before->suppressed_until != rec.suppressed_until)) {
    Status s = Check(txn_->Del(dbis_.expiry, ExpiryKey(before->suppressed_until, *key)),
                     "delete expiry entry");
    if (!s.ok()) return s;
  }
  if (is_temporary) {
    Status s = Check(txn_->Put(dbis_.expiry, ExpiryKey(rec.suppressed_until, *key), ""),
                     "put expiry entry");
    if (!s.ok()) return s;
  }
  Result<std::string> value = EncodeAddressRecord(rec, *this);
  if (!value.ok()) return value.status();
  return Check(txn_->Put(dbis_.addresses, *key, *value), "put address");
}

Result<DomainRecord> WriteContext::GetDomain(std::string_view domain) {
  std::string_view value;
  DomainRecord rec;
  int rc = txn_->Get(dbis_.domains, domain, &value);
  if (rc == MDB_NOTFOUND) {
    rec.domain.assign(domain);
    return rec;
  }
  if (rc != 0) return Check(rc, "get domain");
  Status s = DecodeDomainRecord(domain, value, &rec);
  if (!s.ok()) return s;
  return rec;
}

Status WriteContext::PutDomain(DomainRecord& d, bool was_suppressed) {
  if (d.id != 0 && d.suppressed != was_suppressed) domain_suppression_flipped_ = true;
  if (d.id == 0) {
    domain_created_ = true;
    Result<std::uint32_t> id = NextId(dbis_.domain_ids, &next_domain_id_);
    if (!id.ok()) return id.status();
    if (*id > kMaxDomains) return Status::Unavailable("no domain id left");
    Status s = Check(txn_->Put(dbis_.domain_ids, IdKey(*id), d.domain, MDB_APPEND),
                     "put domain id");
    if (!s.ok()) return s;
    ++next_domain_id_;
    d.id = *id;
  }
  return Check(txn_->Put(dbis_.domains, d.domain, EncodeDomainRecord(d)), "put domain");
}

Status WriteContext::FinishDomainGeneration() {
  if (!domain_created_ && !domain_suppression_flipped_) return Status::Ok();
  Result<DomainGeneration> gen = ReadDomainGeneration(*txn_, dbis_.meta);
  if (!gen.ok()) return gen.status();
  if (domain_created_) ++gen->creation;
  if (domain_suppression_flipped_) ++gen->suppression;
  return Check(txn_->Put(dbis_.meta, kDomainGenKey, EncodeDomainGeneration(*gen)),
               "put domain_gen");
}

Status WriteContext::AppendEvent(StoredEvent& ev) {
  ev.seq = next_seq_;
  Result<std::string> value = EncodeEvent(ev, *this);
  if (!value.ok()) return value.status();
  Status s = Check(txn_->Put(dbis_.events, lmdb::EncodeU64Key(ev.seq), *value, MDB_APPEND),
                   "append event");
  if (s.ok()) ++next_seq_;
  return s;
}

}  // namespace bm
