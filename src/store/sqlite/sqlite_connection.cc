#include "store/sqlite/sqlite_connection.h"

namespace ck::store::sqlite {

Status SqliteStatus(int result_code, std::string detail) {
  if (result_code == SQLITE_IOERR_DATA) {  // store/sqlite/encrypted_vfs.h: a page that does not authenticate
    return Status(StatusCode::kCorrupt, "a database page failed its integrity check (the file was changed or damaged)")
        .WithDetail(std::move(detail));
  }
  switch (result_code & 0xFF) {
    case SQLITE_BUSY:
    case SQLITE_LOCKED:
      return Status::Unavailable("the database is busy; retry shortly").WithDetail(std::move(detail));
    case SQLITE_READONLY:
      return Status::Unavailable("the database is read-only").WithDetail(std::move(detail));
    case SQLITE_IOERR:
      return Status::Unavailable("the database could not read or write its files").WithDetail(std::move(detail));
    case SQLITE_NOMEM:
      return Status::Unavailable("the server is out of memory").WithDetail(std::move(detail));
    case SQLITE_FULL:
      return Status(StatusCode::kInsufficientStorage, "the disk holding the database is full").WithDetail(std::move(detail));
    case SQLITE_CORRUPT:
    case SQLITE_NOTADB:
      return Status(StatusCode::kCorrupt, "the database file is corrupt").WithDetail(std::move(detail));
    case SQLITE_INTERRUPT:
      return Status(StatusCode::kTooCostly, "the query took longer than the server allows; narrow it")
          .WithDetail(std::move(detail));
    default:
      return Status::Internal("database error").WithDetail(std::move(detail));
  }
}

Status SqliteError(sqlite3* db, std::string_view what) {
  return SqliteStatus(sqlite3_extended_errcode(db), std::string(what) + ": " + sqlite3_errmsg(db));
}

Statement& Statement::Bind(int index, std::int64_t value) {
  sqlite3_bind_int64(stmt_, index, value);
  return *this;
}

Statement& Statement::BindDouble(int index, double value) {
  sqlite3_bind_double(stmt_, index, value);
  return *this;
}

Statement& Statement::Bind(int index, std::string_view text) {
  sqlite3_bind_text64(stmt_, index, text.data(), text.size(), SQLITE_TRANSIENT, SQLITE_UTF8);
  return *this;
}

Statement& Statement::BindBlob(int index, std::string_view bytes) {
  sqlite3_bind_blob64(stmt_, index, bytes.data(), bytes.size(), SQLITE_TRANSIENT);
  return *this;
}

Statement& Statement::BindNull(int index) {
  sqlite3_bind_null(stmt_, index);
  return *this;
}

Statement& Statement::BindNamed(const char* name, std::int64_t value) {
  int index = sqlite3_bind_parameter_index(stmt_, name);
  return index > 0 ? Bind(index, value) : *this;
}

Statement& Statement::BindNamed(const char* name, std::string_view text) {
  int index = sqlite3_bind_parameter_index(stmt_, name);
  return index > 0 ? Bind(index, text) : *this;
}

Result<bool> Statement::Step() {
  int rc = sqlite3_step(stmt_);
  if (rc == SQLITE_ROW) return true;
  if (rc == SQLITE_DONE) return false;
  Status error = SqliteError(sqlite3_db_handle(stmt_), sqlite3_sql(stmt_));
  sqlite3_reset(stmt_);
  return Err(std::move(error));
}

Status Statement::Run() {
  CK_ASSIGN_OR_RETURN(bool row, Step());
  while (row) {
    CK_ASSIGN_OR_RETURN(row, Step());
  }
  return Status::Ok();
}

std::string_view Statement::Text(int column) const {
  const void* data = sqlite3_column_blob(stmt_, column);
  int size = sqlite3_column_bytes(stmt_, column);
  return data == nullptr ? std::string_view() : std::string_view(static_cast<const char*>(data), size);
}

void Statement::Reset() {
  sqlite3_reset(stmt_);
  sqlite3_clear_bindings(stmt_);
}

Result<std::unique_ptr<Connection>> Connection::Open(const std::filesystem::path& file, Mode mode,
                                                     const std::string& vfs) {
  // SQLite's memory statistics take a global mutex on every allocation, which every connection
  // (the writer and each reader) would contend for; nothing here reads them. Set before SQLite
  // initializes, at the first open (sqlite3_config refuses harmlessly once it has).
  static const bool memstatus_off = sqlite3_config(SQLITE_CONFIG_MEMSTATUS, 0) == SQLITE_OK;
  (void)memstatus_off;
  sqlite3* db = nullptr;
  int flags = SQLITE_OPEN_NOMUTEX | (mode == Mode::kReadWrite ? SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE
                                                               : SQLITE_OPEN_READONLY);
  int rc = sqlite3_open_v2(file.c_str(), &db, flags, vfs.empty() ? nullptr : vfs.c_str());
  std::unique_ptr<Connection> connection(new Connection(db));
  if (rc != SQLITE_OK) return Err(SqliteError(db, "open " + file.string()));
  sqlite3_busy_timeout(db, 10'000);
  sqlite3_extended_result_codes(db, 1);
  return connection;
}

Connection::~Connection() {
  cache_.clear();
  sqlite3_close_v2(db_);
}

Status Connection::Execute(std::string_view sql) {
  char* message = nullptr;
  int rc = sqlite3_exec(db_, std::string(sql).c_str(), nullptr, nullptr, &message);
  if (rc == SQLITE_OK) return Status::Ok();
  std::string detail = message != nullptr ? message : "unknown";
  sqlite3_free(message);
  return SqliteStatus(rc, std::string(sql.substr(0, 80)) + ": " + detail);
}

void Connection::SetTimeLimit(std::chrono::milliseconds limit) {
  if (limit.count() == 0) {
    sqlite3_progress_handler(db_, 0, nullptr, nullptr);
    return;
  }
  deadline_ = std::chrono::steady_clock::now() + limit;
  sqlite3_progress_handler(db_, 1000, &Connection::CheckDeadline, this);
}

int Connection::CheckDeadline(void* self) {
  return std::chrono::steady_clock::now() > static_cast<Connection*>(self)->deadline_ ? 1 : 0;
}

Result<ScopedStatement> Connection::Prepare(const std::string& sql) {
  auto it = cache_.find(sql);
  if (it == cache_.end()) {
    sqlite3_stmt* stmt = nullptr;
    if (sqlite3_prepare_v3(db_, sql.c_str(), static_cast<int>(sql.size()), SQLITE_PREPARE_PERSISTENT, &stmt,
                           nullptr) != SQLITE_OK) {
      return Err(SqliteError(db_, "prepare " + sql));
    }
    if (cache_.size() >= kMaxCachedStatements) return ScopedStatement(std::make_unique<Statement>(stmt, /*owns=*/true));
    auto wrapper = std::make_unique<Statement>(stmt);
    it = cache_.emplace(sql, std::make_pair(std::unique_ptr<sqlite3_stmt, Finalizer>(stmt), std::move(wrapper))).first;
  }
  return ScopedStatement(it->second.second.get());
}

}  // namespace ck::store::sqlite
