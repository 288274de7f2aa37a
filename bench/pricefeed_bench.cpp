// The price feed's figures (bench/pricefeed.sh runs this), through a real `neosl serve` with its
// devchain, against five venues on loopback answering in their real formats
// (tests/integration/pricefeed/venue_servers.h):
//
//   latency N POLL_MS
//     a feed targeting SamplePriceFeed with a 10 bps deviation; N times, at a random moment
//     within the poll interval: every venue's price moves, and we time until getPrice on chain
//     shows it (the update transaction sent, mined on
//     arrival, and read back). Also the part after the round that first saw the move began (its
//     first venue request): what the service adds beyond waiting for the next poll.
//   capacity PAIRS SECONDS POLL_MS
//     PAIRS pairs, a feed on each (no target: the round, aggregation, signatures, decision and
//     store, no transaction), POLL_MS apart; the serve's CPU (its process and its enclaves)
//     over SECONDS gives rounds per CPU-second, i.e. feeds per core at that poll interval. The
//     peer, in the same run: a plain client doing each round's five GETs (a new connection each,
//     like the enclave's fetcher) and parsing the JSON, on one thread, CPU timed the same way.
//
// Prints one JSON line per measure.
#include <charconv>
#include <chrono>
#include <cinttypes>
#include <cstdio>
#include <dirent.h>
#include <fstream>
#include <random>
#include <sstream>
#include <string>
#include <thread>
#include <time.h>
#include <unistd.h>
#include <vector>

#include <boost/asio.hpp>
#include <boost/beast.hpp>
#include <boost/json.hpp>
#include <sys/resource.h>

#include "bench/bench_util.h"
#include "core/random.h"
#include "crypto/p256.h"
#include "devchain/chain.h"
#include "devchain/native.h"
#include "integration/pricefeed/venue_servers.h"
#include "neo/rpc_client.h"
#include "neo/script_builder.h"
#include "neo/tx_sender.h"
#include "support/http_client.h"
#include "support/server_process.h"

namespace neosl {
namespace {

using Clock = std::chrono::steady_clock;
using pricefeed::testing::VenueServers;
namespace json = boost::json;

[[noreturn]] void Die(const std::string& what) {
  std::fprintf(stderr, "pricefeed_bench: %s\n", what.c_str());
  std::exit(1);  // NOLINT(concurrency-mt-unsafe): a one-shot benchmark gives up here
}

// A positive integer argument, or the benchmark stops with its name.
int PositiveArg(const char* text, const char* name) {
  int v = 0;
  const std::string_view s(text);
  const auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || end != s.data() + s.size() || v <= 0) Die(std::string(name) + " must be a positive integer");
  return v;
}

std::vector<std::pair<std::string, std::string>> ServeEnv(const VenueServers& venues, int poll_ms) {
  std::vector<std::pair<std::string, std::string>> env = {
      {"NEOSL_NET_ALLOW_PRIVATE", "127.0.0.1/32"},
      {"NEOSL_NET_PER_HOST_RATE", "0"},  // every venue is 127.0.0.1 here
      {"NEOSL_PRICEFEED_POLL_INTERVAL_MS", std::to_string(poll_ms)},
      {"NEOSL_CHAIN_DEVCHAIN_BLOCK_MS", "0"},
      {"NEOSL_LOG_REQUESTS", "false"},
      {"NEOSL_RATE_LIMITS_PER_CALLER_DEFAULT_REQUESTS_PER_SECOND", "100000000"},
      {"NEOSL_RATE_LIMITS_PER_CALLER_DEFAULT_BURST", "100000000"}};
  for (const auto& [k, v] : venues.Env()) env.emplace_back(k, v);
  return env;
}

std::unique_ptr<testing::ServerProcess> StartServe(testing::ServerOptions options) {
  std::string error;
  auto server = testing::ServerProcess::Start(std::move(options), &error);
  if (!server) Die("neosl serve did not start: " + error);
  return server;
}

std::string PriceText(int64_t cents) {
  return std::to_string(cents / 100) + "." + (cents % 100 < 10 ? "0" : "") + std::to_string(cents % 100);
}

double Ms(Clock::duration d) {
  return std::chrono::duration<double, std::milli>(d).count();
}

int Latency(int n, int poll_ms) {
  VenueServers venues("10.00");
  testing::ServerOptions options;
  options.env = ServeEnv(venues, poll_ms);
  auto server = StartServe(std::move(options));
  testing::HttpClient http(server->address());
  const std::string key = server->admin_key();

  std::string chain_addr;
  std::ifstream(server->data_dir() + "/devchain/listen.addr") >> chain_addr;
  neo::HttpRpcClientOptions rpc_options;
  rpc_options.url = "http://" + chain_addr;
  auto rpc = neo::HttpRpcClient::Create(rpc_options, SystemClock::Instance(), SecureRandom::Instance());
  if (!rpc.ok()) Die(rpc.status().ToString());
  neo::KeyTransactionSigner signer(devchain::DevWalletAt(0).key);
  neo::TransactionSender sender(**rpc, signer, SecureRandom::Instance(), [](std::chrono::milliseconds d) {
    std::this_thread::sleep_for(std::min<std::chrono::milliseconds>(d, std::chrono::milliseconds(5)));
  });
  const neo::UInt160 feed_contract = devchain::NativeRegistry::SamplePriceFeedHash();

  auto att = http.Get("/v1/attestation?nonce=00112233445566778899");
  auto report_key =
      crypto::PublicKey::FromHex(std::string(json::parse(att.body).at("public_keys").at("report").as_string()));
  if (!report_key.ok()) Die("no report key: " + att.body);
  neo::ScriptBuilder set_key;
  set_key.EmitContractCall(feed_contract, "setReportKey", neo::CallFlags::All,
                           {neo::ContractParam::PublicKey(*report_key)});
  if (auto set = sender.Execute(set_key.Take()); !set.ok()) Die("setReportKey: " + set.status().ToString());

  const std::string body = R"({"pair":"NEO/USD","deviation_bps":10,"hysteresis_bps":0,"heartbeat_s":86400,)"
                           R"("target":{"contract":")" +
                           feed_contract.ToString() + R"("}})";
  auto created = http.Request("POST", "/v1/feeds", body,
                              {{"authorization", "Bearer " + key}, {"content-type", "application/json"}});
  if (created.status != 201) Die("POST /v1/feeds: " + created.body);

  const auto chain_price = [&]() -> int64_t {
    auto r = (*rpc)->InvokeFunction(feed_contract, "getPrice",
                                    neo::ContractParamsJson(std::vector{*neo::ContractParam::String("NEO/USD")}), {});
    if (!r.ok() || r->stack.empty()) return 0;
    auto items = r->stack[0].AsArray();
    if (!items.ok() || items->size() != 4) return 0;
    auto price = (*items)[0].AsInt64();
    return price.ok() ? *price : 0;
  };
  const auto wait_for = [&](int64_t price, Clock::time_point deadline) {
    while (Clock::now() < deadline) {
      if (chain_price() == price) return true;
      std::this_thread::sleep_for(std::chrono::microseconds(500));  // the chain is polled; bounded by the deadline
    }
    return false;
  };
  if (!wait_for(1'000'000'000, Clock::now() + std::chrono::seconds(30))) Die("the first update never landed");

  std::vector<double> total, after_round;
  int64_t cents = 1000;
  std::mt19937 phase(12345);
  std::uniform_int_distribution<int> within(0, poll_ms - 1);
  for (int i = 0; i < n; ++i) {
    cents += 10;  // +0.1 (≥ 30 bps at these prices): over the deviation every time
    // A source moves at any moment, not just after an update landed: a random phase within the
    // poll interval (without it every move would wait exactly one interval).
    std::this_thread::sleep_for(std::chrono::milliseconds(within(phase)));
    const auto t0 = Clock::now();
    venues.SetAllPrices(PriceText(cents));
    if (!wait_for(cents * 1'000'000, t0 + std::chrono::seconds(30))) Die("update " + std::to_string(i) + " missing");
    const auto t1 = Clock::now();
    total.push_back(Ms(t1 - t0));
    if (auto asked = venues.FirstRequestAfter("binance", t0)) after_round.push_back(Ms(t1 - *asked));
  }
  std::printf(
      "{\"measure\":\"source_change_to_update_on_chain\",\"count\":%d,\"poll_ms\":%d,\"p50_ms\":%.2f,"
      "\"p99_ms\":%.2f}\n",
      n, poll_ms, bench::Percentile(total, 0.5), bench::Percentile(total, 0.99));
  std::printf("{\"measure\":\"round_start_to_update_on_chain\",\"count\":%zu,\"p50_ms\":%.2f,\"p99_ms\":%.2f}\n",
              after_round.size(), bench::Percentile(after_round, 0.5), bench::Percentile(after_round, 0.99));
  return 0;
}

// utime + stime of `pid` and every process whose parent it is (the enclaves), in seconds.
double TreeCpuSeconds(pid_t pid) {
  const double tick = double(sysconf(_SC_CLK_TCK));
  auto cpu_of = [&](const std::string& stat_path, pid_t* parent) -> double {
    std::ifstream in(stat_path);
    std::string line;
    if (!std::getline(in, line)) return 0;
    const size_t close = line.rfind(')');
    if (close == std::string::npos) return 0;
    std::istringstream rest(line.substr(close + 2));
    std::string field;
    std::vector<std::string> f;
    while (rest >> field) f.push_back(field);
    // After "(comm) ": state ppid … utime is field 14 of the whole line, i.e. f[11]; stime f[12].
    if (f.size() < 13) return 0;
    if (parent) *parent = pid_t(std::stol(f[1]));
    return (std::stod(f[11]) + std::stod(f[12])) / tick;
  };
  double total = cpu_of("/proc/" + std::to_string(pid) + "/stat", nullptr);
  if (DIR* d = opendir("/proc")) {
    while (dirent* e = readdir(d)) {  // NOLINT(concurrency-mt-unsafe): this thread alone reads /proc
      const std::string name = e->d_name;
      if (name.empty() || name.find_first_not_of("0123456789") != std::string::npos) continue;
      pid_t parent = 0;
      const double cpu = cpu_of("/proc/" + name + "/stat", &parent);
      if (parent == pid) total += cpu;
    }
    closedir(d);
  }
  return total;
}

double ThreadCpuSeconds() {
  timespec ts{};
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return double(ts.tv_sec) + double(ts.tv_nsec) / 1e9;
}

// The peer: one round's five GETs, each on a new connection, and the JSON parsed.
void PeerRound(boost::asio::io_context& ioc, const std::vector<std::pair<std::string, std::string>>& targets) {
  namespace beast = boost::beast;
  namespace http = beast::http;
  for (const auto& [hostport, target] : targets) {
    const size_t colon = hostport.rfind(':');
    beast::tcp_stream stream(ioc);
    stream.connect(boost::asio::ip::tcp::endpoint(boost::asio::ip::make_address(hostport.substr(0, colon)),
                                                  uint16_t(std::stoi(hostport.substr(colon + 1)))));
    http::request<http::empty_body> req(http::verb::get, target, 11);
    req.set(http::field::host, hostport);
    req.set(http::field::accept, "application/json");
    http::write(stream, req);
    beast::flat_buffer buffer;
    http::response<http::string_body> res;
    http::read(stream, buffer, res);
    boost::system::error_code ec;
    auto parsed = json::parse(res.body(), ec);
    if (ec || !parsed.is_object()) Die("the peer could not parse a venue's answer");
    beast::error_code ignored;
    stream.socket().shutdown(boost::asio::ip::tcp::socket::shutdown_both, ignored);
  }
}

int Capacity(int pairs, int seconds, int poll_ms) {
  VenueServers venues("10.00");
  std::string yaml = "pricefeed:\n  threads: 16\n  max_feeds_per_account: 1000000\n  pairs:\n";
  for (int i = 0; i < pairs; ++i) {
    char name[16];
    std::snprintf(name, sizeof name, "T%04d_USD", i);
    yaml += std::string("    ") + name + ":\n      decimals: 8\n";
  }
  testing::ServerOptions options;
  options.env = ServeEnv(venues, poll_ms);
  options.config_yaml = yaml;
  auto server = StartServe(std::move(options));
  testing::HttpClient http(server->address());
  const std::string key = server->admin_key();
  for (int i = 0; i < pairs; ++i) {
    char pair[16];
    std::snprintf(pair, sizeof pair, "T%04d/USD", i);
    auto r = http.Request("POST", "/v1/feeds", std::string(R"({"pair":")") + pair + R"(","heartbeat_s":86400})",
                          {{"authorization", "Bearer " + key}, {"content-type", "application/json"}});
    if (r.status != 201) Die("POST /v1/feeds: " + r.body);
  }
  const auto rounds_so_far = [&] {
    auto r = http.Request("GET", "/v1/prices", "", {{"authorization", "Bearer " + key}});
    int64_t sum = 0, ok = 0;
    const json::value all = json::parse(r.body);
    for (const auto& p : all.at("prices").as_array()) {
      sum += std::stoll(std::string(p.at("round").as_string().empty() ? "0" : p.at("round").as_string()));
      ok += p.at("status").as_string() == "ok" && p.at("has_report").as_bool();
    }
    return std::pair{sum, ok};
  };
  std::this_thread::sleep_for(std::chrono::seconds(3));  // warm-up: every pair has had rounds
  const auto [rounds0, ok0] = rounds_so_far();
  const double cpu0 = TreeCpuSeconds(server->pid());
  const auto t0 = Clock::now();
  std::this_thread::sleep_for(std::chrono::seconds(seconds));  // the measured window
  const double cpu1 = TreeCpuSeconds(server->pid());
  const double wall = std::chrono::duration<double>(Clock::now() - t0).count();
  const auto [rounds1, ok1] = rounds_so_far();
  const double rounds = double(rounds1 - rounds0);
  const double cpu = cpu1 - cpu0;
  std::printf(
      "{\"measure\":\"capacity\",\"pairs\":%d,\"poll_ms\":%d,\"seconds\":%.1f,\"rounds\":%.0f,"
      "\"expected_rounds\":%.0f,\"pairs_ok\":%" PRId64 ",\"cpu_seconds\":%.2f,\"rounds_per_cpu_second\":%.1f}\n",
      pairs, poll_ms, wall, rounds, wall * 1000.0 / poll_ms * pairs, ok1, cpu, cpu > 0 ? rounds / cpu : 0.0);
  (void)ok0;

  // The peer, on this thread: the same five requests per round, the JSON parsed.
  std::vector<std::pair<std::string, std::string>> targets;
  for (std::string_view v : VenueServers::kVenues) {
    std::string base = venues.BaseUrl(v).substr(std::string_view("http://").size());
    std::string target = v == "binance"    ? "/api/v3/ticker/24hr?symbol=T0001USDT"
                         : v == "coinbase" ? "/products/T0001-USD/ticker"
                         : v == "okx"      ? "/api/v5/market/ticker?instId=T0001-USDT"
                         : v == "kraken"   ? "/0/public/Ticker?pair=T0001USD"
                                           : "/api/v3/simple/price?ids=t0001&vs_currencies=usd&include_24hr_vol=true&"
                                             "include_last_updated_at=true";
    targets.emplace_back(std::move(base), std::move(target));
  }
  boost::asio::io_context ioc;
  const double peer_cpu0 = ThreadCpuSeconds();
  int peer_rounds = 0;
  const auto peer_end = Clock::now() + std::chrono::seconds(seconds);
  while (Clock::now() < peer_end) {
    PeerRound(ioc, targets);
    ++peer_rounds;
  }
  const double peer_cpu = ThreadCpuSeconds() - peer_cpu0;
  std::printf("{\"measure\":\"peer_plain_rounds\",\"rounds\":%d,\"cpu_seconds\":%.2f,\"rounds_per_cpu_second\":%.1f}\n",
              peer_rounds, peer_cpu, peer_cpu > 0 ? peer_rounds / peer_cpu : 0.0);
  return 0;
}

}  // namespace
}  // namespace neosl

int main(int argc, char** argv) {
  using neosl::PositiveArg;
  const std::string mode = argc > 1 ? argv[1] : "";
  try {
    if (mode == "latency" && argc == 4) {
      return neosl::Latency(PositiveArg(argv[2], "N"), PositiveArg(argv[3], "POLL_MS"));
    }
    if (mode == "capacity" && argc == 5) {
      return neosl::Capacity(PositiveArg(argv[2], "PAIRS"), PositiveArg(argv[3], "SECONDS"),
                             PositiveArg(argv[4], "POLL_MS"));
    }
  } catch (const std::exception& e) {  // Beast and Boost.JSON report trouble by throwing
    std::fprintf(stderr, "pricefeed_bench: %s\n", e.what());
    return 1;
  }
  std::fprintf(stderr, "usage: pricefeed_bench latency N POLL_MS | capacity PAIRS SECONDS POLL_MS\n");
  return 2;
}
