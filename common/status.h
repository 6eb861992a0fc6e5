// Status and Result<T>: errors as values across module boundaries.
//
// Every public function of parser/, rules/, store/ and milter/ that can fail
// returns a Status (no value) or a Result<T> (a value or a Status). Exceptions
// never cross a module boundary, and never reach the milter protocol code.
//
// "Not found" is not an error where absence is a normal answer (a store lookup
// of an unknown address returns an empty record, not kNotFound).
#ifndef BM_COMMON_STATUS_H_
#define BM_COMMON_STATUS_H_

#include <string>
#include <utility>
#include <variant>

namespace bm {

class Status {
 public:
  enum class Code {
    kOk,
    kInvalidArgument,  // bad input from a user or a file (syntax, value)
    kNotFound,         // a named thing (file, key, rule) does not exist
    kLimitExceeded,    // an input bound (size, depth, count) was exceeded
    kIOError,          // the operating system refused (open, read, write)
    kCorruption,       // stored data is not what we wrote
    kUnavailable,      // try again later (store busy, map full)
    kInternal,         // a bug: an invariant did not hold
  };

  Status() = default;  // OK
  static Status Ok() { return Status(); }
  static Status InvalidArgument(std::string m) { return {Code::kInvalidArgument, std::move(m)}; }
  static Status NotFound(std::string m) { return {Code::kNotFound, std::move(m)}; }
  static Status LimitExceeded(std::string m) { return {Code::kLimitExceeded, std::move(m)}; }
  static Status IOError(std::string m) { return {Code::kIOError, std::move(m)}; }
  static Status Corruption(std::string m) { return {Code::kCorruption, std::move(m)}; }
  static Status Unavailable(std::string m) { return {Code::kUnavailable, std::move(m)}; }
  static Status Internal(std::string m) { return {Code::kInternal, std::move(m)}; }

  bool ok() const { return code_ == Code::kOk; }
  Code code() const { return code_; }
  const std::string& message() const { return message_; }
  // "invalid argument: rules.conf:12: unknown key 'reson'"
  std::string ToString() const;

 private:
  Status(Code code, std::string message) : code_(code), message_(std::move(message)) {}
  Code code_ = Code::kOk;
  std::string message_;
};

// A value of type T, or the Status that explains why there is none.
// REQUIRES: status passed to the error constructor is not OK.
template <typename T>
class Result {
 public:
  Result(T value) : v_(std::move(value)) {}            // NOLINT: implicit on purpose
  Result(Status status) : v_(std::move(status)) {}     // NOLINT: implicit on purpose

  bool ok() const { return std::holds_alternative<T>(v_); }
  // The error; Status::Ok() when a value is held.
  Status status() const { return ok() ? Status::Ok() : std::get<Status>(v_); }

  // REQUIRES: ok()
  T& value() & { return std::get<T>(v_); }
  const T& value() const& { return std::get<T>(v_); }
  T&& value() && { return std::get<T>(std::move(v_)); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }

 private:
  std::variant<T, Status> v_;
};

}  // namespace bm

#endif  // BM_COMMON_STATUS_H_
