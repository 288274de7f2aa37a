// The oracle's figures (bench/oracle.sh runs it; docs/benchmarks.md, "Oracle"):
//
//   oracle_bench fetch SECONDS
//       fetch + check + filter of one loopback source per call (oracle::FetchSource through a
//       real SocketRelay and net::Fetcher, a new connection each time) against the peer: a plain
//       Boost.Beast client doing the same GET on a new connection, without checks or filter.
//   oracle_bench chain RPC_URL SERVE_LOG N
//       N SampleConsumer.request("oracle", …) transactions on a devchain whose `neosl serve`
//       answers them, one at a time; then, from the serve's log, the relay's time from seeing
//       each request's notification to sending its callback transaction (since_notified_us).
//   oracle_bench source ADDR_FILE
//       serves the source until killed, writing "127.0.0.1:PORT" to ADDR_FILE (for wrk runs).
//
// Each figure is a JSON line on stdout.
#include <atomic>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include <boost/asio.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/json.hpp>

#include "bench_util.h"
#include "core/clock.h"
#include "core/random.h"
#include "devchain/chain.h"
#include "neo/rpc_client.h"
#include "neo/script_builder.h"
#include "neo/tx_sender.h"
#include "net/fetcher.h"
#include "services/oracle/source_fetch.h"
#include "tee/socket_relay.h"

namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace json = boost::json;
using tcp = asio::ip::tcp;
using Clock = std::chrono::steady_clock;
using namespace neosl;

constexpr char kSampleConsumer[] = "0x746adb4cfa2fa90e0f16f1d1049b201b4db209de";

// A price document like a venue's ticker (~0.5 KB).
std::string Document() {
  json::object o{{"symbol", "NEOUSDT"},         {"priceChange", "-0.094"},    {"priceChangePercent", "-0.753"},
                 {"weightedAvgPrice", "12.46"}, {"lastPrice", "12.38"},       {"bidPrice", "12.37"},
                 {"askPrice", "12.38"},         {"openPrice", "12.47"},       {"highPrice", "12.81"},
                 {"lowPrice", "12.21"},         {"volume", "1873921.41"},     {"quoteVolume", "23352163.39"},
                 {"openTime", 1763683200000},   {"closeTime", 1763769599999}, {"count", 48211}};
  return json::serialize(json::object{{"data", o}, {"source", "bench"}, {"ok", true}});
}

// One thread: accept, read a request, answer the document, close.
class Source {
 public:
  Source() : acceptor_(io_, tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0)), body_(Document()) {
    thread_ = std::thread([this] { Run(); });
  }
  ~Source() noexcept {  // NOLINT(bugprone-exception-escape): join throws only on misuse
    stop_ = true;
    // A blocking accept does not see the acceptor close: a connection wakes it.
    beast::error_code ec;
    {
      asio::io_context io;
      tcp::socket wake(io);
      wake.connect(tcp::endpoint(asio::ip::make_address("127.0.0.1"), port()), ec);
    }
    thread_.join();
    acceptor_.close(ec);
  }
  uint16_t port() const { return acceptor_.local_endpoint().port(); }
  std::string url() const { return "http://127.0.0.1:" + std::to_string(port()) + "/api/v3/ticker?symbol=NEOUSDT"; }

 private:
  void Run() {
    while (!stop_) {
      tcp::socket socket(io_);
      beast::error_code ec;
      acceptor_.accept(socket, ec);
      if (ec) continue;
      beast::flat_buffer buffer;
      http::request<http::string_body> req;
      http::read(socket, buffer, req, ec);
      if (ec) continue;
      http::response<http::string_body> res{http::status::ok, req.version()};
      res.set(http::field::content_type, "application/json; charset=utf-8");
      res.keep_alive(false);
      res.body() = body_;
      res.prepare_payload();
      http::write(socket, res, ec);
      socket.shutdown(tcp::socket::shutdown_both, ec);
    }
  }

  asio::io_context io_;
  tcp::acceptor acceptor_;
  std::string body_;
  std::atomic<bool> stop_{false};
  std::thread thread_;
};

void Report(const char* measure, const std::vector<double>& us, double seconds) {
  std::printf("{\"measure\":\"%s\",\"count\":%zu,\"per_second\":%.0f,\"p50_us\":%.1f,\"p99_us\":%.1f}\n", measure,
              us.size(), double(us.size()) / seconds, bench::Percentile(us, 0.5), bench::Percentile(us, 0.99));
  std::fflush(stdout);
}

int Fetch(double seconds) {
  Source source;
  auto relay = tee::SocketRelay::Create({.allow_private = {"127.0.0.1/32"}});
  if (!relay.ok()) return std::fprintf(stderr, "%s\n", relay.status().ToString().c_str()), 1;
  auto fetcher = net::Fetcher::Create(oracle::OracleFetcherOptions(), **relay);
  if (!fetcher.ok()) return std::fprintf(stderr, "%s\n", fetcher.status().ToString().c_str()), 1;
  const oracle::SourceRequest request{source.url(), "$.data.lastPrice", {}};
  const oracle::SourceLimits limits;
  auto check = oracle::FetchSource(**fetcher, request, limits, {});
  if (check.code != oracle::ResponseCode::kSuccess || check.result != "[\"12.38\"]") {
    return std::fprintf(stderr, "the source fetch failed: %s\n", check.detail.c_str()), 1;
  }

  // The peer: the same GET, a new connection each time, no checks, no filter.
  asio::io_context io;
  auto plain = [&]() -> bool {
    tcp::socket socket(io);
    beast::error_code ec;
    socket.connect(tcp::endpoint(asio::ip::make_address("127.0.0.1"), source.port()), ec);
    if (ec) return false;
    http::request<http::empty_body> req{http::verb::get, "/api/v3/ticker?symbol=NEOUSDT", 11};
    req.set(http::field::host, "127.0.0.1");
    http::write(socket, req, ec);
    beast::flat_buffer buffer;
    http::response<http::string_body> res;
    http::read(socket, buffer, res, ec);
    return !ec && res.result() == http::status::ok;
  };

  // Interleaved rounds, so that neither side gets the quieter half of the run.
  std::vector<double> ours, peer;
  double ours_s = 0, peer_s = 0;
  const int rounds = 5;
  for (int round = 0; round < rounds; ++round) {
    for (int side = 0; side < 2; ++side) {
      auto& samples = side == 0 ? ours : peer;
      auto& total = side == 0 ? ours_s : peer_s;
      const auto start = Clock::now();
      const auto until = start + std::chrono::duration<double>(seconds / rounds / 2);
      while (Clock::now() < until) {
        const auto t0 = Clock::now();
        bool ok = side == 0 ? oracle::FetchSource(**fetcher, request, limits, {}).code == oracle::ResponseCode::kSuccess
                            : plain();
        if (!ok) return std::fprintf(stderr, "a fetch failed\n"), 1;
        samples.push_back(std::chrono::duration<double, std::micro>(Clock::now() - t0).count());
      }
      total += std::chrono::duration<double>(Clock::now() - start).count();
    }
  }
  Report("fetch_filter", ours, ours_s);
  Report("plain_get", peer, peer_s);
  return 0;
}

int Chain(const std::string& rpc_url, const std::string& log_path, int n) {
  Source source;
  RandomSource& random = SecureRandom::Instance();
  neo::HttpRpcClientOptions o;
  o.url = rpc_url;
  auto rpc = neo::HttpRpcClient::Create(o, SystemClock::Instance(), random);
  if (!rpc.ok()) return std::fprintf(stderr, "%s\n", rpc.status().ToString().c_str()), 1;
  neo::KeyTransactionSigner signer(devchain::DevWalletAt(0).key);
  neo::TransactionSender sender(**rpc, signer, random, [](std::chrono::milliseconds d) {
    std::this_thread::sleep_for(std::min<std::chrono::milliseconds>(d, std::chrono::milliseconds(2)));
  });
  const auto consumer = *neo::UInt160::Parse(kSampleConsumer);
  const std::string payload = json::serialize(json::object{{"url", source.url()}, {"filter", "$.data.lastPrice"}});
  std::vector<double> round_trip;
  const auto start = Clock::now();
  for (int i = 0; i < n; ++i) {
    neo::ScriptBuilder sb;
    sb.EmitContractCall(consumer, "request", neo::CallFlags::All,
                        {*neo::ContractParam::String("oracle"),
                         neo::ContractParam::Bytes(std::vector<uint8_t>(payload.begin(), payload.end()))});
    const auto t0 = Clock::now();
    auto outcome = sender.Execute(sb.Take());
    if (!outcome.ok()) return std::fprintf(stderr, "request: %s\n", outcome.status().ToString().c_str()), 1;
    std::string id;
    for (const auto& note : outcome->notifications) {
      if (note.event_name != "ServiceRequest") continue;
      auto items = note.state.AsArray();
      if (!items.ok()) continue;
      auto text = (*items)[0].IntegerText();
      if (text.ok()) id = *text;
    }
    if (id.empty()) return std::fprintf(stderr, "no ServiceRequest notification\n"), 1;
    // Wait for the answer on chain, so that requests do not queue behind each other.
    const auto deadline = Clock::now() + std::chrono::seconds(30);
    bool answered = false;
    while (!answered && Clock::now() < deadline) {
      auto r = (*rpc)->InvokeFunction(
          consumer, "getResponse",
          neo::ContractParamsJson(std::vector{neo::ContractParam::Int(*neo::BigInteger::FromDecimal(id))}), {});
      if (r.ok() && !r->stack.empty()) {
        auto items = r->stack[0].AsArray();
        answered = items.ok() && items->size() == 4;
      }
      if (!answered) std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
    if (!answered) return std::fprintf(stderr, "request %s was not answered in 30 s\n", id.c_str()), 1;
    round_trip.push_back(std::chrono::duration<double, std::micro>(Clock::now() - t0).count());
  }
  Report("request_tx_to_answer_on_chain", round_trip, std::chrono::duration<double>(Clock::now() - start).count());

  // The relay's own figure, from the serve's log: notification seen → callback transaction sent.
  std::ifstream log(log_path);
  std::vector<double> overhead;
  for (std::string line; std::getline(log, line);) {
    if (line.find("chain request answer sent") == std::string::npos) continue;
    boost::system::error_code ec;
    json::value v = json::parse(line, ec);
    if (ec || !v.is_object()) continue;
    const json::object& obj = v.as_object();
    const json::value* fields = obj.if_contains("fields");
    const json::object& f = fields && fields->is_object() ? fields->as_object() : obj;
    const json::value* service = f.if_contains("service");
    const json::value* us = f.if_contains("since_notified_us");
    if (!service || !us || !service->is_string() || service->as_string() != "oracle") continue;
    if (us->is_int64() && us->as_int64() >= 0) overhead.push_back(double(us->as_int64()));
  }
  if (overhead.size() != size_t(n)) {
    return std::fprintf(stderr, "the serve's log has %zu answers with since_notified_us, not %d\n", overhead.size(), n),
           1;
  }
  Report("notification_to_callback_sent", overhead, 1.0);
  return 0;
}

int ServeSource(const std::string& addr_file) {
  Source source;
  std::ofstream(addr_file) << "127.0.0.1:" << source.port() << "\n";
  for (;;) std::this_thread::sleep_for(std::chrono::hours(1));
}

}  // namespace

int main(int argc, char** argv) try {
  const std::string mode = argc > 1 ? argv[1] : "";
  if (mode == "fetch" && argc == 3) return Fetch(std::stod(argv[2]));
  if (mode == "chain" && argc == 5) return Chain(argv[2], argv[3], std::stoi(argv[4]));
  if (mode == "source" && argc == 3) return ServeSource(argv[2]);
  std::fprintf(stderr,
               "usage: oracle_bench fetch SECONDS | chain RPC_URL SERVE_LOG N | source ADDR_FILE "
               "(bench/oracle.sh runs it)\n");
  return 2;
} catch (const std::exception& e) {
  std::fprintf(stderr, "oracle_bench: %s\n", e.what());
  return 1;
}
