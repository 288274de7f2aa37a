// The fixture of gateway_ws_test.cpp: the gateway as serve.cpp wires it, in one process, and a
// real Beast WebSocket client.
#pragma once

#include <atomic>
#include <chrono>
#include <future>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include <boost/asio.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/websocket.hpp>
#include <boost/json.hpp>
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "core/clock.h"
#include "core/random.h"
#include "core/rate_limiter.h"
#include "gateway/accounts.h"
#include "gateway/auth.h"
#include "gateway/gateway.h"
#include "gateway/server.h"
#include "gateway/ws_hub.h"
#include "gateway/ws_mesh_channel.h"
#include "mesh/client.h"
#include "mesh/policy.h"
#include "mesh/registry.h"
#include "mesh/server.h"
#include "schema/migrations.h"
#include "services/echo/echo_service.h"
#include "store/sqlite_store.h"
#include "support/temp_dir.h"
#include "support/test_store_open.h"

namespace neosl::gateway::ws_test {

namespace beast = boost::beast;
namespace http = beast::http;
namespace websocket = beast::websocket;
namespace net = boost::asio;
namespace json = boost::json;
using tcp = net::ip::tcp;
using ::testing::HasSubstr;

constexpr auto kWait = std::chrono::seconds(20);

// Polls `condition` every 10 ms (up to 20 s): for states another thread reaches.
bool WaitUntil(const std::function<bool()>& condition) {
  auto deadline = std::chrono::steady_clock::now() + kWait;
  while (std::chrono::steady_clock::now() < deadline) {
    if (condition()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  return condition();
}

// A WebSocket client with its own event loop; every wait is bounded.
class WsClient {
 public:
  struct Options {
    std::string authorization;  // the Authorization header's value
    std::string subprotocols;   // Sec-WebSocket-Protocol
    int receive_buffer = 0;     // SO_RCVBUF before connecting (0: default)
  };

  // Connects and upgrades; on refusal returns null with the HTTP status and body.
  static std::unique_ptr<WsClient> Connect(const std::string& address, const Options& options, int* status = nullptr,
                                           std::string* body = nullptr) {
    auto c = std::unique_ptr<WsClient>(new WsClient());
    auto colon = address.rfind(':');
    tcp::endpoint ep(net::ip::make_address(address.substr(0, colon)), uint16_t(std::stoi(address.substr(colon + 1))));
    auto& sock = beast::get_lowest_layer(c->ws_).socket();
    sock.open(tcp::v4());
    if (options.receive_buffer > 0) sock.set_option(net::socket_base::receive_buffer_size(options.receive_buffer));
    sock.connect(ep);
    c->ws_.set_option(websocket::stream_base::decorator([options](websocket::request_type& req) {
      if (!options.authorization.empty()) req.set(http::field::authorization, options.authorization);
      if (!options.subprotocols.empty()) req.set(http::field::sec_websocket_protocol, options.subprotocols);
    }));
    c->ws_.control_callback([p = c.get()](websocket::frame_type kind, beast::string_view) {
      if (kind == websocket::frame_type::ping) p->pings_.fetch_add(1);
    });
    websocket::response_type res;
    beast::error_code ec;
    c->ws_.handshake(res, address, "/v1/ws", ec);
    if (status) *status = int(res.result_int());
    if (body) *body = res.body();
    c->response_ = res;
    if (ec) return nullptr;
    return c;
  }

  void Send(const json::value& v) { SendText(json::serialize(v)); }
  void SendText(const std::string& text) {
    ws_.text(true);
    ws_.write(net::buffer(text));
  }
  void SendBinary(const std::string& data) {
    ws_.binary(true);
    ws_.write(net::buffer(data));
  }

  // The next message, or nullopt when the connection ended (close_code() says how).
  std::optional<json::object> Read() {
    beast::flat_buffer buffer;
    std::optional<beast::error_code> result;
    ws_.async_read(buffer, [&](beast::error_code ec, size_t) { result = ec; });
    ioc_.restart();
    ioc_.run_for(kWait);
    if (!result) {
      ADD_FAILURE() << "no message within 20 s";
      beast::get_lowest_layer(ws_).socket().close();
      ioc_.restart();
      ioc_.run();
      return std::nullopt;
    }
    if (*result) {
      error_ = *result;
      return std::nullopt;
    }
    json::value v = json::parse(beast::buffers_to_string(buffer.data()));
    return v.as_object();
  }
  // Reads until a message of `type` (and `id`, if given); messages before it are kept.
  std::optional<json::object> ReadUntil(std::string_view type, std::string_view id = "",
                                        std::vector<json::object>* before = nullptr) {
    while (auto m = Read()) {
      if (m->at("type").as_string() == type && (id.empty() || (m->contains("id") && m->at("id").as_string() == id))) {
        return m;
      }
      if (before) before->push_back(*m);
    }
    return std::nullopt;
  }

  int close_code() const { return int(ws_.reason().code); }
  std::string close_reason() const { return std::string(ws_.reason().reason.data(), ws_.reason().reason.size()); }
  beast::error_code error() const { return error_; }
  int pings() const { return pings_.load(); }
  const websocket::response_type& response() const { return response_; }

 private:
  WsClient() : ws_(ioc_) {}
  net::io_context ioc_;
  websocket::stream<beast::tcp_stream> ws_;
  websocket::response_type response_;
  beast::error_code error_;
  std::atomic<int> pings_{0};
};

json::object Subscribe(std::string id, std::string channel, json::object params) {
  return json::object{{"op", "subscribe"}, {"id", id}, {"channel", channel}, {"params", params}};
}

std::string Str(const json::object& o, std::string_view key) {
  const json::value* v = o.if_contains(key);
  return v && v->is_string() ? std::string(v->as_string()) : std::string();
}
std::string ErrorCode(const json::object& frame) {
  return std::string(frame.at("error").at("code").as_string());
}

// A test channel: emits 8 KiB events as fast as it may until the emitter refuses one.
class Firehose final : public WsSubscription {
 public:
  // Counts its refusals in `refused`, and in `ended` its end, whether refused or stopped by the
  // connection's close (the close may come first: the queue can fill with what was emitted
  // before the subscription started).
  Firehose(std::shared_ptr<WsEmitter> emitter, std::atomic<int>* refused, std::atomic<int>* ended) {
    thread_ = std::thread([this, emitter, refused, ended] {
      std::string filler(8192, 'x');
      for (int i = 0; i < 1'000'000 && !stop_; ++i) {
        if (!emitter->Event(json::object{{"n", i}, {"filler", filler}})) {
          refused->fetch_add(1);
          break;
        }
      }
      ended->fetch_add(1);
    });
  }
  ~Firehose() override {
    stop_ = true;
    thread_.join();
  }

 private:
  std::atomic<bool> stop_{false};
  std::thread thread_;
};

// A source that emits params.count events inside the factory, before the subscription has
// started, counting the ones refused; it does nothing after.
class Burst final : public WsSubscription {
 public:
  Burst(const std::shared_ptr<WsEmitter>& emitter, int64_t count, std::atomic<int>* refused) {
    for (int64_t i = 0; i < count; ++i) {
      if (!emitter->Event(json::object{{"n", i}})) refused->fetch_add(1);
    }
  }
};

class GatewayWsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto store = ::neosl::testing::OpenTestStore({.path = dir_.File("neosl.db")});
    ASSERT_TRUE(store.ok()) << store.status().ToString();
    store_ = std::move(*store);
    ASSERT_TRUE(store_->Migrate(schema::Migrations()).ok());
    hasher_ = std::make_unique<KeyHasher>(SecretBytes(std::string_view("0123456789abcdef0123456789abcdef")));
    accounts_ = std::make_unique<AccountStore>(*store_, *hasher_, SystemClock::Instance(), SecureRandom::Instance());
    auto admin = accounts_->BootstrapAdmin();
    ASSERT_TRUE(admin.ok() && admin->has_value());
    auto account = accounts_->CreateAccount("acme");
    ASSERT_TRUE(account.ok());
    account_ = account->id;
    viewer_ = *Key({Role::kViewer});
    developer_ = *Key({Role::kDeveloper});

    // The mesh: the echo service in-process, under the built-in policy, called as "gateway".
    auto policy = mesh::AuthzPolicy::FromYaml(mesh::DefaultAuthzPolicyYaml());
    ASSERT_TRUE(policy.ok()) << policy.status().ToString();
    policy_ = std::make_unique<mesh::AuthzPolicy>(std::move(*policy));
    pipeline_ = std::make_unique<mesh::Pipeline>(mesh::PipelineOptions{policy_.get()}, SystemClock::Instance(),
                                                 SecureRandom::Instance());
    mesh_server_ = std::make_unique<mesh::MeshServer>(mesh::ServerOptions{}, *pipeline_, "echo-w");
    echo_ = std::make_unique<services::EchoService>(*pipeline_, "echo-w", nullptr);
    mesh_server_->AddService(echo_.get());
    ASSERT_TRUE(mesh_server_->Start().ok());
    registry_ = mesh::NewMemoryRegistry();
    auto reg = registry_->Register(mesh::Endpoint{"echo", "echo-w", "inproc", "t", true, {}});
    ASSERT_TRUE(reg.ok());
    registration_ = std::move(*reg);
    mesh::ClientOptions co;
    co.identity = "gateway";
    mesh_client_ = std::make_unique<mesh::MeshClient>(co, *registry_, mesh::InProcessChannels(*mesh_server_, "gateway"),
                                                      SystemClock::Instance(), SecureRandom::Instance());
  }

  StatusOr<std::string> Key(std::vector<Role> roles) {
    auto key = accounts_->CreateKey(account_, "k", std::move(roles));
    if (!key.ok()) return key.status();
    return key->token;
  }

  // The gateway as serve.cpp wires it, with `options` for the WebSocket limits.
  void StartGateway(WsOptions options = {}) {
    hub_ = std::make_unique<WsHub>(options);
    RegisterEchoStreamChannel(*hub_, *mesh_client_);
    // The same stream for developers only: a channel the viewer key may not use.
    hub_->RegisterChannel("echo_stream_dev", Role::kDeveloper,
                          MeshStreamChannel(*mesh_client_, "echo", "/neosl.echo.v1.Echo/EchoStream"));
    hub_->RegisterChannel(
        "firehose", Role::kViewer,
        [this](const WsSubscriber&, const json::object&,
               std::shared_ptr<WsEmitter> emitter) -> StatusOr<std::unique_ptr<WsSubscription>> {
          return std::unique_ptr<WsSubscription>(std::make_unique<Firehose>(emitter, &refused_, &ended_));
        });
    hub_->RegisterChannel("burst", Role::kViewer,
                          [this](const WsSubscriber&, const json::object& params,
                                 std::shared_ptr<WsEmitter> emitter) -> StatusOr<std::unique_ptr<WsSubscription>> {
                            return std::unique_ptr<WsSubscription>(
                                std::make_unique<Burst>(emitter, params.at("count").as_int64(), &refused_));
                          });
    limiter_ = std::make_unique<RateLimiter>(RateLimitConfig{}, SystemClock::Instance());
    auth_ = std::make_unique<Authenticator>(*accounts_, *hasher_);
    gateway_ = std::make_unique<Gateway>(*auth_, *limiter_, SecureRandom::Instance(), false);
    RegisterWsRoute(*gateway_, *hub_);
    gateway_->Freeze();
    ServerOptions so;
    so.listen = "127.0.0.1:0";
    so.threads = 2;
    Gateway* gw = gateway_.get();
    server_ = std::make_unique<HttpServer>(
        so, [gw](const HttpRequest& r, HttpResponse& res) { gw->Handle(r, res); }, ServerObserver{},
        [gw](const HttpRequest& r, HttpResponse& res) { return gw->Upgrade(r, res); });
    auto bound = server_->Start();
    ASSERT_TRUE(bound.ok()) << bound.status().ToString();
    address_ = *bound;
  }

  void TearDown() override {
    if (server_) server_->Stop();
    server_.reset();
    gateway_.reset();
    hub_.reset();
    mesh_client_.reset();
    registration_.reset();
    if (mesh_server_) mesh_server_->Shutdown(std::chrono::milliseconds(0));
    echo_.reset();
    mesh_server_.reset();
  }

  std::unique_ptr<WsClient> Connect(const std::string& key, int* status = nullptr, std::string* body = nullptr) {
    return WsClient::Connect(address_, {.authorization = "Bearer " + key}, status, body);
  }

  neosl::testing::TempDir dir_;
  std::unique_ptr<store::Store> store_;
  std::unique_ptr<KeyHasher> hasher_;
  std::unique_ptr<AccountStore> accounts_;
  AccountId account_;
  std::string viewer_, developer_;
  std::unique_ptr<mesh::AuthzPolicy> policy_;
  std::unique_ptr<mesh::Pipeline> pipeline_;
  std::unique_ptr<mesh::MeshServer> mesh_server_;
  std::unique_ptr<services::EchoService> echo_;
  std::unique_ptr<mesh::Registry> registry_;
  std::unique_ptr<mesh::Registration> registration_;
  std::unique_ptr<mesh::MeshClient> mesh_client_;
  std::atomic<int> refused_{0};
  std::atomic<int> ended_{0};  // firehose sources that ended
  std::unique_ptr<WsHub> hub_;
  std::unique_ptr<RateLimiter> limiter_;
  std::unique_ptr<Authenticator> auth_;
  std::unique_ptr<Gateway> gateway_;
  std::unique_ptr<HttpServer> server_;
  std::string address_;
};

}  // namespace neosl::gateway::ws_test
