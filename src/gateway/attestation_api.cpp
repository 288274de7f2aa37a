// GET /v1/attestation?nonce=HEX: the enclave's evidence, bound to the caller's nonce.
#include <boost/json.hpp>

#include "core/encoding.h"
#include "gateway/routes.h"

namespace neosl::gateway {
namespace json = boost::json;

void RegisterAttestationRoute(Gateway& gateway, AttestationSource source) {
  gateway.AddRoute(Route{
      .method = "GET",
      .path = "/v1/attestation",
      .operation_id = "GetAttestation",
      .summary = "Evidence about the enclave (backend, measurement, public keys, report data binding the "
                 "nonce), signed by the quoting key; verify it with `neosl attest verify`",
      .tag = "system",
      .access = Route::Access::kPublic,
      .response = Object({{"backend", String().OneOf({"sim", "sgx"}), kRequired},
                          {"measurement", String(), kRequired},
                          {"report_data", String(), kRequired},
                          {"public_keys", Object({}).AllowAdditional(), kRequired},
                          {"timestamp_ms", Integer(), kRequired}})
                      .AllowAdditional(),
      .query = {{"nonce", "hex, 8 to 64 bytes, chosen by the verifier (fresh for each request)"}},
      .handler = [source = std::move(source)](RequestContext& ctx) -> StatusOr<Reply> {
        std::string hex;
        if (!ctx.http.QueryParam("nonce", &hex)) {
          return InvalidArgumentError("query parameter 'nonce' is required (hex, 8 to 64 bytes)")
              .WithDetail(ErrorDetail{.type = "FieldViolation"}.Add("field", "nonce").Add("description", "required"));
        }
        auto nonce = HexDecode(hex);
        if (!nonce || nonce->size() < 8 || nonce->size() > 64) {
          return InvalidArgumentError("query parameter 'nonce' must be 8 to 64 bytes of hex")
              .WithDetail(ErrorDetail{.type = "FieldViolation"}
                              .Add("field", "nonce")
                              .Add("description", "8 to 64 bytes of hex"));
        }
        ASSIGN_OR_RETURN(json::value evidence, source(*nonce));
        return Reply::Json(evidence);
      }});
}

}  // namespace neosl::gateway
