// GET /v1/ws end to end in one process: a real Beast WebSocket client against the real gateway
// (HttpServer, Gateway with API-key auth over SQLite, WsHub), whose echo_stream channel is a mesh
// stream (MeshClient::Stream over the in-process channel) of the real echo service.
#include "integration/gateway_ws_fixture.h"

namespace neosl::gateway::ws_test {
namespace {

TEST_F(GatewayWsTest, AuthenticatesByHeaderOrBySubprotocolAndRefusesWithoutAKey) {
  StartGateway();
  auto by_header = Connect(viewer_);
  ASSERT_NE(by_header, nullptr);
  EXPECT_TRUE(by_header->response()[http::field::sec_websocket_protocol].empty());
  EXPECT_FALSE(by_header->response()["x-trace-id"].empty());
  by_header->Send(json::object{{"op", "ping"}});
  auto pong = by_header->Read();
  ASSERT_TRUE(pong);
  EXPECT_EQ(Str(*pong, "type"), "pong");

  // A browser: the key as a subprotocol next to ours; the answer names only ours.
  auto by_subprotocol = WsClient::Connect(address_, {.subprotocols = "neosl.v1, bearer." + viewer_});
  ASSERT_NE(by_subprotocol, nullptr);
  EXPECT_EQ(by_subprotocol->response()[http::field::sec_websocket_protocol], "neosl.v1");
  by_subprotocol->Send(json::object{{"op", "ping"}});
  ASSERT_TRUE(by_subprotocol->Read());

  int status = 0;
  std::string body;
  EXPECT_EQ(WsClient::Connect(address_, {}, &status, &body), nullptr);
  EXPECT_EQ(status, 401);
  EXPECT_THAT(body, HasSubstr("\"code\":\"UNAUTHENTICATED\""));
  EXPECT_EQ(WsClient::Connect(address_, {.subprotocols = "neosl.v1, bearer.nsl_bogus"}, &status, &body), nullptr);
  EXPECT_EQ(status, 401);
  // Subprotocols without ours: the server could not answer with one the client offered.
  EXPECT_EQ(WsClient::Connect(address_, {.subprotocols = "bearer." + viewer_}, &status, &body), nullptr);
  EXPECT_EQ(status, 400);
  EXPECT_THAT(body, HasSubstr("neosl.v1"));
}

TEST_F(GatewayWsTest, APlainGetIsToldToUpgradeAndTheRouteIsDocumented) {
  StartGateway();
  net::io_context ioc;
  beast::tcp_stream stream(ioc);
  auto colon = address_.rfind(':');
  stream.connect(
      tcp::endpoint(net::ip::make_address(address_.substr(0, colon)), uint16_t(std::stoi(address_.substr(colon + 1)))));
  http::request<http::empty_body> req(http::verb::get, "/v1/ws", 11);
  req.set(http::field::host, "x");
  req.set(http::field::authorization, "Bearer " + viewer_);
  http::write(stream, req);
  beast::flat_buffer buffer;
  http::response<http::string_body> res;
  http::read(stream, buffer, res);
  EXPECT_EQ(res.result_int(), 426u);
  EXPECT_THAT(res.body(), HasSubstr("WebSocket"));

  json::value doc = json::parse(gateway_->openapi());
  const json::object& op = doc.at("paths").at("/v1/ws").at("get").as_object();
  EXPECT_EQ(op.at("operationId").as_string(), "WebSocket");
  EXPECT_TRUE(op.at("responses").as_object().contains("101"));
  const std::string description(op.at("description").as_string());
  EXPECT_THAT(description, HasSubstr("\"op\":\"subscribe\""));
  EXPECT_THAT(description, HasSubstr("`echo_stream` (viewer): the echo service's EchoStream"));
  EXPECT_THAT(description, HasSubstr("`echo_stream_dev` (developer)"));
}

TEST_F(GatewayWsTest, EchoStreamDeliversEveryEventInOrderThenEnds) {
  StartGateway();
  auto ws = Connect(viewer_);
  ASSERT_NE(ws, nullptr);
  ws->Send(Subscribe("s1", "echo_stream", {{"message", "hi"}, {"count", 25}}));
  auto subscribed = ws->Read();
  ASSERT_TRUE(subscribed);
  EXPECT_EQ(Str(*subscribed, "type"), "subscribed");
  EXPECT_EQ(Str(*subscribed, "id"), "s1");
  std::vector<json::object> events;
  auto end = ws->ReadUntil("end", "s1", &events);
  ASSERT_TRUE(end);
  ASSERT_EQ(events.size(), 25u);
  for (size_t i = 0; i < events.size(); ++i) {
    EXPECT_EQ(Str(events[i], "type"), "event");
    EXPECT_EQ(Str(events[i], "channel"), "echo_stream");
    const json::object& data = events[i].at("data").as_object();
    EXPECT_EQ(data.at("hops").as_int64(), int64_t(i));
    EXPECT_EQ(data.at("message").as_string(), "hi");
    EXPECT_EQ(data.at("caller").as_string(), "gateway");        // the mesh saw the gateway …
    EXPECT_EQ(data.at("account").as_string(), account_.str());  // … calling for the key's account
  }
  EXPECT_EQ(echo_->streams_started(), 1u);
  // The id is free again once the subscription ended.
  ws->Send(Subscribe("s1", "echo_stream", {{"count", 1}}));
  ASSERT_TRUE(ws->ReadUntil("end", "s1"));
}

TEST_F(GatewayWsTest, ErrorFramesNameTheSubscriptionAndLeaveTheConnectionOpen) {
  StartGateway();
  auto ws = Connect(viewer_);
  ASSERT_NE(ws, nullptr);

  ws->Send(Subscribe("a", "no_such_channel", {}));
  auto e = ws->Read();
  ASSERT_TRUE(e);
  EXPECT_EQ(Str(*e, "type"), "error");
  EXPECT_EQ(Str(*e, "id"), "a");
  EXPECT_EQ(ErrorCode(*e), "NOT_FOUND");
  EXPECT_THAT(std::string(e->at("error").at("message").as_string()), HasSubstr("echo_stream"));

  ws->Send(Subscribe("b", "echo_stream", {{"count", 0}}));
  e = ws->Read();
  ASSERT_TRUE(e);
  EXPECT_EQ(ErrorCode(*e), "INVALID_ARGUMENT");
  EXPECT_EQ(e->at("error").at("details").at(0).at("field").as_string(), "count");
  ws->Send(Subscribe("b", "echo_stream", {{"count", 1}, {"bogus", 1}}));
  e = ws->Read();
  ASSERT_TRUE(e);
  EXPECT_EQ(ErrorCode(*e), "INVALID_ARGUMENT");

  ws->Send(Subscribe("c", "echo_stream_dev", {{"count", 1}}));
  e = ws->Read();
  ASSERT_TRUE(e);
  EXPECT_EQ(ErrorCode(*e), "PERMISSION_DENIED");
  EXPECT_EQ(e->at("error").at("details").at(0).at("required_role").as_string(), "developer");

  // The service's own error, with its details, after the events it sent.
  ws->Send(Subscribe("d", "echo_stream", {{"count", 2}, {"fail_code", "FAILED_PRECONDITION"}}));
  std::vector<json::object> before;
  e = ws->ReadUntil("error", "d", &before);
  ASSERT_TRUE(e);
  EXPECT_EQ(ErrorCode(*e), "FAILED_PRECONDITION");
  EXPECT_EQ(e->at("error").at("details").at(0).at("type").as_string(), "EchoStreamInfo");
  EXPECT_EQ(before.size(), 3u);  // subscribed and two events

  // Malformed messages: an error without an id; the connection stays.
  ws->SendText("{not json");
  e = ws->Read();
  ASSERT_TRUE(e);
  EXPECT_EQ(ErrorCode(*e), "INVALID_ARGUMENT");
  EXPECT_FALSE(e->contains("id"));
  ws->Send(json::object{{"op", "dance"}, {"id", "x"}});
  e = ws->Read();
  ASSERT_TRUE(e);
  EXPECT_EQ(ErrorCode(*e), "INVALID_ARGUMENT");
  ws->SendBinary("\x01\x02");
  e = ws->Read();
  ASSERT_TRUE(e);
  EXPECT_EQ(ErrorCode(*e), "INVALID_ARGUMENT");
  ws->Send(json::object{{"op", "unsubscribe"}, {"id", "never"}});
  e = ws->Read();
  ASSERT_TRUE(e);
  EXPECT_EQ(ErrorCode(*e), "NOT_FOUND");
  ws->Send(json::object{{"op", "ping"}});
  e = ws->Read();
  ASSERT_TRUE(e);
  EXPECT_EQ(Str(*e, "type"), "pong");

  // A developer key may use the developer channel.
  auto dev = Connect(developer_);
  ASSERT_NE(dev, nullptr);
  dev->Send(Subscribe("c", "echo_stream_dev", {{"count", 1}}));
  ASSERT_TRUE(dev->ReadUntil("end", "c"));
}

TEST_F(GatewayWsTest, UnsubscribeStopsTheEventsAndTheServiceSideStream) {
  StartGateway();
  auto ws = Connect(viewer_);
  ASSERT_NE(ws, nullptr);
  ws->Send(Subscribe("s", "echo_stream", {{"count", 10000}, {"delay_ms", 5}}));
  std::vector<json::object> before;
  ASSERT_TRUE(ws->ReadUntil("event", "s"));
  ws->Send(json::object{{"op", "unsubscribe"}, {"id", "s"}});
  ASSERT_TRUE(ws->ReadUntil("unsubscribed", "s", &before));
  for (const auto& m : before) EXPECT_EQ(Str(m, "type"), "event");
  // Nothing of "s" comes after the answer: the next frame is the pong.
  ws->Send(json::object{{"op", "ping"}});
  auto next = ws->Read();
  ASSERT_TRUE(next);
  EXPECT_EQ(Str(*next, "type"), "pong");
  EXPECT_TRUE(WaitUntil([&] { return echo_->streams_cancelled() == 1 && echo_->active_streams() == 0; }));
  EXPECT_EQ(hub_->subscriptions(), 0u);
}

TEST_F(GatewayWsTest, SubscriptionsPerConnectionAreLimited) {
  WsOptions options;
  options.max_subscriptions = 3;
  StartGateway(options);
  auto ws = Connect(viewer_);
  ASSERT_NE(ws, nullptr);
  for (int i = 0; i < 3; ++i) {
    ws->Send(Subscribe("s" + std::to_string(i), "echo_stream", {{"count", 1000}, {"delay_ms", 60000}}));
  }
  ws->Send(Subscribe("s3", "echo_stream", {{"count", 1}}));
  auto refused = ws->ReadUntil("error", "s3");
  ASSERT_TRUE(refused);
  EXPECT_EQ(ErrorCode(*refused), "RESOURCE_EXHAUSTED");
  ws->Send(Subscribe("s0", "echo_stream", {{"count", 1}}));
  refused = ws->ReadUntil("error", "s0");
  ASSERT_TRUE(refused);
  EXPECT_EQ(ErrorCode(*refused), "ALREADY_EXISTS");
  EXPECT_EQ(hub_->subscriptions(), 3u);
  // Room again after an unsubscribe.
  ws->Send(json::object{{"op", "unsubscribe"}, {"id", "s1"}});
  ASSERT_TRUE(ws->ReadUntil("unsubscribed", "s1"));
  ws->Send(Subscribe("s3", "echo_stream", {{"count", 1}}));
  ASSERT_TRUE(ws->ReadUntil("end", "s3"));
}

TEST_F(GatewayWsTest, AMessageOverTheSizeLimitClosesWith1009) {
  StartGateway();
  auto ws = Connect(viewer_);
  ASSERT_NE(ws, nullptr);
  ws->SendText("{\"op\":\"ping\",\"pad\":\"" + std::string(20 << 10, 'x') + "\"}");
  EXPECT_FALSE(ws->Read());
  EXPECT_EQ(ws->close_code(), 1009);
  EXPECT_TRUE(WaitUntil([&] { return hub_->connections() == 0; }));
}

TEST_F(GatewayWsTest, AClientThatDoesNotReadIsClosedWith1013) {
  WsOptions options;
  options.limits.max_queued_messages = 64;
  options.limits.max_queued_bytes = 256 << 10;
  StartGateway(options);
  auto ws = WsClient::Connect(address_, {.authorization = "Bearer " + viewer_, .receive_buffer = 4096});
  ASSERT_NE(ws, nullptr);
  ws->Send(Subscribe("f", "firehose", {}));
  // The client reads nothing until the server gave up on it: the subscription is gone and its
  // source has stopped (refused, or stopped by the close if that came first).
  EXPECT_TRUE(WaitUntil([&] { return ended_.load() == 1 && hub_->subscriptions() == 0; }))
      << "ended " << ended_.load() << ", subscriptions " << hub_->subscriptions();
  EXPECT_LE(refused_.load(), 1);
  // What was written before the queue filled arrives, then the close.
  while (ws->Read()) {
  }
  EXPECT_EQ(ws->close_code(), 1013) << ws->error().message();
  EXPECT_TRUE(WaitUntil([&] { return hub_->connections() == 0; }));
}

// Events a source emits before the subscription has started wait for "subscribed", within the
// outbound queue's bound; past it the connection ends as a slow client's does, never with a
// subscription whose source was refused and stopped.
TEST_F(GatewayWsTest, EventsBeforeTheSubscriptionStartedFollowItWithinTheQueuesBound) {
  WsOptions options;
  options.limits.max_queued_messages = 64;
  StartGateway(options);
  auto ws = Connect(viewer_);
  ASSERT_NE(ws, nullptr);
  ws->Send(Subscribe("b", "burst", {{"count", 63}}));  // with "subscribed": 64
  auto subscribed = ws->Read();
  ASSERT_TRUE(subscribed);
  EXPECT_EQ(Str(*subscribed, "type"), "subscribed");
  for (int64_t i = 0; i < 63; ++i) {
    auto event = ws->Read();
    ASSERT_TRUE(event);
    EXPECT_EQ(event->at("data").at("n").as_int64(), i);
  }
  EXPECT_EQ(refused_.load(), 0);

  auto over = Connect(viewer_);
  ASSERT_NE(over, nullptr);
  over->Send(Subscribe("b", "burst", {{"count", 64}}));
  EXPECT_FALSE(over->Read());
  EXPECT_EQ(over->close_code(), 1013) << over->error().message();
  EXPECT_EQ(refused_.load(), 1);
  // The first connection's subscription (whose source did nothing more) is the only one left.
  EXPECT_TRUE(WaitUntil([&] { return hub_->connections() == 1 && hub_->subscriptions() == 1; }));
}

TEST_F(GatewayWsTest, IdleConnectionsArePingedAndSilentOnesDropped) {
  WsOptions options;
  options.limits.idle_timeout = std::chrono::milliseconds(400);
  StartGateway(options);
  // A client that reads answers the pings and stays through pauses longer than the timeout.
  auto ws = Connect(viewer_);
  ASSERT_NE(ws, nullptr);
  ws->Send(Subscribe("slow", "echo_stream", {{"count", 3}, {"delay_ms", 500}}));
  ASSERT_TRUE(ws->ReadUntil("end", "slow"));
  EXPECT_GE(ws->pings(), 1);
  ws->Send(json::object{{"op", "ping"}});
  EXPECT_TRUE(ws->ReadUntil("pong"));
  ws.reset();
  ASSERT_TRUE(WaitUntil([&] { return hub_->connections() == 0; }));
  // One that never reads never answers a ping: the server drops it.
  auto silent = Connect(viewer_);
  ASSERT_NE(silent, nullptr);
  EXPECT_EQ(hub_->connections(), 1u);
  EXPECT_TRUE(WaitUntil([&] { return hub_->connections() == 0; }));
}

TEST_F(GatewayWsTest, ConnectionsPerAccountAreCapped) {
  WsOptions options;
  options.max_connections_per_account = 2;
  StartGateway(options);
  auto a = Connect(viewer_);
  auto b = Connect(developer_);  // another key of the same account
  ASSERT_NE(a, nullptr);
  ASSERT_NE(b, nullptr);
  int status = 0;
  std::string body;
  EXPECT_EQ(Connect(viewer_, &status, &body), nullptr);
  EXPECT_EQ(status, 429);
  EXPECT_THAT(body, HasSubstr("RESOURCE_EXHAUSTED"));
  a.reset();  // drops the TCP connection
  EXPECT_TRUE(WaitUntil([&] { return hub_->connections() == 1; }));
  EXPECT_NE(Connect(viewer_), nullptr);
}

TEST_F(GatewayWsTest, DrainClosesOpenSocketsWith1001AndStopsTheirStreams) {
  StartGateway();
  std::vector<std::unique_ptr<WsClient>> clients;
  for (int i = 0; i < 3; ++i) {
    clients.push_back(Connect(viewer_));
    ASSERT_NE(clients.back(), nullptr);
    clients.back()->Send(Subscribe("s", "echo_stream", {{"count", 10000}, {"delay_ms", 20}}));
    ASSERT_TRUE(clients.back()->ReadUntil("event", "s"));
  }
  gateway_->SetDraining();
  auto drained = std::async(std::launch::async, [&] { return server_->Drain(std::chrono::seconds(20)); });
  for (auto& c : clients) {
    while (c->Read()) {
    }
    EXPECT_EQ(c->close_code(), 1001);
  }
  EXPECT_TRUE(drained.get());
  EXPECT_EQ(hub_->connections(), 0u);
  EXPECT_EQ(hub_->subscriptions(), 0u);
  EXPECT_TRUE(WaitUntil([&] { return echo_->active_streams() == 0; }));
  server_->Stop();
}

TEST_F(GatewayWsTest, StopWithOpenSocketsAndLiveStreamsDoesNotHang) {
  StartGateway();
  std::vector<std::unique_ptr<WsClient>> clients;
  for (int i = 0; i < 3; ++i) {
    clients.push_back(Connect(viewer_));
    ASSERT_NE(clients.back(), nullptr);
    clients.back()->Send(Subscribe("s", "echo_stream", {{"count", 10000}, {"delay_ms", 1}}));
    clients.back()->Send(Subscribe("t", "echo_stream", {{"count", 10000}}));
    ASSERT_TRUE(clients.back()->ReadUntil("event", "s"));
  }
  server_->Stop();  // no drain: the sockets just go
  EXPECT_EQ(hub_->subscriptions(), 0u);
  EXPECT_EQ(hub_->connections(), 0u);
  for (auto& c : clients) {
    while (c->Read()) {
    }
  }
  EXPECT_TRUE(WaitUntil([&] { return echo_->active_streams() == 0; }));
}

}  // namespace
}  // namespace neosl::gateway::ws_test
