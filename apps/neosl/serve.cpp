#include "apps/neosl/serve.h"

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fcntl.h>
#include <filesystem>
#include <memory>
#include <signal.h>
#include <system_error>
#include <thread>
#include <unistd.h>

#include <openssl/crypto.h>
#include <sys/file.h>
#include <sys/stat.h>

#include "apps/neosl/automation_setup.h"
#include "apps/neosl/chain_reads.h"
#include "apps/neosl/chain_relay.h"
#include "apps/neosl/cli_store.h"
#include "apps/neosl/devchain_cli.h"
#include "apps/neosl/enclave_host.h"
#include "apps/neosl/mesh_host.h"
#include "apps/neosl/replica.h"
#include "core/clock.h"
#include "core/config.h"
#include "core/encoding.h"
#include "core/log.h"
#include "core/random.h"
#include "core/rate_limiter.h"
#include "crypto/kdf.h"
#include "gateway/accounts.h"
#include "gateway/auth.h"
#include "gateway/gateway.h"
#include "gateway/grpc_routes.h"
#include "gateway/operations_service.h"
#include "gateway/routes.h"
#include "gateway/server.h"
#include "gateway/ws_hub.h"
#include "gateway/ws_mesh_channel.h"
#include "neo/rpc_client.h"
#include "net/fetcher.h"
#include "schema/migrations.h"
#include "services/gasbank/gasbank_service.h"
#include "services/pricefeed/pricefeed_service.h"
#include "store/open_store.h"

namespace neosl::app {
namespace {

// strerror is not thread-safe; std::generic_category's message is.
std::string ErrnoMessage(int err) {
  return std::error_code(err, std::generic_category()).message();
}

StatusOr<Config> LoadConfig(const ServeFlags& flags) {
  std::map<std::string, std::string> overrides;
  if (flags.listen) overrides["listen"] = *flags.listen;
  if (flags.data_dir) overrides["data_dir"] = *flags.data_dir;
  if (flags.role) overrides["mesh.role"] = *flags.role;
  return LoadServeConfig(flags.config_file, overrides);
}

Status EnsureDataDir(const std::string& dir) {
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (ec) return UnavailableError("cannot create data directory " + dir + ": " + ec.message());
  if (access(dir.c_str(), W_OK) != 0) return UnavailableError("data directory " + dir + " is not writable");
  chmod(dir.c_str(), 0700);
  return Status();
}

std::span<const uint8_t> AsBytes(std::string_view text) {
  return std::span(reinterpret_cast<const uint8_t*>(text.data()), text.size());
}

// operations.* (docs/operations.md); the owner, fetcher and key are the caller's to set.
StatusOr<gateway::OperationsOptions> OperationsOptionsFromConfig(const Config& config) {
  gateway::OperationsOptions o;
  const int64_t threads = config.Int("operations.threads"), queued = config.Int("operations.max_queued");
  const int64_t backoff = config.Int("operations.webhook_backoff_ms");
  const int64_t max_backoff = config.Int("operations.webhook_max_backoff_ms");
  const int64_t retry_for = config.Int("operations.webhook_retry_for_ms");
  const int64_t timeout = config.Int("operations.webhook_timeout_ms");
  const int64_t poll = config.Int("operations.stream_poll_ms"), orphan = config.Int("operations.orphan_after_ms");
  if (threads < 1 || threads > 1024 || queued < 1) {
    return InvalidArgumentError("operations.threads must be 1 to 1024 and operations.max_queued at least 1");
  }
  if (backoff < 1 || max_backoff < backoff || retry_for < 0 || timeout < 100 || timeout > 30'000) {
    return InvalidArgumentError(
        "operations.webhook_backoff_ms must be at least 1 and at most webhook_max_backoff_ms, webhook_retry_for_ms "
        "not negative, webhook_timeout_ms 100 to 30000");
  }
  if (poll < 10 || poll > 60'000 || orphan < 0 || (orphan > 0 && orphan < 1'000)) {
    return InvalidArgumentError(
        "operations.stream_poll_ms must be 10 to 60000, and operations.orphan_after_ms 0 (never adopt) or at least "
        "1000");
  }
  o.stream_poll = std::chrono::milliseconds(poll);
  o.orphan_after = std::chrono::milliseconds(orphan);
  o.threads = int(threads);
  o.max_queued = size_t(queued);
  o.allow_http_webhooks = config.Bool("operations.allow_http_webhooks");
  o.webhook_backoff = std::chrono::milliseconds(backoff);
  o.webhook_max_backoff = std::chrono::milliseconds(max_backoff);
  o.webhook_retry_for = std::chrono::milliseconds(retry_for);
  o.webhook_timeout = std::chrono::milliseconds(timeout);
  return o;
}

int Fail(const Status& s) {
  log::Error("startup failed", {{"error", StatusCodeName(s.code())}, {"message", s.message()}});
  log::Flush();
  std::fprintf(stderr, "neosl serve: %s\n", s.ToString().c_str());
  return 1;
}

// Whether this process hosts a service with singletons (singletons.h), and so takes part in a
// lease (replica.h): the price feed, the gas bank, automation, or a service the relay answers for.
bool HostsSingletons(const MeshHost& mesh) {
  return mesh.pricefeed != nullptr || mesh.gasbank != nullptr || mesh.automation != nullptr || mesh.random != nullptr ||
         mesh.oracle != nullptr;
}

// A service role: no REST API; the mesh server, and the role's singletons under its lease, until
// a stop signal (or the lease lost: exit 3).
int ServeRole(const Config& config, const std::string& data_dir, MeshHost& mesh, RunningEnclave& enclave,
              store::Store& store, const std::shared_ptr<neo::ChainReadCache>& chain_cache, Clock& clock,
              RandomSource& random, sigset_t& stop_signals, const std::string& addr_file) {
  ChainConnection chain;
  std::unique_ptr<Replica> replica;
  if (HostsSingletons(mesh)) {
    auto connected = ConnectChain(config, data_dir, /*embed=*/false, chain_cache, clock, random);
    if (!connected.ok()) return Fail(connected.status());
    chain = std::move(*connected);
    auto started = Replica::Start(config, data_dir, mesh.role, store, chain, enclave, mesh, clock, random);
    if (!started.ok()) return Fail(started.status());
    replica = std::move(*started);
  }
  if (Status s = WriteFileAtomic(addr_file, mesh.bound + "\n", 0644); !s.ok()) return Fail(s);
  log::Info("serving", {{"role", mesh.role},
                        {"instance", mesh.instance},
                        {"address", mesh.bound},
                        {"registry", mesh.registry->backend()},
                        {"tls", !config.Bool("mesh.insecure")},
                        {"store", store.backend()},
                        {"chain", chain.options.url.empty() ? "none" : chain.options.url},
                        {"replica", replica ? replica->id() : ""},
                        {"leader", replica != nullptr && replica->leader()}});
  int exit_code = 0;
  if (replica) {
    exit_code = replica->Run(stop_signals);
  } else {
    int sig = 0;
    sigwait(&stop_signals, &sig);
    log::Info("draining", {{"signal", sig == SIGTERM ? "SIGTERM" : "SIGINT"}});
  }
  replica.reset();
  mesh.Stop(std::chrono::milliseconds(config.Int("mesh.drain_ms")));
  enclave.Stop();
  unlink(addr_file.c_str());
  log::Info("stopped", {});
  log::Flush();
  return exit_code;
}

}  // namespace

Status WriteFileAtomic(const std::string& path, std::string_view content, mode_t mode) {
  std::string tmp = path + ".tmp";
  int fd = open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
  if (fd < 0) return UnavailableError("cannot create " + tmp + ": " + ErrnoMessage(errno));
  bool ok =
      fchmod(fd, mode) == 0 && write(fd, content.data(), content.size()) == ssize_t(content.size()) && fsync(fd) == 0;
  close(fd);
  if (!ok || rename(tmp.c_str(), path.c_str()) != 0) {
    int err = errno;
    unlink(tmp.c_str());
    return UnavailableError("cannot write " + path + ": " + ErrnoMessage(err));
  }
  return Status();
}

int RunConfigPrint(const ServeFlags& flags) {
  auto config = LoadConfig(flags);
  if (!config.ok()) {
    std::fprintf(stderr, "neosl config print: %s\n", config.status().ToString().c_str());
    return 1;
  }
  std::printf("%s\n", config->ToJson(/*redact=*/true).c_str());
  return 0;
}

int RunServe(const ServeFlags& flags) {
  // Block the stop signals before any thread starts so that only sigwait below receives them.
  sigset_t stop_signals;
  sigemptyset(&stop_signals);
  sigaddset(&stop_signals, SIGINT);
  sigaddset(&stop_signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &stop_signals, nullptr);
  signal(SIGPIPE, SIG_IGN);

  auto config_or = LoadConfig(flags);
  if (!config_or.ok()) {
    std::fprintf(stderr, "neosl serve: %s\n", config_or.status().ToString().c_str());
    return 1;
  }
  const Config& config = *config_or;

  log::Options log_options;
  auto level = log::ParseLevel(config.String("log.level"));
  if (!level.ok()) return Fail(level.status().Annotate("log.level"));
  log_options.level = *level;
  const std::string& format = config.String("log.format");
  if (format != "json" && format != "text") return Fail(InvalidArgumentError("log.format must be json or text"));
  log_options.json = format == "json";
  log_options.file = config.String("log.file");
  if (Status s = log::Init(log_options); !s.ok()) return Fail(s);
  for (const auto& name : config.UnusedEnvironment()) {
    log::Warn("environment variable matches no configuration key", {{"variable", name}});
  }

  const std::string data_dir = config.String("data_dir");
  if (Status s = EnsureDataDir(data_dir); !s.ok()) return Fail(s);
  // One process per data dir: two would share the replica id, the sealed state and listen.addr.
  // The lock is held until exit (the descriptor is never closed) and dies with the process.
  if (int lock_fd = open((data_dir + "/serve.lock").c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
      lock_fd < 0 || flock(lock_fd, LOCK_EX | LOCK_NB) != 0) {
    return Fail(FailedPreconditionError("another neosl serve is using the data directory " + data_dir));
  }
  const std::string addr_file = data_dir + "/listen.addr";
  unlink(addr_file.c_str());  // never leave a stale address for a client to find

  // The store: the embedded SQLite file, or the PostgreSQL database replicas share.
  auto store_or = store::OpenStore(config, data_dir);
  if (!store_or.ok()) return Fail(store_or.status().Annotate("opening the store"));
  std::unique_ptr<store::Store> store = std::move(*store_or);
  if (Status s = store->Migrate(schema::Migrations()); !s.ok()) {
    return Fail(s.Annotate("migrating the " + std::string(store->backend()) + " store"));
  }

  Clock& clock = SystemClock::Instance();
  RandomSource& random = SecureRandom::Instance();
  auto secret = gateway::LoadKeyHashSecret(config, data_dir, random);
  if (!secret.ok()) return Fail(secret.status());
  // Webhook signing secrets derive from the key-hash secret, so replicas that share it sign alike.
  auto webhook_key = crypto::HkdfSha256(secret->bytes(), AsBytes("neosl-webhooks"), AsBytes("v1"), 32);
  if (!webhook_key.ok()) return Fail(webhook_key.status());
  gateway::KeyHasher hasher(std::move(*secret));
  gateway::AccountStore accounts(*store, hasher, clock, random);

  auto admin = accounts.BootstrapAdmin();
  if (!admin.ok()) return Fail(admin.status().Annotate("creating the admin key"));
  const std::string admin_file = data_dir + "/admin.key";
  if (admin->has_value()) {
    std::string content = (*admin)->token + "\n";
    Status s = WriteFileAtomic(admin_file, content, 0600);
    OPENSSL_cleanse(content.data(), content.size());
    OPENSSL_cleanse((*admin)->token.data(), (*admin)->token.size());
    if (!s.ok()) return Fail(s);
    log::Info("created the platform admin key", {{"path", admin_file}, {"key_id", (*admin)->record.id.str()}});
  } else if (access(admin_file.c_str(), F_OK) != 0) {
    log::Warn("the admin key file is missing; the admin key in the store is still valid", {{"path", admin_file}});
  }

  // The enclave: every key and secret lives there (docs/enclave.md).
  auto enclave_or = StartEnclave(config, data_dir);
  if (!enclave_or.ok()) return Fail(enclave_or.status().Annotate("starting the enclave"));
  std::unique_ptr<RunningEnclave> enclave = std::move(*enclave_or);

  // The mesh: every service in this process (role all), or this process's one role.
  const std::string& role = config.String("mesh.role");

  // The functions runtime, where functions run (role all or functions): sandboxed workers whose
  // context.neo.invokeRead reaches the chain (chain.rpc_url, or the devchain once it is up). Every
  // client of the chain in this process shares one chain-read cache.
  auto chain_cache_or = MakeChainCache(config, clock);
  if (!chain_cache_or.ok()) return Fail(chain_cache_or.status());
  const std::shared_ptr<neo::ChainReadCache> chain_cache = std::move(*chain_cache_or);
  auto chain_for_functions =
      std::make_shared<ChainForFunctions>(config.String("chain.rpc_url"), chain_cache, clock, random);
  std::unique_ptr<runtime::WorkerPool> functions_runtime;
  if ((role == "all" || role == "functions") && config.Bool("functions.enabled")) {
    auto pool = StartFunctionWorkers(
        config, data_dir, *enclave,
        [chain_for_functions](const std::string& contract, const std::string& method, const std::string& args) {
          return chain_for_functions->InvokeRead(contract, method, args);
        });
    if (!pool.ok()) return Fail(pool.status().Annotate("starting the functions runtime"));
    functions_runtime = std::move(*pool);
    log::Info("functions runtime running", {{"workers", std::to_string(functions_runtime->stats().workers)}});
  }
  auto mesh_or = StartMesh(config, data_dir, role, *enclave, *store, functions_runtime.get(), clock, random);
  if (!mesh_or.ok()) return Fail(mesh_or.status().Annotate("starting the mesh"));
  std::unique_ptr<MeshHost> mesh = std::move(*mesh_or);
  if (!mesh->serves_http()) {
    // A service role serves no REST API; its probes and scrapes reach it on
    // observability.listen (GET /v1/health, /v1/ready, /metrics), when that is set.
    std::unique_ptr<gateway::HttpServer> probes;
    RateLimiter probe_limiter(RateLimitConfig{}, clock);
    gateway::Authenticator probe_auth(accounts, hasher);
    gateway::Gateway probe_gw(probe_auth, probe_limiter, random, /*log_requests=*/false);
    if (const std::string& listen = config.String("observability.listen"); !listen.empty()) {
      gateway::RegisterSystemRoutes(probe_gw,
                                    {{"store", [&store] { return store->Ping(); }},
                                     {"enclave", [&enclave] { return enclave->Ping(); }},
                                     {"registry", [&mesh] { return mesh->registry->Resolve(mesh->role).status(); }}},
                                    clock, {[&mesh] { return mesh->RenderMetrics(); }});
      probe_gw.Freeze();
      gateway::ServerOptions probe_options;
      probe_options.listen = listen;
      probe_options.threads = 1;
      probe_options.handler_threads = 1;
      probe_options.blocking = [&probe_gw](const gateway::HttpRequest& req) { return probe_gw.Blocking(req); };
      probes = std::make_unique<gateway::HttpServer>(
          probe_options,
          [&probe_gw](const gateway::HttpRequest& req, gateway::HttpResponse& res) { probe_gw.Handle(req, res); });
      auto bound = probes->Start();
      if (!bound.ok()) return Fail(bound.status().Annotate("observability.listen"));
      if (Status s = WriteFileAtomic(data_dir + "/observability.addr", *bound + "\n", 0644); !s.ok()) return Fail(s);
      log::Info("probes and metrics listening", {{"address", *bound}});
    }
    int code =
        ServeRole(config, data_dir, *mesh, *enclave, *store, chain_cache, clock, random, stop_signals, addr_file);
    if (probes) probes->Stop();
    return code;
  }

  // The chain: a real node when chain.rpc_url is set, else the embedded devchain.
  auto chain_or = ConnectChain(config, data_dir, /*embed=*/true, chain_cache, clock, random);
  if (!chain_or.ok()) return Fail(chain_or.status());
  ChainConnection chain = std::move(*chain_or);
  neo::RpcClient* chain_rpc = chain.rpc.get();
  chain_for_functions->SetUrl(chain.options.url);

  // The singletons: run by the one replica that holds the lease (apps/neosl/replica.h). A lone
  // replica takes it at once, so on a single node they start here, before the API listens.
  auto replica_or = Replica::Start(config, data_dir, role, *store, chain, *enclave, *mesh, clock, random);
  if (!replica_or.ok()) return Fail(replica_or.status());
  std::unique_ptr<Replica> replica = std::move(*replica_or);

  // Shared by the gateway replicas through Redis when rate_limits.redis.dsn is set (docs/operations.md).
  auto limiter_or = NewGatewayRateLimiter(config, clock);
  if (!limiter_or.ok()) return Fail(limiter_or.status().Annotate("rate_limits"));
  RateLimiter& limiter = **limiter_or;
  gateway::Authenticator auth(accounts, hasher);
  gateway::Gateway gw(auth, limiter, random, config.Bool("log.requests"));
  gateway::RegisterSystemRoutes(
      gw,
      {{"store", [&store] { return store->Ping(); }},
       {"chain", [&chain_rpc] { return chain_rpc->GetBlockCount().status(); }},
       {"enclave", [&enclave] { return enclave->Ping(); }},
       // Whether the registry answers (etcd up, directory readable); any name serves.
       {"registry", [&mesh] { return mesh->registry->Resolve("echo").status(); }}},
      clock, {[&mesh] { return mesh->RenderMetrics(); }, [&limiter] { return limiter.RenderMetrics(); }});
  gateway::RegisterAttestationRoute(gw, [&enclave](std::span<const uint8_t> nonce) { return enclave->Attest(nonce); });
  gateway::RegisterAccountRoutes(gw, accounts);
  // Long calls may answer 202 with an operation, run by this gateway, and POST their outcome to
  // a webhook through the enclave's relay: the SSRF rules of functions' fetch() (docs/api.md).
  auto operations_options = OperationsOptionsFromConfig(config);
  if (!operations_options.ok()) return Fail(operations_options.status().Annotate("operations"));
  net::FetcherOptions webhook_fetch;
  webhook_fetch.default_timeout = operations_options->webhook_timeout;
  webhook_fetch.max_timeout = operations_options->webhook_timeout;
  webhook_fetch.user_agent = "neosl-webhooks";
  auto webhook_fetcher = net::Fetcher::Create(webhook_fetch, *enclave->relay);
  if (!webhook_fetcher.ok()) return Fail(webhook_fetcher.status().Annotate("webhooks"));
  operations_options->owner = replica->id();
  operations_options->fetcher = webhook_fetcher->get();
  operations_options->check_destination = [relay = enclave->relay](const std::string& host) {
    return relay->CheckDestination(host);
  };
  operations_options->webhook_key = std::move(*webhook_key);
  gateway::OperationStore operation_store(*store, clock);
  gateway::Operations operations(operation_store, random, clock, std::move(*operations_options));
  // The same operations for the services, over the mesh (operations_service.h), until they stop.
  if (mesh->operations) mesh->operations->Attach(&operations);
  struct DetachOperations {
    gateway::Operations& ops;
    std::unique_ptr<MeshHost>& mesh;
    ~DetachOperations() {
      ops.Stop();  // ends the waits, so that Detach does not wait for them
      if (mesh && mesh->operations) mesh->operations->Detach();
    }
  } detach_operations{operations, mesh};
  gateway::RegisterMeshRoutes(gw, *mesh->gateway_client, gateway::BuiltinMeshRoutes(), &operations);
  operations.RegisterRoutes(gw);
  // GET /v1/ws: subscriptions over one WebSocket, each a server stream of a service (docs/api.md).
  gateway::WsHub ws(gateway::WsOptionsFromConfig(config));
  gateway::RegisterEchoStreamChannel(ws, *mesh->gateway_client);
  ws.RegisterChannel("function_logs", gateway::Role::kViewer,
                     gateway::MeshStreamChannel(
                         *mesh->gateway_client, "functions", "/neosl.functions.v1.Functions/StreamFunctionLogs",
                         gateway::Object({{"function_id", gateway::String().Length(1, 64), gateway::kRequired}})),
                     "live console lines of one of your functions, as they are written. Params: `function_id`.");
  ws.RegisterChannel(
      "executions", gateway::Role::kViewer,
      gateway::MeshStreamChannel(
          *mesh->gateway_client, "oracle", "/neosl.oracle.v1.Oracle/WatchOracleRequests",
          gateway::Object(
              {{"service", gateway::String().OneOf({"oracle"}).Describe("whose executions"), gateway::kRequired},
               {"request_id", gateway::String().Length(0, 64).Describe("only this request")}})),
      "your oracle requests as they finish (those made with async, and any other), each the same body as GET "
      "/v1/oracle/requests/{id}. Params: `service` (\"oracle\"), optional `request_id` (the stream then ends after "
      "that request).");
  ws.RegisterChannel("operations", gateway::Role::kViewer, operations.Channel(),
                     "your asynchronous operations as each ends, each the same body as GET /v1/operations/{id}. "
                     "Params: optional `operation_id` (its end, at once if it has ended; the stream then ends).");
  if (config.Bool("pricefeed.enabled")) {  // here (role all) or in a pricefeed process (role gateway)
    ws.RegisterChannel(
        "prices", gateway::Role::kViewer,
        gateway::MeshStreamChannel(*mesh->gateway_client, "pricefeed", "/neosl.pricefeed.v1.PriceFeed/WatchPrices",
                                   gateway::Object({{"pair", gateway::String().Length(0, 32).Describe(
                                                                 "only this pair (NEO/USD or NEO-USD)")}})),
        "price reports as the rounds make them, each the same body as GET /v1/prices/{pair}; a pair that misses its "
        "quorum is reported once with status degraded. Params: optional `pair` (it is then kept observed while you "
        "listen); without it, the reports of every pair that is followed.");
  }
  gateway::RegisterWsRoute(gw, ws);
  gw.Freeze();
  // What this replica accepted and had not finished when it last stopped.
  if (Status s = operations.Recover(); !s.ok()) return Fail(s.Annotate("recovering operations"));

  gateway::ServerOptions options;
  options.listen = config.String("listen");
  options.threads = int(config.Int("gateway.threads"));
  options.handler_threads = int(config.Int("gateway.handler_threads"));
  options.blocking = [&gw](const gateway::HttpRequest& req) { return gw.Blocking(req); };
  options.max_body_bytes = uint64_t(config.Int("gateway.max_body_bytes"));
  options.max_header_bytes = uint32_t(config.Int("gateway.max_header_bytes"));
  options.header_timeout = std::chrono::milliseconds(config.Int("gateway.header_timeout_ms"));
  options.body_timeout = std::chrono::milliseconds(config.Int("gateway.body_timeout_ms"));
  options.idle_timeout = std::chrono::milliseconds(config.Int("gateway.idle_timeout_ms"));
  options.max_connections = int(config.Int("gateway.max_connections"));
  options.tls_cert_file = config.String("gateway.tls.cert_file");
  options.tls_key_file = config.String("gateway.tls.key_file");
  gateway::HttpMetrics& metrics = gw.metrics();
  gateway::ServerObserver observer{[&metrics](int delta) {
                                     metrics.connections_open.fetch_add(delta);
                                     if (delta > 0) metrics.connections_total.fetch_add(1);
                                   },
                                   [&metrics, unmatched = gw.routes().size()](int status) {
                                     metrics.Observe(unmatched, status, std::chrono::nanoseconds(0));
                                   }};
  gateway::HttpServer server(
      options, [&gw](const gateway::HttpRequest& req, gateway::HttpResponse& res) { gw.Handle(req, res); }, observer,
      [&gw](const gateway::HttpRequest& req, gateway::HttpResponse& res) { return gw.Upgrade(req, res); });
  auto bound = server.Start();
  if (!bound.ok()) return Fail(bound.status());
  if (Status s = WriteFileAtomic(addr_file, *bound + "\n", 0644); !s.ok()) return Fail(s);
  log::Info("listening", {{"address", *bound},
                          {"tls", !options.tls_cert_file.empty()},
                          {"data_dir", data_dir},
                          {"store", store->backend()},
                          {"role", role},
                          {"replica", replica->id()},
                          {"leader", replica->leader()},
                          {"routes", gw.routes().size()}});

  // Until a stop signal: start the singletons when this replica wins the lease; if another
  // replica takes it over, stop (crash-only: a supervisor restarts this one as a follower).
  const int exit_code = replica->Run(stop_signals);
  gw.SetDraining();
  bool drained = server.Drain(std::chrono::milliseconds(config.Int("gateway.drain_timeout_ms")));
  server.Stop();
  operations.Stop();  // the running ones end; the queued stay pending for the next start
  if (mesh->operations) mesh->operations->Detach();
  replica.reset();  // the singletons, then the lease, handed over at once
  mesh->Stop(std::chrono::milliseconds(config.Int("mesh.drain_ms")));
  mesh.reset();
  if (chain.devchain) chain.devchain->Stop();
  enclave->Stop();
  unlink(addr_file.c_str());
  log::Info("stopped", {{"drained", drained}});
  log::Flush();
  return exit_code;
}

}  // namespace neosl::app
