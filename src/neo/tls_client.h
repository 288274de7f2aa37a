// TLS for the node clients (JSON-RPC over https, WebSocket over wss): peer verification on,
// against the system's trust store plus an optional CA file. Internal to src/neo.
#pragma once

#include <string>

#include <boost/asio/ssl/context.hpp>

#include "core/status.h"

namespace neosl::neo {

Status ConfigureVerifyingClient(boost::asio::ssl::context& ctx, const std::string& ca_file);

}  // namespace neosl::neo
