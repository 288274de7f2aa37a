// Status and StatusOr: the one error currency of neosl.
//
// Codes are gRPC's canonical codes, mapped one to one onto HTTP statuses (HttpStatusFor) and
// onto the REST error body {"error":{"code":"…","message":"…","details":[…]}}. Nothing on a
// request path throws; functions that can fail return Status or StatusOr<T>.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <variant>
#include <vector>

namespace neosl {

enum class StatusCode : int {
  kOk = 0,
  kCancelled = 1,
  kUnknown = 2,
  kInvalidArgument = 3,
  kDeadlineExceeded = 4,
  kNotFound = 5,
  kAlreadyExists = 6,
  kPermissionDenied = 7,
  kResourceExhausted = 8,
  kFailedPrecondition = 9,
  kAborted = 10,
  kOutOfRange = 11,
  kUnimplemented = 12,
  kInternal = 13,
  kUnavailable = 14,
  kDataLoss = 15,
  kUnauthenticated = 16,
};

// "PERMISSION_DENIED" etc., as gRPC spells them.
std::string_view StatusCodeName(StatusCode code);
std::optional<StatusCode> StatusCodeFromName(std::string_view name);
// The HTTP status a REST caller sees for `code` (INVALID_ARGUMENT → 400, NOT_FOUND → 404 …).
int HttpStatusFor(StatusCode code);

// One structured entry of an error's `details` array: {"type": "...", field: value, ...}.
struct ErrorDetail {
  using Value = std::variant<std::string, int64_t, bool>;
  std::string type;
  std::vector<std::pair<std::string, Value>> fields;

  ErrorDetail& Add(std::string key, Value value) {
    fields.emplace_back(std::move(key), std::move(value));
    return *this;
  }
};

class [[nodiscard]] Status {
 public:
  Status() = default;  // OK
  Status(StatusCode code, std::string message);

  static Status Ok() { return Status(); }

  bool ok() const { return rep_ == nullptr; }
  StatusCode code() const { return rep_ ? rep_->code : StatusCode::kOk; }
  std::string_view message() const { return rep_ ? std::string_view(rep_->message) : ""; }
  const std::vector<ErrorDetail>& details() const;

  // Adds a structured detail; returns *this so errors read as one expression.
  Status& WithDetail(ErrorDetail detail) &;
  Status&& WithDetail(ErrorDetail detail) &&;

  // Prefixes the message with context ("loading config: …"), keeping code and details.
  Status Annotate(std::string_view context) const;

  // "NOT_FOUND: account acc_x not found"
  std::string ToString() const;

  friend bool operator==(const Status& a, const Status& b) {
    return a.code() == b.code() && a.message() == b.message();
  }

 private:
  struct Rep {
    StatusCode code;
    std::string message;
    std::vector<ErrorDetail> details;
  };
  // Copy on write keeps Status one pointer wide and cheap to return.
  std::shared_ptr<Rep> rep_;
};

// Constructors that read like the code they make.
Status CancelledError(std::string message);
Status UnknownError(std::string message);
Status InvalidArgumentError(std::string message);
Status DeadlineExceededError(std::string message);
Status NotFoundError(std::string message);
Status AlreadyExistsError(std::string message);
Status PermissionDeniedError(std::string message);
Status ResourceExhaustedError(std::string message);
Status FailedPreconditionError(std::string message);
Status AbortedError(std::string message);
Status OutOfRangeError(std::string message);
Status UnimplementedError(std::string message);
Status InternalError(std::string message);
Status UnavailableError(std::string message);
Status DataLossError(std::string message);
Status UnauthenticatedError(std::string message);
// INVALID_ARGUMENT about one request field, with the seed's FieldViolation detail (field and
// description), which the gateway shows a client as the field to fix.
Status FieldViolationError(std::string_view field, std::string message);

template <typename T>
class [[nodiscard]] StatusOr {
 public:
  // An error; constructing from an OK status is a bug and becomes INTERNAL.
  StatusOr(Status status)  // NOLINT(google-explicit-constructor)
      : v_(status.ok() ? InternalError("StatusOr built from an OK status") : std::move(status)) {}
  StatusOr(const T& value) : v_(value) {}        // NOLINT(google-explicit-constructor)
  StatusOr(T&& value) : v_(std::move(value)) {}  // NOLINT(google-explicit-constructor)
  template <typename U>
  requires(std::is_constructible_v<T, U&&> && !std::is_same_v<std::decay_t<U>, T> &&
           !std::is_same_v<std::decay_t<U>, Status> && !std::is_same_v<std::decay_t<U>, StatusOr>)
      // The constraint excludes StatusOr itself, so this cannot hide the copy or move constructor.
      // NOLINTNEXTLINE(google-explicit-constructor, bugprone-forwarding-reference-overload)
      StatusOr(U&& value)
      : v_(T(std::forward<U>(value))) {}

  bool ok() const { return v_.index() == 1; }
  Status status() const { return ok() ? Status() : std::get<0>(v_); }

  // Precondition: ok(). Checked: calling these on an error is a programming error.
  const T& value() const& { return std::get<1>(v_); }
  T& value() & { return std::get<1>(v_); }
  T&& value() && { return std::get<1>(std::move(v_)); }
  const T& operator*() const& { return value(); }
  T& operator*() & { return value(); }
  T&& operator*() && { return std::move(*this).value(); }
  const T* operator->() const { return &value(); }
  T* operator->() { return &value(); }

 private:
  std::variant<Status, T> v_;
};

namespace internal {
inline Status AsStatus(Status s) {
  return s;
}
template <typename T>
Status AsStatus(const StatusOr<T>& s) {
  return s.status();
}
}  // namespace internal

}  // namespace neosl

#define NEOSL_CONCAT_INNER_(a, b) a##b
#define NEOSL_CONCAT_(a, b) NEOSL_CONCAT_INNER_(a, b)

// Returns the error of `expr` (a Status or StatusOr) from the enclosing function.
#define RETURN_IF_ERROR(expr)                                            \
  do {                                                                   \
    ::neosl::Status neosl_status_ = ::neosl::internal::AsStatus((expr)); \
    if (!neosl_status_.ok()) return neosl_status_;                       \
  } while (0)

// `ASSIGN_OR_RETURN(auto x, Foo());` binds the value or returns the error.
// NOLINTBEGIN(bugprone-macro-parentheses): `lhs` may be a declaration (`auto x`).
#define ASSIGN_OR_RETURN(lhs, expr) ASSIGN_OR_RETURN_IMPL_(NEOSL_CONCAT_(neosl_statusor_, __LINE__), lhs, expr)
#define ASSIGN_OR_RETURN_IMPL_(tmp, lhs, expr) \
  auto tmp = (expr);                           \
  if (!tmp.ok()) return tmp.status();          \
  lhs = std::move(tmp).value()
// NOLINTEND(bugprone-macro-parentheses)
