#include "tee/tls_relay.h"

#include "tee/http1.h"
#include "tee/relay_stream.h"

namespace neosl::tee {

struct EnclaveTlsClient::Impl {
  Impl(TlsClientOptions o, ByteRelay& r) : options(std::move(o)), relay(r) {}

  TlsClientOptions options;
  ByteRelay& relay;
  std::unique_ptr<TlsConnector> tls;  // immutable after Create, so shared by concurrent Fetches
};

EnclaveTlsClient::EnclaveTlsClient(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
EnclaveTlsClient::~EnclaveTlsClient() = default;

StatusOr<std::unique_ptr<EnclaveTlsClient>> EnclaveTlsClient::Create(TlsClientOptions options, ByteRelay& relay) {
  auto impl = std::make_unique<Impl>(std::move(options), relay);
  ASSIGN_OR_RETURN(impl->tls, TlsConnector::Create(impl->options.ca_file, impl->options.ca_pem));
  return std::unique_ptr<EnclaveTlsClient>(new EnclaveTlsClient(std::move(impl)));
}

StatusOr<HttpsResponse> EnclaveTlsClient::Fetch(const HttpsRequest& request) {
  const auto deadline = RelayDeadline::After(request.timeout);
  // Messages never repeat the URL: its path or query may carry a key.
  if (http1::Lower(std::string_view(request.url).substr(0, 8)) != "https://") {
    return InvalidArgumentError("only https:// URLs can be fetched");
  }
  ASSIGN_OR_RETURN(http1::Url url, http1::ParseUrl(request.url));
  RETURN_IF_ERROR(http1::ValidateHeaders(request.headers));
  WipedString wire;
  RETURN_IF_ERROR(http1::WriteRequest(request.method, url, request.headers, request.body, "neosl-enclave", wire.get()));

  ASSIGN_OR_RETURN(std::unique_ptr<RelayStream> stream, impl_->tls->Connect(impl_->relay, url, deadline));
  http1::ResponseReader reader(url.host, {.head_request = request.method == "HEAD",
                                          .max_body_bytes = impl_->options.max_response_bytes,
                                          .max_header_bytes = impl_->options.max_header_bytes});
  ASSIGN_OR_RETURN(http1::Response response, Exchange(*stream, wire.get(), reader));
  return HttpsResponse{
      .status = response.status, .headers = std::move(response.headers), .body = std::move(response.body)};
}

}  // namespace neosl::tee
