// The primitives of store/codec.cc: a Writer that appends varints, times,
// strings and text references to a value, and a Reader that takes them
// apart, checking every length. Internal to store/.
#ifndef BM_STORE_VALUE_IO_H_
#define BM_STORE_VALUE_IO_H_

#include <cstdint>
#include <string>
#include <string_view>

#include "common/status.h"
#include "store/codec.h"

namespace bm::value_io {

// Times are stored relative to 2025-06-15: current times take 4 bytes, not 5.
inline constexpr std::int64_t kTimeEpoch = 1'750'000'000;

inline std::uint64_t ZigZag(std::int64_t v) {
  return (static_cast<std::uint64_t>(v) << 1) ^ static_cast<std::uint64_t>(v >> 63);
}
inline std::int64_t UnZigZag(std::uint64_t z) {
  return static_cast<std::int64_t>(z >> 1) ^ -static_cast<std::int64_t>(z & 1);
}
// Time arithmetic modulo 2^64: defined for any value a corrupt record or an
// import holds, and WrapAdd(b, WrapSub(a, b)) == a for every a and b.
inline std::int64_t WrapSub(std::int64_t a, std::int64_t b) {
  return static_cast<std::int64_t>(static_cast<std::uint64_t>(a) - static_cast<std::uint64_t>(b));
}
inline std::int64_t WrapAdd(std::int64_t a, std::int64_t b) {
  return static_cast<std::int64_t>(static_cast<std::uint64_t>(a) + static_cast<std::uint64_t>(b));
}

class Writer {
 public:
  void Byte(std::uint8_t b) { out_.push_back(static_cast<char>(b)); }
  void Varint(std::uint64_t v) {
    while (v >= 0x80) {
      Byte(static_cast<std::uint8_t>(v | 0x80));
      v >>= 7;
    }
    Byte(static_cast<std::uint8_t>(v));
  }
  // A signed difference.
  void Delta(std::int64_t d) { Varint(ZigZag(d)); }
  void Time(std::int64_t t) { Delta(WrapSub(t, kTimeEpoch)); }
  void Bytes(std::string_view s) { out_.append(s); }
  void Str(std::string_view s) {
    Varint(s.size());
    Bytes(s);
  }
  // A text reference: varint (id << 1 | 1), or inline: varint (length << 1)
  // and the bytes. The empty text is inline (one zero byte).
  Status Text(std::string_view s, DictionaryWriter& dict) {
    if (!s.empty()) {
      Result<std::uint32_t> id = dict.TextId(s);
      if (!id.ok()) return id.status();
      if (*id != 0) {
        Varint(std::uint64_t{*id} << 1 | 1);
        return Status::Ok();
      }
    }
    Varint(std::uint64_t{s.size()} << 1);
    Bytes(s);
    return Status::Ok();
  }
  std::string Take() { return std::move(out_); }

 private:
  std::string out_;
};

// Reads a value. A dictionary failure is kept in status() so that the
// caller can tell it from a malformed value.
class Reader {
 public:
  explicit Reader(std::string_view in, DictionaryReader* dict = nullptr) : in_(in), dict_(dict) {}
  bool Byte(std::uint8_t* b) {
    if (pos_ >= in_.size()) return false;
    *b = static_cast<std::uint8_t>(in_[pos_++]);
    return true;
  }
  bool Varint(std::uint64_t* v) {
    *v = 0;
    for (int shift = 0; shift < 64; shift += 7) {
      std::uint8_t b;
      if (!Byte(&b)) return false;
      *v |= static_cast<std::uint64_t>(b & 0x7f) << shift;
      if ((b & 0x80) == 0) return true;
    }
    return false;
  }
  bool U32(std::uint32_t* v) {
    std::uint64_t x;
    if (!Varint(&x) || x > 0xffffffffu) return false;
    *v = static_cast<std::uint32_t>(x);
    return true;
  }
  bool Delta(std::int64_t* d) {
    std::uint64_t z;
    if (!Varint(&z)) return false;
    *d = UnZigZag(z);
    return true;
  }
  bool Time(std::int64_t* t) {
    if (!Delta(t)) return false;
    *t = WrapAdd(*t, kTimeEpoch);
    return true;
  }
  bool View(std::uint64_t n, std::string_view* s) {
    if (n > in_.size() - pos_) return false;
    *s = in_.substr(pos_, n);
    pos_ += n;
    return true;
  }
  bool Str(std::string* s) {
    std::uint64_t n;
    std::string_view v;
    if (!Varint(&n) || !View(n, &v)) return false;
    s->assign(v);
    return true;
  }
  // A text reference (see Writer::Text). REQUIRES: a dictionary.
  bool Text(std::string* s) {
    std::uint64_t v;
    if (!Varint(&v)) return false;
    if ((v & 1) == 0) {
      std::string_view inline_text;
      if (!View(v >> 1, &inline_text)) return false;
      s->assign(inline_text);
      return true;
    }
    if ((v >> 1) > 0xffffffffu) return false;
    Result<std::string> text = dict_->Text(static_cast<std::uint32_t>(v >> 1));
    if (!text.ok()) {
      status_ = text.status();
      return false;
    }
    *s = std::move(*text);
    return true;
  }
  bool AtEnd() const { return pos_ == in_.size(); }
  const Status& status() const { return status_; }

 private:
  std::string_view in_;
  std::size_t pos_ = 0;
  DictionaryReader* dict_;
  Status status_;
};


}  // namespace bm::value_io

#endif  // BM_STORE_VALUE_IO_H_
