// What `neosl backup` takes from a data directory, decided from the configuration the server
// runs with (docs/backup.md, "What is in a backup"). The rules, and why:
//
//   neosl.db            the store (store.sqlite.path), as an online-backup snapshot, never the raw
//                       file: a copy of a WAL database and its -wal taken while it is written is
//                       not a database. With store.driver postgres: store.pgdump (pg_dump).
//   platform.secret     enclave.platform_secret_file: sealing keys derive from it, so without it
//                       nothing in enclave/ opens.
//   enclave/…           enclave.sealed_dir: the enclave's sealed keys (Neo account, VRF, report,
//                       deposit keys derive from them). Temporary files (*.tmp) are skipped.
//   enclave-signer.key  the development signer (when enclave.sigstruct_file is empty): sealed
//                       state under seal_policy signer opens only in builds it signed.
//   admin.key           the platform admin key, written once; the store keeps only its hash.
//   key-hash.secret     auth.key_hash_secret_file: every API key is stored as an HMAC under it.
//   mesh/…              mesh.tls.dir: this process's mesh certificate, key, CA and CRL.
//   devchain/chain.db   only with --with-devchain: the embedded development chain, whose state
//                       the gas bank's deposits point to (snapshot like the store).
//
// Left out: listen.addr, devchain/listen.addr and observability.addr (written by a running
// server), serve.lock (held by one), registry/ (the file registry's leases of running instances,
// which expire within mesh.registry.lease_ms and name processes that will not exist after a
// restore), instance.id (a replica's name in the singletons' lease: a restored copy makes its
// own, so that it never holds a lease under the name of the server it was copied from),
// enclave.sigstruct (signed afresh from enclave-signer.key at every start), the
// -wal/-shm/-journal files (their committed contents are in the snapshot), *.tmp files, logs
// (log.file). Also, with a note in the manifest: a key hash
// secret given inline (auth.key_hash_secret), an offline enclave.sigstruct_file, the mesh CA of
// mesh.tls.ca_dir (it holds the CA's private key: back it up on its own), and any entry of the
// data directory this version does not know.
#pragma once

#include <string>
#include <utility>
#include <vector>

#include "core/config.h"
#include "core/status.h"

namespace neosl::app::backup_internal {

struct Source {
  std::string member;  // name in the archive, relative to the data directory
  std::string kind;    // backup::kKind*
  std::string path;    // where it is read from (for postgres-dump: unused)
};

struct Plan {
  std::string store_driver;  // "sqlite" | "postgres"
  std::string postgres_dsn;  // store.postgres.dsn (a secret: never printed)
  std::vector<Source> sources;
  std::vector<std::pair<std::string, std::string>> not_included;  // {what, why}
};

// NOT_FOUND when there is no store to back up; FAILED_PRECONDITION when --with-devchain is given
// and there is no devchain database.
StatusOr<Plan> PlanBackup(const Config& config, const std::string& data_dir, bool with_devchain);

}  // namespace neosl::app::backup_internal
