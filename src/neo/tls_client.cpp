#include "neo/tls_client.h"

namespace neosl::neo {

Status ConfigureVerifyingClient(boost::asio::ssl::context& ctx, const std::string& ca_file) {
  boost::system::error_code ec;
  ctx.set_default_verify_paths(ec);  // a missing system store is not fatal when a CA file is given
  if (!ca_file.empty()) {
    ctx.load_verify_file(ca_file, ec);
    if (ec) return InvalidArgumentError("loading CA file " + ca_file + ": " + ec.message());
  }
  ctx.set_verify_mode(boost::asio::ssl::verify_peer);
  return Status();
}

}  // namespace neosl::neo
