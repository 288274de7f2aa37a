#include "mesh/context.h"

#include "core/encoding.h"
#include "neosl/common/v1/status.pb.h"
#include <grpcpp/support/status.h>

namespace neosl::mesh {
namespace {

thread_local const CallContext* t_current = nullptr;

bool IsLowerHex(std::string_view s) {
  for (char c : s) {
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
  }
  return true;
}

std::string RandomHex(RandomSource& random, size_t bytes) {
  uint8_t buf[16];
  random.Fill(std::span<uint8_t>(buf, bytes));
  return HexEncode(std::span<const uint8_t>(buf, bytes));
}

}  // namespace

std::optional<std::chrono::milliseconds> CallContext::Remaining() const {
  if (!deadline) return std::nullopt;
  auto left = std::chrono::duration_cast<std::chrono::milliseconds>(*deadline - std::chrono::system_clock::now());
  return std::max(left, std::chrono::milliseconds(0));
}

std::string CallContext::Traceparent() const {
  return "00-" + trace_id + "-" + span_id + "-01";
}

const CallContext* CurrentCall() {
  return t_current;
}

ScopedCall::ScopedCall(const CallContext* call)
    : previous_(t_current), trace_(call ? std::string_view(call->trace_id) : log::CurrentTraceId()) {
  t_current = call;
}

ScopedCall::~ScopedCall() {
  t_current = previous_;
}

bool IsTraceId(std::string_view s) {
  return s.size() == 32 && IsLowerHex(s) && s != std::string_view("00000000000000000000000000000000");
}

std::string TraceIdFromTraceparent(std::string_view tp) {
  if (tp.size() < 55 || tp[2] != '-' || tp[35] != '-' || tp[52] != '-') return {};
  std::string_view version = tp.substr(0, 2), trace = tp.substr(3, 32);
  if (!IsLowerHex(version) || version == "ff" || !IsTraceId(trace)) return {};
  if (!IsLowerHex(tp.substr(36, 16)) || !IsLowerHex(tp.substr(53, 2))) return {};
  if (version == "00" && tp.size() != 55) return {};  // version 00 has no extra fields
  return std::string(trace);
}

std::string NewTraceId(RandomSource& random) {
  return RandomHex(random, 16);
}

std::string NewSpanId(RandomSource& random) {
  return RandomHex(random, 8);
}

grpc::Status ToGrpcStatus(const Status& status) {
  if (status.ok()) return grpc::Status::OK;
  common::v1::Status proto;
  proto.set_code(int32_t(status.code()));
  proto.set_message(std::string(status.message()));
  for (const ErrorDetail& d : status.details()) {
    auto* detail = proto.add_details();
    detail->set_type(d.type);
    for (const auto& [key, value] : d.fields) {
      auto* field = detail->add_fields();
      field->set_key(key);
      if (const auto* s = std::get_if<std::string>(&value)) {
        field->set_string_value(*s);
      } else if (const auto* i = std::get_if<int64_t>(&value)) {
        field->set_int_value(*i);
      } else {
        field->set_bool_value(std::get<bool>(value));
      }
    }
  }
  return grpc::Status(grpc::StatusCode(int(status.code())), std::string(status.message()), proto.SerializeAsString());
}

Status FromGrpcStatus(const grpc::Status& status) {
  if (status.ok()) return Status();
  int code = int(status.error_code());
  if (code < 1 || code > 16) code = int(StatusCode::kUnknown);
  Status out(StatusCode(code), status.error_message());
  common::v1::Status proto;
  if (!status.error_details().empty() && proto.ParseFromString(status.error_details())) {
    for (const auto& d : proto.details()) {
      ErrorDetail detail{d.type(), {}};
      for (const auto& f : d.fields()) {
        switch (f.value_case()) {
          case common::v1::DetailField::kStringValue: detail.Add(f.key(), f.string_value()); break;
          case common::v1::DetailField::kIntValue: detail.Add(f.key(), f.int_value()); break;
          case common::v1::DetailField::kBoolValue: detail.Add(f.key(), f.bool_value()); break;
          case common::v1::DetailField::VALUE_NOT_SET: break;
        }
      }
      out.WithDetail(std::move(detail));
    }
  }
  return out;
}

}  // namespace neosl::mesh
