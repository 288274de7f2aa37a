#include "core/status.h"

#include <array>

namespace neosl {
namespace {

constexpr std::array<std::string_view, 17> kNames = {
    "OK",        "CANCELLED",       "UNKNOWN",           "INVALID_ARGUMENT",   "DEADLINE_EXCEEDED",
    "NOT_FOUND", "ALREADY_EXISTS",  "PERMISSION_DENIED", "RESOURCE_EXHAUSTED", "FAILED_PRECONDITION",
    "ABORTED",   "OUT_OF_RANGE",    "UNIMPLEMENTED",     "INTERNAL",           "UNAVAILABLE",
    "DATA_LOSS", "UNAUTHENTICATED",
};

const std::vector<ErrorDetail>& NoDetails() {
  static const std::vector<ErrorDetail> empty;
  return empty;
}

}  // namespace

std::string_view StatusCodeName(StatusCode code) {
  auto i = static_cast<size_t>(code);
  return i < kNames.size() ? kNames[i] : "UNKNOWN";
}

std::optional<StatusCode> StatusCodeFromName(std::string_view name) {
  for (size_t i = 0; i < kNames.size(); ++i) {
    if (kNames[i] == name) return static_cast<StatusCode>(i);
  }
  return std::nullopt;
}

int HttpStatusFor(StatusCode code) {
  // The mapping of google.rpc.Code onto HTTP used by gRPC-gateway and Google APIs.
  switch (code) {
    case StatusCode::kOk: return 200;
    case StatusCode::kCancelled: return 499;
    case StatusCode::kUnknown: return 500;
    case StatusCode::kInvalidArgument: return 400;
    case StatusCode::kDeadlineExceeded: return 504;
    case StatusCode::kNotFound: return 404;
    case StatusCode::kAlreadyExists: return 409;
    case StatusCode::kPermissionDenied: return 403;
    case StatusCode::kResourceExhausted: return 429;
    case StatusCode::kFailedPrecondition: return 400;
    case StatusCode::kAborted: return 409;
    case StatusCode::kOutOfRange: return 400;
    case StatusCode::kUnimplemented: return 501;
    case StatusCode::kInternal: return 500;
    case StatusCode::kUnavailable: return 503;
    case StatusCode::kDataLoss: return 500;
    case StatusCode::kUnauthenticated: return 401;
  }
  return 500;
}

Status::Status(StatusCode code, std::string message) {
  if (code != StatusCode::kOk) {
    rep_ = std::make_shared<Rep>(Rep{code, std::move(message), {}});
  }
}

const std::vector<ErrorDetail>& Status::details() const {
  return rep_ ? rep_->details : NoDetails();
}

Status& Status::WithDetail(ErrorDetail detail) & {
  if (rep_) {
    if (rep_.use_count() > 1) rep_ = std::make_shared<Rep>(*rep_);
    rep_->details.push_back(std::move(detail));
  }
  return *this;
}

Status&& Status::WithDetail(ErrorDetail detail) && {
  WithDetail(std::move(detail));
  return std::move(*this);
}

Status Status::Annotate(std::string_view context) const {
  if (ok()) return *this;
  Status out(code(), std::string(context) + ": " + std::string(message()));
  out.rep_->details = rep_->details;
  return out;
}

std::string Status::ToString() const {
  if (ok()) return "OK";
  std::string out(StatusCodeName(code()));
  out += ": ";
  out += message();
  return out;
}

#define NEOSL_DEFINE_ERROR_(Name, Code)                  \
  Status Name(std::string message) {                     \
    return Status(StatusCode::Code, std::move(message)); \
  }
NEOSL_DEFINE_ERROR_(CancelledError, kCancelled)
NEOSL_DEFINE_ERROR_(UnknownError, kUnknown)
NEOSL_DEFINE_ERROR_(InvalidArgumentError, kInvalidArgument)
NEOSL_DEFINE_ERROR_(DeadlineExceededError, kDeadlineExceeded)
NEOSL_DEFINE_ERROR_(NotFoundError, kNotFound)
NEOSL_DEFINE_ERROR_(AlreadyExistsError, kAlreadyExists)
NEOSL_DEFINE_ERROR_(PermissionDeniedError, kPermissionDenied)
NEOSL_DEFINE_ERROR_(ResourceExhaustedError, kResourceExhausted)
NEOSL_DEFINE_ERROR_(FailedPreconditionError, kFailedPrecondition)
NEOSL_DEFINE_ERROR_(AbortedError, kAborted)
NEOSL_DEFINE_ERROR_(OutOfRangeError, kOutOfRange)
NEOSL_DEFINE_ERROR_(UnimplementedError, kUnimplemented)
NEOSL_DEFINE_ERROR_(InternalError, kInternal)
NEOSL_DEFINE_ERROR_(UnavailableError, kUnavailable)
NEOSL_DEFINE_ERROR_(DataLossError, kDataLoss)
NEOSL_DEFINE_ERROR_(UnauthenticatedError, kUnauthenticated)
#undef NEOSL_DEFINE_ERROR_

Status FieldViolationError(std::string_view field, std::string message) {
  std::string description = message;
  return InvalidArgumentError(std::move(message))
      .WithDetail(ErrorDetail{"FieldViolation", {}}
                      .Add("field", std::string(field))
                      .Add("description", std::move(description)));
}

}  // namespace neosl
