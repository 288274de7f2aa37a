// Which store the integration tests run on. ctest registers every integration test twice: as
// itself, on SQLite (each server's own neosl.db in its data directory), and as "pg.<name>" with
// NEOSL_TEST_STORE=postgres, where every data directory gets a database of its own in one
// PostgreSQL cluster that the test process starts on first use (from the main thread: the
// cluster dies with the thread that launched it) and stops at exit.
//
// ServerProcess and RunNeosl apply StoreEnv themselves; a test needs these functions only when
// it shares a store between processes (replicas) or looks into a store itself.
#pragma once

#include <string>
#include <utility>
#include <vector>

namespace neosl::testing {

using EnvList = std::vector<std::pair<std::string, std::string>>;

// True in the "pg." copies of the integration tests.
bool OnPostgres();

// The environment that points a neosl process at the store of `data_dir`: nothing on SQLite; on
// PostgreSQL store.driver and the DSN of the database made for that directory the first time it
// is named (the same one after: restarts, CLIs run on it, a restore into it). The database is
// the one named by the SQLite path DIR/neosl.db, so a test that opens that path itself
// (test_store_open.h) opens the server's store on either backend.
EnvList StoreEnv(const std::string& data_dir);

// A store several processes share (replicas): on SQLite the file `sqlite_path`, on PostgreSQL a
// new database.
EnvList SharedStoreEnv(const std::string& sqlite_path);

// The DSN of the PostgreSQL database named `key` (a SQLite path it stands for), made on first
// use; aborts the test process, saying why, if PostgreSQL cannot be started.
std::string PostgresDsnFor(const std::string& key);

}  // namespace neosl::testing
