#include "neo/rpc_client.h"

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <charconv>
#include <mutex>
#include <optional>
#include <thread>

#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/address.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>
#include <boost/json/serialize.hpp>
#include <sys/socket.h>

#include "core/log.h"
#include "neo/tls_client.h"

namespace neosl::neo {
namespace net = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace ssl = net::ssl;
namespace json = boost::json;
using tcp = net::ip::tcp;
using error_code = boost::system::error_code;
using SteadyTime = std::chrono::steady_clock::time_point;

StatusOr<EndpointUrl> ParseEndpointUrl(std::string_view url) {
  EndpointUrl out;
  auto sep = url.find("://");
  if (sep == std::string_view::npos) return InvalidArgumentError("URL has no scheme: " + std::string(url));
  std::string scheme(url.substr(0, sep));
  std::transform(scheme.begin(), scheme.end(), scheme.begin(), [](unsigned char c) { return std::tolower(c); });
  out.scheme = scheme;
  if (scheme == "http" || scheme == "ws") {
    out.port = "80";
  } else if (scheme == "https" || scheme == "wss") {
    out.tls = true;
    out.port = "443";
  } else {
    return InvalidArgumentError("unsupported URL scheme '" + scheme + "' (want http, https, ws or wss)");
  }
  std::string_view rest = url.substr(sep + 3);
  auto slash = rest.find('/');
  std::string_view authority = rest.substr(0, slash);
  if (slash != std::string_view::npos) out.target = std::string(rest.substr(slash));
  if (authority.find('@') != std::string_view::npos) {
    return InvalidArgumentError("credentials in the URL are not supported");
  }
  std::string_view port;
  if (!authority.empty() && authority.front() == '[') {  // [IPv6]:port
    auto close = authority.find(']');
    if (close == std::string_view::npos) return InvalidArgumentError("unterminated IPv6 address in URL");
    out.host = std::string(authority.substr(1, close - 1));
    std::string_view after = authority.substr(close + 1);
    if (!after.empty() && after.front() == ':') port = after.substr(1);
  } else {
    auto colon = authority.rfind(':');
    out.host = std::string(authority.substr(0, colon));
    if (colon != std::string_view::npos) port = authority.substr(colon + 1);
  }
  if (out.host.empty()) return InvalidArgumentError("URL has no host: " + std::string(url));
  if (!port.empty()) {
    unsigned value = 0;
    auto [end, ec] = std::from_chars(port.data(), port.data() + port.size(), value);
    if (ec != std::errc() || end != port.data() + port.size() || value == 0 || value > 65535) {
      return InvalidArgumentError("bad port in URL: " + std::string(port));
    }
    out.port = std::string(port);
  }
  return out;
}

json::array ContractParamsJson(std::span<const ContractParam> params) {
  json::array out;
  for (const auto& p : params) out.push_back(ContractParamToJson(p));
  return out;
}

StatusOr<UInt256> RelayTransaction(RpcClient& rpc, const Transaction& tx) {
  ASSIGN_OR_RETURN(UInt256 hash, rpc.SendRawTransaction(tx.Encode()));
  if (hash != tx.hash()) {
    return DataLossError("the node reports hash " + hash.ToString() + " for transaction " + tx.hash().ToString());
  }
  return hash;
}

StatusOr<int64_t> NodeNetworkFee(RpcClient& rpc, const Transaction& tx) {
  return rpc.CalculateNetworkFee(tx.Encode());
}

json::value RpcSigner::ToJson() const {
  json::object o;
  o["account"] = account.ToString();
  o["scopes"] = scopes;
  if (!allowed_contracts.empty()) {
    json::array a;
    for (const auto& c : allowed_contracts) a.emplace_back(c.ToString());
    o["allowedcontracts"] = std::move(a);
  }
  if (!allowed_groups.empty()) {
    json::array a;
    for (const auto& g : allowed_groups) a.emplace_back(g);
    o["allowedgroups"] = std::move(a);
  }
  return o;
}

namespace {

struct HttpResponse {
  unsigned status = 0;
  std::string body;
};

// The outcome of one attempt at a call.
struct Attempt {
  std::optional<HttpResponse> response;
  Status error;
  bool maybe_sent = false;  // the request may have reached the node
  bool transport = false;   // failed below HTTP (refused, reset, timed out): worth retrying
};

bool IsTimeout(const error_code& ec) {
  return ec == beast::error::timeout || ec == net::error::timed_out || ec == net::error::operation_aborted;
}

// Beast's HTTP parser errors other than a stream ending early mean the node sent garbage.
bool IsProtocolError(const error_code& ec) {
  return ec.category() == http::make_error_code(http::error::bad_version).category() &&
         ec != http::error::end_of_stream && ec != http::error::partial_message;
}

}  // namespace

struct HttpRpcClient::Impl {
  HttpRpcClientOptions opts;
  EndpointUrl url;
  std::string host_header;
  const Clock& clock;
  RandomSource& random;

  std::mutex mu;  // one call at a time on the one connection
  net::io_context ioc;
  std::optional<ssl::context> tls;
  std::optional<beast::tcp_stream> plain;
  std::optional<beast::ssl_stream<beast::tcp_stream>> secure;
  beast::flat_buffer buffer;
  uint64_t next_id = 1;
  std::atomic<int> connections{0};

  Impl(HttpRpcClientOptions o, EndpointUrl u, const Clock& c, RandomSource& r)
      : opts(std::move(o)), url(std::move(u)), clock(c), random(r) {}

  std::string Where() const { return url.host + ":" + url.port; }
  bool Connected() const { return plain.has_value() || secure.has_value(); }
  beast::tcp_stream& Lowest() { return plain ? *plain : beast::get_lowest_layer(*secure); }

  // Every operation is bounded by tcp_stream's expiry (or the resolve timer), so this returns.
  void RunIo() {
    ioc.restart();
    ioc.run();
  }

  void Close() {
    if (Connected()) {
      error_code ignored;
      Lowest().socket().shutdown(tcp::socket::shutdown_both, ignored);
      Lowest().socket().close(ignored);
    }
    secure.reset();
    plain.reset();
    buffer.clear();
  }

  // A kept-alive connection the node closed while idle would fail the next request after it
  // was written; peek first so that a stale connection is replaced before anything is sent.
  bool LooksAlive() {
    if (buffer.size() > 0) return false;
    char byte = 0;
    ssize_t n = ::recv(Lowest().socket().native_handle(), &byte, 1, MSG_PEEK | MSG_DONTWAIT);
    if (n < 0) return errno == EAGAIN || errno == EWOULDBLOCK;
    return false;  // 0: closed by the node; >0: unsolicited bytes (a TLS alert, garbage)
  }

  Status Connect(SteadyTime deadline) {
    tcp::resolver resolver(ioc);
    net::steady_timer timer(ioc, deadline);
    error_code ec;
    bool timed_out = false;
    tcp::resolver::results_type endpoints;
    resolver.async_resolve(url.host, url.port, [&](error_code e, tcp::resolver::results_type r) {
      ec = e;
      endpoints = std::move(r);
      timer.cancel();
    });
    timer.async_wait([&](error_code e) {
      if (!e) {
        timed_out = true;
        resolver.cancel();
      }
    });
    RunIo();
    if (timed_out) return DeadlineExceededError("resolving " + url.host + ": timed out");
    if (ec) return UnavailableError("resolving " + url.host + ": " + ec.message());

    connections.fetch_add(1);
    if (url.tls) {
      secure.emplace(ioc, *tls);
      // SNI, and the certificate must name the host we asked for.
      SSL_set_tlsext_host_name(secure->native_handle(), url.host.c_str());
      secure->set_verify_callback(ssl::host_name_verification(url.host));
    } else {
      plain.emplace(ioc);
    }
    Lowest().expires_at(deadline);
    Lowest().async_connect(endpoints, [&](error_code e, const tcp::endpoint&) { ec = e; });
    RunIo();
    if (!ec && secure) {
      Lowest().expires_at(deadline);
      secure->async_handshake(ssl::stream_base::client, [&](error_code e) { ec = e; });
      RunIo();
      if (ec && !IsTimeout(ec)) {
        Close();
        return UnavailableError("TLS handshake with " + Where() + ": " + ec.message());
      }
    }
    if (ec) {
      Close();
      if (IsTimeout(ec)) return DeadlineExceededError("connecting to " + Where() + ": timed out");
      return UnavailableError("connecting to " + Where() + ": " + ec.message());
    }
    return Status::Ok();
  }

  template <typename Stream>
  error_code WriteRead(Stream& stream, http::request<http::string_body>& req,
                       http::response_parser<http::string_body>& parser, SteadyTime deadline) {
    error_code ec;
    Lowest().expires_at(deadline);
    http::async_write(stream, req, [&](error_code e, size_t) { ec = e; });
    RunIo();
    if (ec) return ec;
    Lowest().expires_at(deadline);
    http::async_read(stream, buffer, parser, [&](error_code e, size_t) { ec = e; });
    RunIo();
    return ec;
  }

  Attempt Once(const std::string& body, std::chrono::milliseconds budget) {
    Attempt a;
    // Asio's timers run on the real steady clock; the budget comes from the injected one.
    SteadyTime deadline = std::chrono::steady_clock::now() + budget;
    if (Connected() && !LooksAlive()) Close();
    if (!Connected()) {
      a.error = Connect(deadline);
      if (!a.error.ok()) {
        a.transport = true;
        return a;
      }
    }
    http::request<http::string_body> req{http::verb::post, url.target, 11};
    req.set(http::field::host, host_header);
    req.set(http::field::user_agent, "neosl");
    req.set(http::field::content_type, "application/json");
    req.set(http::field::accept, "application/json");
    req.keep_alive(true);
    req.body() = body;
    req.prepare_payload();
    http::response_parser<http::string_body> parser;
    parser.body_limit(opts.max_response_bytes);
    a.maybe_sent = true;  // from the first byte written, the node may act on the request
    error_code ec = secure ? WriteRead(*secure, req, parser, deadline) : WriteRead(*plain, req, parser, deadline);
    if (ec) {
      Close();
      if (ec == http::error::body_limit) {
        a.error = ResourceExhaustedError("response from " + Where() + " exceeds " +
                                         std::to_string(opts.max_response_bytes) + " bytes");
      } else if (IsProtocolError(ec)) {
        a.error = InternalError("malformed HTTP response from " + Where() + ": " + ec.message());
      } else {
        a.transport = true;
        a.error = IsTimeout(ec) ? DeadlineExceededError("request to " + Where() + ": timed out")
                                : UnavailableError("request to " + Where() + ": " + ec.message());
      }
      return a;
    }
    auto res = parser.release();
    if (!res.keep_alive()) Close();
    a.response = HttpResponse{res.result_int(), std::move(res.body())};
    return a;
  }

  std::chrono::milliseconds Backoff(int attempt) {
    int64_t base = std::max<int64_t>(opts.initial_backoff.count(), 1);
    for (int i = 1; i < attempt && base < opts.max_backoff.count(); ++i) base *= 2;
    base = std::min<int64_t>(base, std::max<int64_t>(opts.max_backoff.count(), 1));
    int64_t half = base / 2;  // wait at least half the base, the rest is random
    int64_t jitter = static_cast<int64_t>(random.NextU64() % static_cast<uint64_t>(half + 1));
    return std::chrono::milliseconds(base - half + jitter);
  }
};

namespace {

// The JSON-RPC answer inside an HTTP response. `*gateway` is set for a proxy's 502/503/504.
StatusOr<json::value> Interpret(const HttpResponse& res, const std::string& where, bool* gateway) {
  *gateway = false;
  auto parsed = ParseRpcResponse(res.body);
  if (res.status / 100 == 2 || NeoRpcErrorCode(parsed.status()).has_value()) return parsed;
  std::string what = "HTTP " + std::to_string(res.status) + " from " + where;
  switch (res.status) {
    case 401: return UnauthenticatedError(what);
    case 403: return PermissionDeniedError(what);
    case 404: return NotFoundError(what + ": no JSON-RPC endpoint at this path");
    case 429: return ResourceExhaustedError(what);
    case 502:
    case 503:
    case 504: *gateway = true; return UnavailableError(what);
    default: return UnknownError(what);
  }
}

}  // namespace

HttpRpcClient::HttpRpcClient(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
HttpRpcClient::~HttpRpcClient() {
  std::lock_guard lock(impl_->mu);
  impl_->Close();
}

StatusOr<std::unique_ptr<HttpRpcClient>> HttpRpcClient::Create(HttpRpcClientOptions options, const Clock& clock,
                                                               RandomSource& random) {
  ASSIGN_OR_RETURN(EndpointUrl url, ParseEndpointUrl(options.url));
  if (url.scheme != "http" && url.scheme != "https") {
    return InvalidArgumentError("JSON-RPC over HTTP needs an http(s) URL");
  }
  if (options.max_attempts < 1) return InvalidArgumentError("max_attempts must be at least 1");
  if (!options.sleep) options.sleep = [](std::chrono::milliseconds d) { std::this_thread::sleep_for(d); };
  auto impl = std::make_unique<Impl>(std::move(options), std::move(url), clock, random);
  bool default_port = impl->url.port == (impl->url.tls ? "443" : "80");
  bool ipv6 = impl->url.host.find(':') != std::string::npos;
  impl->host_header = (ipv6 ? "[" + impl->url.host + "]" : impl->url.host) + (default_port ? "" : ":" + impl->url.port);
  if (impl->url.tls) {
    impl->tls.emplace(ssl::context::tls_client);
    RETURN_IF_ERROR(ConfigureVerifyingClient(*impl->tls, impl->opts.ca_file));
  }
  return std::unique_ptr<HttpRpcClient>(new HttpRpcClient(std::move(impl)));
}

int HttpRpcClient::connections_opened() const {
  return impl_->connections.load();
}

StatusOr<json::value> HttpRpcClient::Call(std::string_view method, json::array params, bool idempotent) {
  ChainReadCache* cache = impl_->opts.cache.get();
  if (cache) {
    ReadKind kind = ClassifyRead(method, params);
    if (kind != ReadKind::kUncached) {
      return cache->Read(
          kind, method, params, [&]() { return CallNode(method, params, idempotent); },
          [&]() -> StatusOr<uint32_t> {
            ASSIGN_OR_RETURN(auto count, CallNode("getblockcount", {}, true));
            return ParseBlockCount(count);
          });
    }
  }
  StatusOr<json::value> result = CallNode(method, std::move(params), idempotent);
  if (cache && result.ok() && method == "getblockcount") {
    if (auto count = ParseBlockCount(*result); count.ok()) cache->Observe(*count);
  }
  return result;
}

StatusOr<json::value> HttpRpcClient::CallNode(std::string_view method, json::array params, bool idempotent) {
  Impl& d = *impl_;
  std::lock_guard lock(d.mu);
  json::object request;
  request["jsonrpc"] = "2.0";
  request["method"] = method;
  request["params"] = std::move(params);
  request["id"] = d.next_id++;
  const std::string body = json::serialize(request);
  const auto started = d.clock.SteadyNow();
  auto remaining = [&] {
    return d.opts.call_timeout - std::chrono::duration_cast<std::chrono::milliseconds>(d.clock.SteadyNow() - started);
  };
  for (int attempt = 1;; ++attempt) {
    Attempt a = d.Once(body, std::max(std::chrono::milliseconds(1), std::min(d.opts.attempt_timeout, remaining())));
    bool retryable = a.transport;
    Status failure = a.error;
    if (a.response) {
      bool gateway = false;
      auto result = Interpret(*a.response, d.Where(), &gateway);
      if (result.ok()) {
        log::Debug(
            "neo rpc call",
            {{"method", method},
             {"attempts", attempt},
             {"ms", std::chrono::duration_cast<std::chrono::milliseconds>(d.clock.SteadyNow() - started).count()}});
        return result;
      }
      failure = result.status();
      retryable = gateway;
    }
    // A call that is not idempotent (sendrawtransaction) is retried only when no byte of it can
    // have reached the node: a refused, unresolvable or failed-handshake connection. Once it may
    // have been delivered, the node may already have accepted and relayed the transaction;
    // sending it again cannot spend twice (same hash), but it would turn that success into an
    // "already exists"/"already in pool" error (-501/-503) indistinguishable from a real
    // conflict and hide that the outcome is unknown. The caller resolves that by looking the
    // hash up with getrawtransaction, which is safe to retry.
    if (!idempotent && a.maybe_sent) retryable = false;
    auto delay = retryable ? d.Backoff(attempt) : std::chrono::milliseconds(0);
    if (!retryable || attempt >= d.opts.max_attempts || delay >= remaining()) {
      if (retryable || a.transport) {
        log::Warn("neo rpc call failed", {{"method", method}, {"attempts", attempt}, {"error", failure.ToString()}});
      }
      return failure.Annotate(method);
    }
    log::Warn("neo rpc retry", {{"method", method},
                                {"attempt", attempt},
                                {"delay_ms", static_cast<int64_t>(delay.count())},
                                {"error", failure.ToString()}});
    d.opts.sleep(delay);
  }
}

namespace {
json::value RefParam(const BlockRef& ref) {
  if (const auto* index = std::get_if<uint32_t>(&ref)) return json::value(*index);
  return json::value(std::get<UInt256>(ref).ToString());
}

json::array SignersParam(std::span<const RpcSigner> signers) {
  json::array a;
  for (const auto& s : signers) a.push_back(s.ToJson());
  return a;
}
}  // namespace

StatusOr<VersionInfo> HttpRpcClient::GetVersion() {
  ASSIGN_OR_RETURN(auto result, Call("getversion", {}));
  return ParseVersion(result);
}

StatusOr<uint32_t> HttpRpcClient::GetBlockCount() {
  ASSIGN_OR_RETURN(auto result, Call("getblockcount", {}));
  return ParseBlockCount(result);
}

StatusOr<UInt256> HttpRpcClient::GetBlockHash(uint32_t index) {
  ASSIGN_OR_RETURN(auto result, Call("getblockhash", {index}));
  return ParseHash256(result);
}

StatusOr<BlockInfo> HttpRpcClient::GetBlock(const BlockRef& block) {
  ASSIGN_OR_RETURN(auto result, Call("getblock", {RefParam(block), true}));
  return ParseBlockInfo(result);
}

StatusOr<BlockInfo> HttpRpcClient::GetBlockHeader(const BlockRef& block) {
  ASSIGN_OR_RETURN(auto result, Call("getblockheader", {RefParam(block), true}));
  return ParseBlockInfo(result);
}

StatusOr<TransactionInfo> HttpRpcClient::GetRawTransaction(const UInt256& hash) {
  ASSIGN_OR_RETURN(auto result, Call("getrawtransaction", {hash.ToString(), true}));
  return ParseTransactionInfo(result);
}

StatusOr<UInt256> HttpRpcClient::SendRawTransaction(std::span<const uint8_t> tx) {
  ASSIGN_OR_RETURN(auto result, Call("sendrawtransaction", {Base64Encode(tx)}, /*idempotent=*/false));
  return ParseSendRawTransaction(result);
}

StatusOr<InvocationResult> HttpRpcClient::InvokeFunction(const UInt160& contract, std::string_view method,
                                                         const json::array& params,
                                                         std::span<const RpcSigner> signers) {
  ASSIGN_OR_RETURN(auto result, Call("invokefunction", {contract.ToString(), method, params, SignersParam(signers)}));
  return ParseInvocationResult(result);
}

StatusOr<InvocationResult> HttpRpcClient::InvokeScript(std::span<const uint8_t> script,
                                                       std::span<const RpcSigner> signers) {
  ASSIGN_OR_RETURN(auto result, Call("invokescript", {Base64Encode(script), SignersParam(signers)}));
  return ParseInvocationResult(result);
}

StatusOr<ApplicationLog> HttpRpcClient::GetApplicationLog(const UInt256& container) {
  ASSIGN_OR_RETURN(auto result, Call("getapplicationlog", {container.ToString()}));
  return ParseApplicationLog(result);
}

StatusOr<Nep17Balances> HttpRpcClient::GetNep17Balances(std::string_view account) {
  ASSIGN_OR_RETURN(auto result, Call("getnep17balances", {account}));
  return ParseNep17Balances(result);
}

StatusOr<Nep17Transfers> HttpRpcClient::GetNep17Transfers(std::string_view account, std::optional<uint64_t> from_ms,
                                                          std::optional<uint64_t> to_ms) {
  json::array params{account};
  if (from_ms || to_ms) params.emplace_back(from_ms.value_or(0));
  if (to_ms) params.emplace_back(*to_ms);
  ASSIGN_OR_RETURN(auto result, Call("getnep17transfers", std::move(params)));
  return ParseNep17Transfers(result);
}

StatusOr<int64_t> HttpRpcClient::CalculateNetworkFee(std::span<const uint8_t> tx) {
  ASSIGN_OR_RETURN(auto result, Call("calculatenetworkfee", {Base64Encode(tx)}));
  return ParseNetworkFee(result);
}

StatusOr<std::vector<uint8_t>> HttpRpcClient::GetStorage(const UInt160& contract, std::span<const uint8_t> key) {
  ASSIGN_OR_RETURN(auto result, Call("getstorage", {contract.ToString(), Base64Encode(key)}));
  return ParseBase64Result(result);
}

}  // namespace neosl::neo
