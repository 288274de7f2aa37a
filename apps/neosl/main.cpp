// neosl: the one binary. Subcommands print JSON on stdout; errors go to stderr with a non-zero
// exit status.
#include <cstdio>
#include <iostream>

#include <CLI/CLI.hpp>

#include "apps/neosl/attest_cli.h"
#include "apps/neosl/audit_cli.h"
#include "apps/neosl/backup_cli.h"
#include "apps/neosl/ca_cli.h"
#include "apps/neosl/devchain_cli.h"
#include "apps/neosl/enclave_cli.h"
#include "apps/neosl/fn_cli.h"
#include "apps/neosl/fn_simulate.h"
#include "apps/neosl/gasbank_cli.h"
#include "apps/neosl/neo_cli.h"
#include "apps/neosl/secrets_cli.h"
#include "apps/neosl/serve.h"
#include "apps/neosl/vrf_cli.h"
#include "core/config.h"
#include "mesh/tls.h"

#ifndef NEOSL_VERSION
#define NEOSL_VERSION "0.0.0"
#endif

// NOLINTNEXTLINE(bugprone-exception-escape): only CLI11's set-up can throw, on our own misuse
int main(int argc, char** argv) {
  // Before any gRPC object exists: mesh TLS is 1.3 only (mesh/tls.h).
  neosl::mesh::ConfigureTls13Only();
  CLI::App app{"neosl — off-chain services for Neo N3 dApps"};
  app.require_subcommand(1);
  app.set_version_flag("--version", NEOSL_VERSION);

  neosl::app::ServeFlags serve_flags;
  auto add_common = [&](CLI::App* cmd) {
    cmd->add_option("--listen", serve_flags.listen,
                    "HOST:PORT of the REST API (env NEOSL_LISTEN; default 127.0.0.1:8080)");
    cmd->add_option("--data", serve_flags.data_dir, "data directory (env NEOSL_DATA_DIR; default ./data)");
    cmd->add_option("--config", serve_flags.config_file, "YAML configuration file (env NEOSL_CONFIG)");
  };

  auto* serve = app.add_subcommand("serve", "Run the platform: REST gateway and services in one process");
  add_common(serve);
  serve->add_option("--role", serve_flags.role,
                    "all (default): everything in this process; gateway | echo | secrets | functions: one mesh "
                    "role per process "
                    "(env NEOSL_MESH_ROLE; docs/mesh.md)");

  auto* config = app.add_subcommand("config", "Inspect configuration");
  config->require_subcommand(1);
  auto* print = config->add_subcommand("print", "Print the effective configuration as JSON (secrets redacted)");
  add_common(print);
  auto* defaults = config->add_subcommand("defaults", "Print the embedded default configuration (YAML, commented)");

  auto* version = app.add_subcommand("version", "Print the version as JSON");
  auto run_neo = neosl::app::AddNeoCommands(app);
  auto run_devchain = neosl::app::AddDevchainCommands(app);
  auto run_attest = neosl::app::AddAttestCommands(app);
  auto run_enclave = neosl::app::AddEnclaveCommands(app);
  auto run_ca = neosl::app::AddCaCommands(app);
  auto run_audit = neosl::app::AddAuditCommands(app);
  auto run_secrets = neosl::app::AddSecretsCommands(app);
  auto run_fn = neosl::app::AddFnCommands(app);
  auto run_fn_simulate = neosl::app::AddFnSimulate(app);
  auto run_vrf = neosl::app::AddVrfCommands(app);
  auto run_gasbank = neosl::app::AddGasbankCommands(app);
  auto run_backup = neosl::app::AddBackupCommands(app);

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e);  // --help prints and exits 0; usage errors exit non-zero
  }

  if (serve->parsed()) return neosl::app::RunServe(serve_flags);
  if (print->parsed()) return neosl::app::RunConfigPrint(serve_flags);
  if (defaults->parsed()) {
    std::fwrite(neosl::Config::DefaultsYaml().data(), 1, neosl::Config::DefaultsYaml().size(), stdout);
    return 0;
  }
  if (int rc = run_neo(); rc >= 0) return rc;
  if (int rc = run_devchain(); rc >= 0) return rc;
  if (int rc = run_attest(); rc >= 0) return rc;
  if (int rc = run_enclave(); rc >= 0) return rc;
  if (int rc = run_ca(); rc >= 0) return rc;
  if (int rc = run_audit(); rc >= 0) return rc;
  if (int rc = run_secrets(); rc >= 0) return rc;
  if (int rc = run_fn_simulate(); rc >= 0) return rc;
  if (int rc = run_fn(); rc >= 0) return rc;
  if (int rc = run_vrf(); rc >= 0) return rc;
  if (int rc = run_gasbank(); rc >= 0) return rc;
  if (int rc = run_backup(); rc >= 0) return rc;
  if (version->parsed()) {
    std::printf("{\"version\":\"%s\"}\n", NEOSL_VERSION);
    return 0;
  }
  return 2;
}
