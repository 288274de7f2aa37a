#include "store/postgres_connection.h"

#include <algorithm>
#include <cerrno>
#include <climits>
#include <cstdint>
#include <cstdlib>
#include <poll.h>
#include <string.h>  // explicit_bzero
#include <string>
#include <utility>

#include "store/postgres_codec.h"
#include <libpq-fe.h>

namespace neosl::store::postgres {
namespace {

// Statement text in messages is ours (values travel as parameters), but keep it readable.
std::string Shorten(std::string_view sql) {
  constexpr size_t kMax = 160;
  std::string out(sql.substr(0, kMax));
  std::replace(out.begin(), out.end(), '\n', ' ');
  return sql.size() <= kMax ? out : out + "…";
}

bool StartsWith(std::string_view s, std::string_view prefix) {
  return s.substr(0, prefix.size()) == prefix;
}

struct ResultDeleter {
  void operator()(PGresult* r) const { PQclear(r); }
};
using ResultPtr = std::unique_ptr<PGresult, ResultDeleter>;

// Classes of SQLSTATE whose primary message names only our own objects (tables, columns,
// constraints) or the server's state. Others may quote input: class 22 quotes the value that
// failed to convert ('invalid input syntax for type bigint: "…"'), P0 is whatever a RAISE
// said. Their messages are replaced by a generic one.
bool MessageIsSafe(std::string_view sqlstate) {
  static constexpr std::string_view kSafe[] = {"08", "0A", "21", "23", "25", "28", "3D", "3F",
                                               "40", "42", "53", "54", "55", "57", "58"};
  std::string_view cls = sqlstate.substr(0, 2);
  return std::find(std::begin(kSafe), std::end(kSafe), cls) != std::end(kSafe);
}

// Lost connections end the session: the server closed it, or is shutting down.
bool EndsSession(std::string_view sqlstate) {
  return StartsWith(sqlstate, "08") || StartsWith(sqlstate, "57P");
}

void IgnoreNotice(void* /*arg*/, const char* /*message*/) {
  // Notices ("relation … already exists, skipping") and the server's goodbye on an idle
  // connection would otherwise go to stderr, past our structured log.
}

}  // namespace

StatusCode CodeForSqlState(std::string_view s) {
  const std::string_view cls = s.substr(0, 2);
  if (s == "23505") return StatusCode::kAlreadyExists;
  if (cls == "23") return StatusCode::kFailedPrecondition;  // foreign key, check, not null, exclusion
  if (cls == "25") return StatusCode::kFailedPrecondition;  // 25006: a write in a READ ONLY transaction
  if (s == "40001" || s == "40P01") return StatusCode::kAborted;
  if (s == "40002") return StatusCode::kFailedPrecondition;  // a deferred constraint at COMMIT
  if (s == "40003") return StatusCode::kUnavailable;         // the outcome of a statement is unknown
  if (cls == "40") return StatusCode::kAborted;
  if (s == "55P03") return StatusCode::kAborted;  // lock not available
  if (cls == "08" || cls == "57" || cls == "58" || cls == "28") return StatusCode::kUnavailable;
  if (s == "53300") return StatusCode::kUnavailable;  // too many connections: busy, try again
  if (cls == "53") return StatusCode::kResourceExhausted;
  if (cls == "22" || cls == "54") return StatusCode::kInvalidArgument;  // a value that cannot be stored
  if (s == "XX001" || s == "XX002") return StatusCode::kDataLoss;
  return StatusCode::kInternal;  // 42 (bad SQL), 0A, XX, …: a bug on our side
}

ConnectSettings::~ConnectSettings() {
  explicit_bzero(password.data(), password.size());
  for (std::string& v : values) explicit_bzero(v.data(), v.size());
}

std::string ConnectSettings::Clean(std::string_view message) const {
  std::string out;
  size_t start = 0;
  while (start < message.size()) {
    size_t end = message.find('\n', start);
    if (end == std::string_view::npos) end = message.size();
    std::string_view line = message.substr(start, end - start);
    start = end + 1;
    while (!line.empty() && (line.front() == ' ' || line.front() == '\t')) line.remove_prefix(1);
    while (!line.empty() && (line.back() == ' ' || line.back() == '\r')) line.remove_suffix(1);
    // DETAIL quotes key values and whole rows; the others add nothing a caller needs.
    if (line.empty() || StartsWith(line, "DETAIL:") || StartsWith(line, "HINT:") || StartsWith(line, "CONTEXT:") ||
        StartsWith(line, "QUERY:") || StartsWith(line, "LINE ")) {
      continue;
    }
    if (!out.empty()) out += "; ";
    out += line;
  }
  for (size_t at = out.find("  "); at != std::string::npos; at = out.find("  ", at)) out.erase(at, 1);
  if (!password.empty()) {
    for (size_t at = out.find(password); at != std::string::npos; at = out.find(password, at + 3)) {
      out.replace(at, password.size(), "***");
    }
  }
  return out;
}

StatusOr<std::shared_ptr<const ConnectSettings>> ResolveSettings(const PostgresOptions& options) {
  if (options.dsn.empty()) return InvalidArgumentError("the PostgreSQL store needs a DSN");
  if (options.pool_size < 1) return InvalidArgumentError("the PostgreSQL pool needs at least one connection");
  if (options.connect_timeout_ms < 1) return InvalidArgumentError("the PostgreSQL connect timeout must be positive");
  if (options.statement_timeout_ms < 0) {
    return InvalidArgumentError("the PostgreSQL statement timeout must not be negative");
  }
  char* error = nullptr;
  PQconninfoOption* parsed = PQconninfoParse(options.dsn.c_str(), &error);
  if (parsed == nullptr) {
    // libpq's message quotes the part it could not read, which may be the password.
    PQfreemem(error);
    return InvalidArgumentError("the PostgreSQL DSN is neither a libpq connection string nor a postgresql:// URI");
  }
  auto settings = std::make_shared<ConnectSettings>();
  settings->connect_timeout_ms = options.connect_timeout_ms;
  settings->statement_timeout_ms = options.statement_timeout_ms;
  std::string dsn_options;
  auto has = [&](std::string_view key) {
    return std::find(settings->keywords.begin(), settings->keywords.end(), key) != settings->keywords.end();
  };
  for (PQconninfoOption* o = parsed; o->keyword != nullptr; ++o) {
    if (o->val == nullptr) continue;  // only what the DSN gave; libpq fills in the rest
    std::string_view key = o->keyword;
    if (key == "password") settings->password = o->val;
    if (key == "options") {
      dsn_options = o->val;
    } else if (key != "client_encoding") {
      settings->keywords.emplace_back(key);
      settings->values.emplace_back(o->val);
    }
  }
  PQconninfoFree(parsed);
  // Defaults the DSN may override: a name in pg_stat_activity, and keepalives so that a server
  // gone without a word is noticed on long-idle sessions.
  const std::pair<const char*, const char*> kDefaults[] = {{"application_name", "neosl"},
                                                           {"keepalives", "1"},
                                                           {"keepalives_idle", "30"},
                                                           {"keepalives_interval", "10"},
                                                           {"keepalives_count", "3"}};
  for (const auto& [key, value] : kDefaults) {
    if (!has(key)) {
      settings->keywords.emplace_back(key);
      settings->values.emplace_back(value);
    }
  }
  // Settings the store relies on, whatever the DSN says: UTF-8 text; sessions read-only by
  // default, so that Store::Query cannot write (write transactions say READ WRITE); the
  // statement timeout; and no NOTICE chatter.
  settings->keywords.emplace_back("client_encoding");
  settings->values.emplace_back("UTF8");
  settings->keywords.emplace_back("options");
  settings->values.emplace_back(dsn_options + (dsn_options.empty() ? "" : " ") +
                                "-c default_transaction_read_only=on -c client_min_messages=warning"
                                " -c statement_timeout=" +
                                std::to_string(options.statement_timeout_ms));
  return std::shared_ptr<const ConnectSettings>(std::move(settings));
}

StatusOr<std::unique_ptr<Connection>> Connection::Open(std::shared_ptr<const ConnectSettings> settings,
                                                       Clock::time_point deadline) {
  std::vector<const char*> keywords;
  std::vector<const char*> values;
  for (size_t i = 0; i < settings->keywords.size(); ++i) {
    keywords.push_back(settings->keywords[i].c_str());
    values.push_back(settings->values[i].c_str());
  }
  keywords.push_back(nullptr);
  values.push_back(nullptr);
  PGconn* raw = PQconnectStartParams(keywords.data(), values.data(), /*expand_dbname=*/0);
  if (raw == nullptr) return ResourceExhaustedError("postgres: libpq could not allocate a connection");
  std::unique_ptr<Connection> conn(new Connection(raw, std::move(settings)));  // PQfinish on every path
  auto failed = [&] {
    conn->usable_ = false;
    return UnavailableError("postgres: cannot connect: " + conn->settings_->Clean(PQerrorMessage(raw)));
  };
  if (PQstatus(raw) == CONNECTION_BAD) return failed();
  // Polled rather than PQconnectdb, which rounds connect_timeout to whole seconds (2 at least)
  // and applies it per host.
  PostgresPollingStatusType state = PGRES_POLLING_WRITING;
  while (state != PGRES_POLLING_OK) {
    if (state == PGRES_POLLING_FAILED) return failed();
    if (!conn->Wait(state == PGRES_POLLING_WRITING, deadline)) {
      conn->usable_ = false;
      return UnavailableError("postgres: no connection within " + std::to_string(conn->settings_->connect_timeout_ms) +
                              " ms");
    }
    state = PQconnectPoll(raw);
  }
  PQsetNoticeProcessor(raw, IgnoreNotice, nullptr);
  // Non-blocking sends, so that a large parameter never blocks past the statement deadline.
  if (PQsetnonblocking(raw, 1) != 0) return failed();
  return conn;
}

Connection::~Connection() {
  PQfinish(conn_);
}

bool Connection::Wait(bool write, std::optional<Clock::time_point> deadline) {
  pollfd fd{};
  fd.fd = PQsocket(conn_);
  if (fd.fd < 0) return true;  // nothing to wait on: libpq reports the broken connection next
  fd.events = static_cast<short>(write ? (POLLOUT | POLLIN) : POLLIN);
  while (true) {
    int timeout = -1;
    if (deadline) {
      auto left = std::chrono::ceil<std::chrono::milliseconds>(*deadline - Clock::now()).count();
      if (left <= 0) return false;
      timeout = static_cast<int>(std::min<int64_t>(left, INT_MAX));
    }
    int r = ::poll(&fd, 1, timeout);
    if (r > 0 || (r < 0 && errno != EINTR)) return true;
  }
}

bool Connection::StillOpen() {
  if (!usable_) return false;
  pollfd fd{};
  fd.fd = PQsocket(conn_);
  fd.events = POLLIN;
  if (fd.fd < 0) return usable_ = false;
  // An idle session has nothing to say unless the server is ending it (an error, then EOF).
  if (::poll(&fd, 1, 0) <= 0) return true;
  if (PQconsumeInput(conn_) == 0 || PQstatus(conn_) == CONNECTION_BAD) return usable_ = false;
  return true;
}

bool Connection::InTransaction() const {
  PGTransactionStatusType s = PQtransactionStatus(conn_);
  return s == PQTRANS_INTRANS || s == PQTRANS_INERROR || s == PQTRANS_ACTIVE;
}

Status Connection::Lost(std::string_view what) {
  usable_ = false;
  return UnavailableError("postgres: connection lost while " + std::string(what) + ": " +
                          settings_->Clean(PQerrorMessage(conn_)));
}

StatusOr<StatementResult> Connection::Run(const TranslatedStatement& statement, const Params& params) {
  if (!usable_) return UnavailableError("postgres: the connection is broken");
  const EncodedParams encoded(params);
  if (PQsendQueryParams(conn_, statement.sql.c_str(), encoded.count(), encoded.types(), encoded.values(),
                        encoded.lengths(), encoded.formats(), /*resultFormat=binary*/ 1) == 0) {
    return Lost("sending a statement");
  }
  return Collect(statement.sql, true);
}

StatusOr<StatementResult> Connection::RunNative(std::string_view sql) {
  if (!usable_) return UnavailableError("postgres: the connection is broken");
  std::string text(sql);
  if (PQsendQuery(conn_, text.c_str()) == 0) return Lost("sending a statement");
  return Collect(sql, false);
}

StatusOr<StatementResult> Connection::Collect(std::string_view sql, bool binary) {
  std::optional<Clock::time_point> deadline;
  if (settings_->statement_timeout_ms > 0 && !unbounded) {
    // The server cancels the statement at statement_timeout; past that plus the time a
    // connection may take, nobody is answering.
    deadline =
        Clock::now() + std::chrono::milliseconds(settings_->statement_timeout_ms + settings_->connect_timeout_ms);
  }
  auto abandon = [&] {
    usable_ = false;
    return UnavailableError("postgres: no answer within " +
                            std::to_string(settings_->statement_timeout_ms + settings_->connect_timeout_ms) +
                            " ms; connection abandoned");
  };
  while (true) {
    int flushed = PQflush(conn_);
    if (flushed == 0) break;
    if (flushed < 0) return Lost("sending a statement");
    if (!Wait(true, deadline)) return abandon();
    if (PQconsumeInput(conn_) == 0) return Lost("sending a statement");
  }
  StatementResult out;
  Status error;
  while (true) {
    while (PQisBusy(conn_) != 0) {
      if (!Wait(false, deadline)) return abandon();
      if (PQconsumeInput(conn_) == 0) return Lost("waiting for a result");
    }
    ResultPtr result(PQgetResult(conn_));
    if (!result) break;
    PGresult* r = result.get();
    switch (PQresultStatus(r)) {
      case PGRES_COMMAND_OK:
      case PGRES_TUPLES_OK:
      case PGRES_EMPTY_QUERY: {
        if (!error.ok()) break;
        out.command = PQcmdStatus(r);
        out.changed = 0;
        for (std::string_view verb : {"INSERT ", "UPDATE ", "DELETE ", "MERGE "}) {
          // PQcmdTuples is libpq's own decimal count, never malformed.
          if (StartsWith(out.command, verb)) out.changed = std::strtoll(PQcmdTuples(r), nullptr, 10);
        }
        out.rows.clear();
        if (!binary) break;
        const int nrows = PQntuples(r);
        const int ncols = PQnfields(r);
        out.rows.reserve(static_cast<size_t>(nrows));
        for (int row = 0; row < nrows && error.ok(); ++row) {
          std::vector<Value> values;
          values.reserve(static_cast<size_t>(ncols));
          for (int col = 0; col < ncols; ++col) {
            if (PQgetisnull(r, row, col) != 0) {
              values.emplace_back(std::monostate{});
              continue;
            }
            error = DecodeColumn(PQftype(r, col), PQgetvalue(r, row, col),
                                 static_cast<size_t>(PQgetlength(r, row, col)), col, &values.emplace_back());
            if (!error.ok()) break;
          }
          out.rows.emplace_back(std::move(values));
        }
        break;
      }
      case PGRES_FATAL_ERROR: {
        if (!error.ok()) break;
        const char* state = PQresultErrorField(r, PG_DIAG_SQLSTATE);
        if (state == nullptr) {  // from libpq itself: mostly a lost connection, decided below
          error = InternalError("postgres: " + settings_->Clean(PQresultErrorMessage(r)));
          break;
        }
        const char* primary = PQresultErrorField(r, PG_DIAG_MESSAGE_PRIMARY);
        std::string message = "postgres: ";
        message += MessageIsSafe(state) && primary != nullptr ? primary : "the statement failed on a value given";
        message += " (SQLSTATE " + std::string(state) + ")";
        StatusCode code = CodeForSqlState(state);
        if (code == StatusCode::kInternal) message += " in: " + Shorten(sql);
        if (EndsSession(state)) usable_ = false;
        error = Status(code, settings_->Clean(message));
        break;
      }
      default:
        // COPY and friends: the store never starts them, and the session cannot go on.
        usable_ = false;
        return InternalError("postgres: unexpected result (" + std::string(PQresStatus(PQresultStatus(r))) +
                             ") for: " + Shorten(sql));
    }
  }
  if (PQstatus(conn_) == CONNECTION_BAD) {
    usable_ = false;
    std::string why = error.ok() ? settings_->Clean(PQerrorMessage(conn_)) : std::string(error.message());
    return UnavailableError("postgres: connection lost: " + why);
  }
  if (!error.ok()) return error;
  return out;
}

}  // namespace neosl::store::postgres
