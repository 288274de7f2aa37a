// neo-go's notification subsystem (docs/notifications.md; pkg/services/rpcsrv/server.go
// subscribe/unsubscribe; pkg/neorpc/filters.go and rpcevent/filter.go): the events of a block
// as frames, the filters, and a client's subscription slots.
#include <boost/json/serialize.hpp>

#include "devchain/rpc_internal.h"
#include "neo/payload_json.h"

namespace neosl::devchain::rpc {
namespace json = boost::json;
using neo::UInt160;
using neo::UInt256;

namespace {

constexpr std::string_view kStreamNames[] = {"block_added", "transaction_added", "transaction_executed",
                                             "notification_from_execution"};

std::shared_ptr<const std::string> Frame(Stream stream, json::value payload) {
  json::object o{{"jsonrpc", "2.0"},
                 {"method", kStreamNames[static_cast<size_t>(stream)]},
                 {"params", json::array{std::move(payload)}}};
  return std::make_shared<const std::string>(json::serialize(o));
}

// An execution, then (HALT only, as neo-go announces them) its notifications.
void AddExecution(const UInt256& container, const ExecutionRecord& e, std::vector<Event>& out) {
  json::value payload = ExecutionToJson(e);
  payload.as_object()["container"] = container.ToString();
  Event ev;
  ev.stream = Stream::kExecution;
  ev.frame = Frame(Stream::kExecution, std::move(payload));
  ev.container = container;
  ev.state = e.state;
  out.push_back(std::move(ev));
  if (e.state != VmState::kHalt) return;
  for (const auto& n : e.notifications) {
    json::value np = NotificationToJson(n);
    np.as_object()["container"] = container.ToString();
    Event ne;
    ne.stream = Stream::kNotification;
    ne.frame = Frame(Stream::kNotification, std::move(np));
    ne.container = container;
    ne.state = e.state;
    ne.contract = n.contract;
    ne.name = n.event_name;
    out.push_back(std::move(ne));
  }
}

Status BadFilter(std::string why) {
  return InvalidParams(std::move(why));
}

StatusOr<UInt160> Hash160Of(const json::value& v, std::string_view field) {
  auto h = v.is_string() ? UInt160::Parse(v.get_string()) : StatusOr<UInt160>(InvalidArgumentError("not a string"));
  if (!h.ok()) return BadFilter(std::string(field) + ": not a 160-bit hash");
  return *h;
}

StatusOr<uint32_t> Uint32Of(const json::value& v, std::string_view field) {
  boost::system::error_code ec;
  if (!v.is_number()) return BadFilter(std::string(field) + ": not a number");
  auto n = v.to_number<uint32_t>(ec);
  if (ec) return BadFilter(std::string(field) + ": not a 32-bit unsigned integer");
  return n;
}

}  // namespace

std::optional<Stream> StreamFromName(std::string_view name) {
  for (size_t i = 0; i < std::size(kStreamNames); ++i) {
    if (kStreamNames[i] == name) return static_cast<Stream>(i);
  }
  return std::nullopt;
}

std::vector<Event> BlockEventsToWs(const BlockEvents& events) {
  std::vector<Event> out;
  const neo::Block& block = events.block;
  AddExecution(block.hash(), events.on_persist, out);
  const auto& txs = block.transactions();
  for (size_t i = 0; i < txs.size(); ++i) {
    if (i < events.executions.size()) AddExecution(txs[i].hash(), events.executions[i], out);
    Event te;
    te.stream = Stream::kTransaction;
    te.frame = Frame(Stream::kTransaction, neo::TransactionToJson(txs[i]));
    for (const auto& s : txs[i].signers()) te.signers.push_back(s.account);
    out.push_back(std::move(te));
  }
  AddExecution(block.hash(), events.post_persist, out);
  Event be;
  be.stream = Stream::kBlock;
  be.frame = Frame(Stream::kBlock, neo::BlockToJson(block));
  be.index = block.header().index();
  be.primary = block.header().primary_index();
  out.push_back(std::move(be));
  return out;
}

StatusOr<Filter> ParseFilter(Stream stream, const json::value& json) {
  Filter f;
  if (json.is_null()) return f;
  const json::object* o = json.if_object();
  if (o == nullptr) return BadFilter("filter is not an object");
  // neo-go decodes filters with DisallowUnknownFields.
  for (const auto& [key, v] : *o) {
    if (v.is_null()) continue;
    switch (stream) {
      case Stream::kBlock:
        if (key == "primary") {
          boost::system::error_code ec;
          if (!v.is_number()) return BadFilter("primary: not a number");
          f.primary = v.to_number<int64_t>(ec);
          if (ec) return BadFilter("primary: not an integer");
        } else if (key == "since") {
          ASSIGN_OR_RETURN(f.since, Uint32Of(v, "since"));
        } else if (key == "till") {
          ASSIGN_OR_RETURN(f.till, Uint32Of(v, "till"));
        } else {
          return BadFilter("json: unknown field \"" + std::string(key) + "\"");
        }
        break;
      case Stream::kTransaction:
        if (key == "sender") {
          ASSIGN_OR_RETURN(f.sender, Hash160Of(v, "sender"));
        } else if (key == "signer") {
          ASSIGN_OR_RETURN(f.signer, Hash160Of(v, "signer"));
        } else {
          return BadFilter("json: unknown field \"" + std::string(key) + "\"");
        }
        break;
      case Stream::kNotification:
        if (key == "contract") {
          ASSIGN_OR_RETURN(f.contract, Hash160Of(v, "contract"));
        } else if (key == "name") {
          if (!v.is_string()) return BadFilter("name: not a string");
          f.name = std::string(v.get_string());
        } else {
          return BadFilter("json: unknown field \"" + std::string(key) + "\"");
        }
        break;
      case Stream::kExecution:
        if (key == "state") {
          if (!v.is_string() || (v.get_string() != "HALT" && v.get_string() != "FAULT")) {
            return BadFilter("invalid state");
          }
          f.state = v.get_string() == "HALT" ? VmState::kHalt : VmState::kFault;
        } else if (key == "container") {
          auto h = v.is_string() ? UInt256::Parse(v.get_string()) : StatusOr<UInt256>(InvalidArgumentError(""));
          if (!h.ok()) return BadFilter("container: not a 256-bit hash");
          f.container = *h;
        } else {
          return BadFilter("json: unknown field \"" + std::string(key) + "\"");
        }
        break;
    }
  }
  return f;
}

bool Matches(const Filter& f, const Event& e) {
  switch (e.stream) {
    case Stream::kBlock:
      return (!f.primary || *f.primary == e.primary) && (!f.since || e.index >= *f.since) &&
             (!f.till || e.index <= *f.till);
    case Stream::kTransaction: {
      bool sender = !f.sender || (!e.signers.empty() && e.signers.front() == *f.sender);
      bool signer = !f.signer;
      for (const auto& s : e.signers) signer = signer || s == *f.signer;
      return sender && signer;
    }
    case Stream::kExecution: return (!f.state || *f.state == e.state) && (!f.container || *f.container == e.container);
    case Stream::kNotification: return (!f.contract || *f.contract == e.contract) && (!f.name || *f.name == e.name);
  }
  return false;
}

StatusOr<json::value> SubscriptionTable::Subscribe(const json::array& params) {
  if (params.empty() || !params[0].is_string()) return InvalidParams("need a stream name");
  auto stream = StreamFromName(params[0].get_string());
  if (!stream) return InvalidParams("unknown stream " + std::string(params[0].get_string()));
  Filter filter;
  if (params.size() > 1) {
    ASSIGN_OR_RETURN(filter, ParseFilter(*stream, params[1]));
  }
  for (size_t id = 0; id < slots_.size(); ++id) {
    if (slots_[id].active) continue;
    slots_[id] = Subscription{true, *stream, std::move(filter)};
    return json::string(std::to_string(id));
  }
  return RpcError(-32603, "Internal server RpcError", "maximum number of subscriptions is reached");
}

StatusOr<json::value> SubscriptionTable::Unsubscribe(const json::array& params) {
  // neo-go reads the id with Param.GetInt: a number or a numeric string.
  int64_t id = -1;
  if (!params.empty()) {
    const json::value& v = params[0];
    if (v.is_int64()) id = v.get_int64();
    if (v.is_uint64() && v.get_uint64() < kMaxSubscriptions) id = static_cast<int64_t>(v.get_uint64());
    if (v.is_string() && !v.get_string().empty() && v.get_string().size() < 4) {
      id = 0;
      for (char c : v.get_string()) id = c >= '0' && c <= '9' ? id * 10 + (c - '0') : -1000;
    }
  }
  if (id < 0 || id >= static_cast<int64_t>(slots_.size()) || !slots_[id].active) {
    return InvalidParams("unknown subscription");
  }
  slots_[id] = Subscription{};
  return json::value(true);
}

bool SubscriptionTable::Wants(const Event& event) const {
  for (const auto& s : slots_) {
    if (s.active && s.stream == event.stream && Matches(s.filter, event)) return true;
  }
  return false;
}

const std::string& EventMissedFrame() {
  static const auto* frame = new std::string(R"({"jsonrpc":"2.0","method":"event_missed","params":[]})");
  return *frame;
}

}  // namespace neosl::devchain::rpc
