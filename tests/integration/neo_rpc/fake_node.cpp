#include "integration/neo_rpc/fake_node.h"

#include <algorithm>

#include "integration/neo_rpc/fake_node_impl.h"
#include "neo/block.h"
#include "neo/payload_json.h"
#include "neo/rpc_types.h"
#include "neo/transaction.h"
#include "neo/uint.h"

namespace neosl::testing {
namespace net = boost::asio;
namespace json = boost::json;
using tcp = net::ip::tcp;
using error_code = boost::system::error_code;

namespace {

template <typename Hash>
std::string MakeHash(uint8_t tag, uint32_t a, uint32_t b = 0) {
  std::array<uint8_t, Hash::kSize> bytes{};
  bytes.fill(0x11);
  bytes[0] = tag;
  for (int i = 0; i < 4; ++i) {
    bytes[1 + i] = static_cast<uint8_t>(a >> (8 * i));
    bytes[5 + i] = static_cast<uint8_t>(b >> (8 * i));
  }
  return Hash(bytes).ToString();
}

std::string Bytes20Base64(uint8_t tag, uint32_t n) {
  std::array<uint8_t, 20> b{};
  b[0] = tag;
  b[1] = static_cast<uint8_t>(n);
  return neosl::Base64Encode(b);
}

json::value Transfer(const std::string& contract, uint32_t from, uint32_t to, int64_t amount) {
  json::array args{json::object{{"type", "ByteString"}, {"value", Bytes20Base64(0xF0, from)}},
                   json::object{{"type", "ByteString"}, {"value", Bytes20Base64(0xF1, to)}},
                   json::object{{"type", "Integer"}, {"value", std::to_string(amount)}}};
  return json::object{{"contract", contract},
                      {"eventname", "Transfer"},
                      {"state", json::object{{"type", "Array"}, {"value", std::move(args)}}}};
}

json::object Execution(std::string_view trigger, bool halt, json::array notifications) {
  return json::object{{"trigger", trigger},
                      {"vmstate", halt ? "HALT" : "FAULT"},
                      {"exception", halt ? json::value() : json::value("ABORT is executed.")},
                      {"gasconsumed", "1007390"},
                      {"stack", json::array{}},
                      {"notifications", std::move(notifications)}};
}

constexpr const char* kGas = "0xd2a4cff31913016155e38e474a2c06d08be276cf";

}  // namespace

std::pair<std::string, bool> FakeNodeImpl::Handle(const std::string& body, std::chrono::milliseconds* delay) {
  error_code ec;
  json::value req = json::parse(body, ec);
  json::object res{{"jsonrpc", "2.0"}, {"id", ec ? json::value() : (Get(req, "id") ? *Get(req, "id") : json::value())}};
  if (ec) {
    res["error"] = json::object{{"code", -32700}, {"message", "Bad request"}};
    return {json::serialize(res), false};
  }
  std::string method = Str(req, "method");
  const json::value* pv = Get(req, "params");
  json::array params = pv && pv->is_array() ? pv->get_array() : json::array{};
  std::lock_guard lock(mu);
  requests[method].push_back(params);
  requested.notify_all();
  if (auto it = drop_next.find(method); it != drop_next.end() && it->second > 0) {
    --it->second;
    return {"", true};
  }
  if (auto it = delays.find(method); it != delays.end()) *delay = it->second;
  if (auto it = canned.find(method); it != canned.end()) {
    json::value canned_res = json::parse(it->second);
    canned_res.as_object()["id"] = res["id"];
    return {json::serialize(canned_res), false};
  }
  json::value answer = Answer(method, params);
  if (const json::value* err = Get(answer, "error")) {
    res["error"] = *err;
  } else {
    res["result"] = answer.as_object()["result"];
  }
  return {json::serialize(res), false};
}

json::value FakeNodeImpl::Answer(const std::string& method, const json::array& params) {
  auto error = [](int code, std::string_view message) {
    return json::object{{"error", json::object{{"code", code}, {"message", message}}}};
  };
  auto ok = [](json::value v) { return json::object{{"result", std::move(v)}}; };
  auto count = static_cast<int64_t>(blocks.size());
  auto find_block = [&](const json::value& ref) -> int64_t {
    if (ref.is_number()) {
      error_code ec;
      int64_t i = ref.to_number<int64_t>(ec);
      return !ec && i >= 0 && i < count ? i : -1;
    }
    for (int64_t i = 0; ref.is_string() && i < count; ++i) {
      if (Norm(Str(blocks[i], "hash")) == Norm(ref.get_string())) return i;
    }
    return -1;
  };
  if (method == "getblockcount") return ok(count);
  if (method == "getblockhash") {
    int64_t i = params.empty() ? -1 : find_block(params[0]);
    return i < 0 ? error(-109, "Unknown height") : ok(json::string(Str(blocks[i], "hash")));
  }
  if (method == "getblock" || method == "getblockheader") {
    int64_t i = params.empty() ? -1 : find_block(params[0]);
    if (i < 0) return error(-101, "Unknown block");
    json::object b = (method == "getblock" ? blocks[i] : headers[i]).as_object();
    b["confirmations"] = count - i;
    if (i + 1 < count) b["nextblockhash"] = Str(blocks[i + 1], "hash");
    return ok(std::move(b));
  }
  if (method == "getapplicationlog") {
    auto it = params.empty() || !params[0].is_string() ? logs.end() : logs.find(Norm(params[0].get_string()));
    if (it == logs.end()) return error(-32602, "Invalid params - Unknown transaction/blockhash");
    return ok(it->second);
  }
  return error(-32601, "Method not found");
}

ChainEvents FakeNodeImpl::Events(uint32_t index) {
  // neo-go's order: OnPersist, then per transaction its execution, notifications (HALT only)
  // and the transaction, then PostPersist, then the block.
  ChainEvents out;
  auto execution = [&](const std::string& container, const json::value& exec) {
    json::object e = exec.as_object();
    e["container"] = container;
    out.emplace_back("transaction_executed", e);
    if (Str(exec, "vmstate") != "HALT") return;
    for (const auto& n : exec.at("notifications").as_array()) {
      json::object ne = n.as_object();
      ne["container"] = container;
      out.emplace_back("notification_from_execution", std::move(ne));
    }
  };
  const json::value& block = blocks[index];
  std::string hash = Str(block, "hash");
  const auto& block_execs = logs[Norm(hash)].at("executions").as_array();
  execution(hash, block_execs[0]);
  for (const auto& tx : block.at("tx").as_array()) {
    std::string txid = Str(tx, "hash");
    execution(txid, logs[Norm(txid)].at("executions").as_array()[0]);
    out.emplace_back("transaction_added", tx);
  }
  execution(hash, block_execs[1]);
  out.emplace_back("block_added", block);
  return out;
}

FakeNode::FakeNode(uint16_t port, int genesis_blocks, const std::string& tls_dir)
    : impl_(std::make_unique<FakeNodeImpl>()) {
  if (!tls_dir.empty()) {
    impl_->tls.emplace(net::ssl::context::tls_server);
    impl_->tls->use_certificate_chain_file(tls_dir + "/cert.pem");
    impl_->tls->use_private_key_file(tls_dir + "/key.pem", net::ssl::context::pem);
  }
  tcp::endpoint endpoint(net::ip::make_address("127.0.0.1"), port);
  impl_->acceptor.open(endpoint.protocol());
  impl_->acceptor.set_option(net::socket_base::reuse_address(true));
  impl_->acceptor.bind(endpoint);
  impl_->acceptor.listen();
  impl_->port = impl_->acceptor.local_endpoint().port();
  for (int i = 0; i < genesis_blocks; ++i) AddBlock({.transactions = 0}, Announce::kNone);
  impl_->Accept();
  impl_->thread = std::thread([this] { impl_->ioc.run(); });
}

FakeNode::~FakeNode() {
  impl_->ioc.stop();
  if (impl_->thread.joinable()) impl_->thread.join();
}

uint16_t FakeNode::port() const {
  return impl_->port;
}
std::string FakeNode::http_url() const {
  return "http://127.0.0.1:" + std::to_string(impl_->port);
}
std::string FakeNode::ws_url() const {
  return "ws://127.0.0.1:" + std::to_string(impl_->port) + "/ws";
}

void FakeNode::SetResponse(const std::string& method, const std::string& body) {
  std::lock_guard lock(impl_->mu);
  if (body.empty()) {
    impl_->canned.erase(method);
  } else {
    impl_->canned[method] = body;
  }
}
void FakeNode::DropNext(const std::string& method, int n) {
  std::lock_guard lock(impl_->mu);
  impl_->drop_next[method] = n;
}
void FakeNode::Delay(const std::string& method, std::chrono::milliseconds delay) {
  std::lock_guard lock(impl_->mu);
  impl_->delays[method] = delay;
}
int FakeNode::RequestCount(const std::string& method) const {
  std::lock_guard lock(impl_->mu);
  auto it = impl_->requests.find(method);
  return it == impl_->requests.end() ? 0 : static_cast<int>(it->second.size());
}
bool FakeNode::WaitForRequests(const std::string& method, int n, std::chrono::milliseconds timeout) const {
  std::unique_lock lock(impl_->mu);
  return impl_->requested.wait_for(lock, timeout, [&] {
    auto it = impl_->requests.find(method);
    return it != impl_->requests.end() && static_cast<int>(it->second.size()) >= n;
  });
}
std::vector<json::value> FakeNode::RequestParams(const std::string& method) const {
  std::lock_guard lock(impl_->mu);
  auto it = impl_->requests.find(method);
  return it == impl_->requests.end() ? std::vector<json::value>{} : it->second;
}
int FakeNode::connections_accepted() const {
  return impl_->accepted.load();
}

uint32_t FakeNode::AddBlock(const FakeBlockSpec& spec, neosl::testing::Announce announce) {
  ChainEvents events;
  uint32_t index;
  {
    std::lock_guard lock(impl_->mu);
    index = static_cast<uint32_t>(impl_->blocks.size());
    // Real payloads (hashes, Merkle root, sizes agree), so the client's typed decoding is exercised.
    std::vector<neo::Transaction> txs;
    for (int t = 0; t < spec.transactions; ++t) {
      auto tx = neo::TransactionBuilder()
                    .SetNonce(index * 1000 + static_cast<uint32_t>(t))
                    .SetSystemFee(9007990)
                    .SetNetworkFee(1248450)
                    .SetValidUntilBlock(index + 5760)
                    .SetScript({0x11, 0x40})
                    .AddSigner(neo::Signer{.account = Sender(t), .scopes = neo::WitnessScope::CalledByEntry})
                    .AddWitness(neo::Witness{.invocation = {0x0c, 0x00}, .verification = {0x11}})
                    .Build();
      if (!tx.ok()) std::abort();  // the fake's own construction is wrong
      json::array notes;
      for (int k = 0; k < spec.notifications_per_tx; ++k) {
        notes.push_back(Transfer(Token(k).ToString(), t, index, 1000 * index + 10 * t + k));
      }
      bool halt = !(spec.fault_last_tx && t == spec.transactions - 1);
      std::string txid = tx->hash().ToString();
      impl_->logs[Norm(txid)] =
          json::object{{"txid", txid}, {"executions", json::array{Execution("Application", halt, std::move(notes))}}};
      txs.push_back(*std::move(tx));
    }
    std::vector<neo::UInt256> hashes;
    hashes.reserve(txs.size());
    for (const auto& tx : txs) hashes.push_back(tx.hash());
    neo::UInt256 prev = index == 0 ? neo::UInt256() : *neo::UInt256::Parse(Str(impl_->blocks.back(), "hash"));
    auto header = neo::Header::Create(neo::HeaderFields{.prev_hash = prev,
                                                        .merkle_root = neo::ComputeMerkleRoot(hashes),
                                                        .timestamp = 1700000000000 + 15000 * uint64_t{index},
                                                        .nonce = 0xA2F4C5D6E7F80911ULL + index,
                                                        .index = index,
                                                        .primary_index = static_cast<uint8_t>(index % 7),
                                                        .next_consensus = Sender(99),
                                                        .witness = {.invocation = {}, .verification = {0x11}}});
    if (!header.ok()) std::abort();
    auto block = neo::Block::Create(*std::move(header), std::move(txs));
    if (!block.ok()) std::abort();
    std::string hash = block->hash().ToString();
    impl_->logs[Norm(hash)] = json::object{
        {"blockhash", hash},
        {"executions", json::array{Execution("OnPersist", true, {Transfer(kGas, 1, 0, 1248450)}),
                                   Execution("PostPersist", true, {Transfer(kGas, 0, index % 7, 50000000)})}}};
    impl_->blocks.push_back(neo::BlockToJson(*block));
    impl_->headers.push_back(neo::HeaderToJson(block->header()));
    events = impl_->Events(index);
  }
  net::post(impl_->ioc, [this, events = std::move(events), announce] { impl_->Announce(events, announce); });
  return index;
}

uint32_t FakeNode::block_count() const {
  std::lock_guard lock(impl_->mu);
  return static_cast<uint32_t>(impl_->blocks.size());
}
void FakeNode::SetWebSocketAvailable(bool available) {
  std::lock_guard lock(impl_->mu);
  impl_->ws_available = available;
}
int FakeNode::subscribe_requests() const {
  std::lock_guard lock(impl_->mu);
  return impl_->subscribes;
}
int FakeNode::unsubscribe_requests() const {
  std::lock_guard lock(impl_->mu);
  return impl_->unsubscribes;
}
int FakeNode::websocket_sessions() const {
  return impl_->sessions_open.load();
}
neo::UInt160 FakeNode::Sender(int t) {
  return *neo::UInt160::Parse(MakeHash<neo::UInt160>(0xA0, t));
}
neo::UInt160 FakeNode::Token(int k) {
  return *neo::UInt160::Parse(MakeHash<neo::UInt160>(0xC0, k % 2));
}

json::value FakeNode::BlockJson(uint32_t index) const {
  std::lock_guard lock(impl_->mu);
  return impl_->blocks.at(index);
}

}  // namespace neosl::testing
