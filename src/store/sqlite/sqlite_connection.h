#pragma once
// A thin RAII layer over the SQLite C API: a Connection owns a sqlite3 handle and caches its
// prepared statements; a Statement binds, steps and reads columns. Errors become Status by kind
// (SqliteStatus: busy, full, read-only, I/O, corrupt, interrupted...), with SQLite's message as
// the log-only detail. Private to store/sqlite.
// Thread safety: a Connection is used by one thread at a time.

#include <sqlite3.h>

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>

#include "util/status.h"

namespace ck::store::sqlite {

class Statement {
 public:
  // `owns`: finalizes the statement when destroyed (otherwise its cache does).
  explicit Statement(sqlite3_stmt* stmt, bool owns = false) : stmt_(stmt), owns_(owns) {}
  ~Statement() {
    if (owns_) sqlite3_finalize(stmt_);
  }
  Statement(const Statement&) = delete;
  Statement& operator=(const Statement&) = delete;

  Statement& Bind(int index, std::int64_t value);
  Statement& BindDouble(int index, double value);
  Statement& Bind(int index, std::string_view text);
  Statement& BindBlob(int index, std::string_view bytes);
  Statement& BindNull(int index);
  // Binds a named parameter (":name"); does nothing if the statement has no such parameter.
  Statement& BindNamed(const char* name, std::int64_t value);
  Statement& BindNamed(const char* name, std::string_view text);

  // Steps once: true if a row is ready, false when done. Errors: kInternal.
  Result<bool> Step();
  // Steps to completion, for statements that return no rows.
  Status Run();

  std::int64_t Int(int column) const { return sqlite3_column_int64(stmt_, column); }
  double Double(int column) const { return sqlite3_column_double(stmt_, column); }
  // SQLITE_INTEGER, SQLITE_FLOAT, SQLITE_TEXT, SQLITE_BLOB or SQLITE_NULL.
  int ColumnType(int column) const { return sqlite3_column_type(stmt_, column); }
  std::string_view Text(int column) const;
  bool IsNull(int column) const { return sqlite3_column_type(stmt_, column) == SQLITE_NULL; }

  // Clears bindings and resets, ready for the next use (called by Connection::Prepare).
  void Reset();

 private:
  sqlite3_stmt* stmt_;
  const bool owns_;
};

// A prepared statement in use: a cached one, reset when this goes out of scope so no finished or
// abandoned SELECT keeps a read snapshot open; or one of its own (past the cache's size),
// finalized then.
class ScopedStatement {
 public:
  explicit ScopedStatement(Statement* statement) : statement_(statement) {}
  explicit ScopedStatement(std::unique_ptr<Statement> owned) : statement_(owned.get()), owned_(std::move(owned)) {}
  ScopedStatement(ScopedStatement&& other) noexcept
      : statement_(std::exchange(other.statement_, nullptr)), owned_(std::move(other.owned_)) {}
  ScopedStatement& operator=(ScopedStatement&&) = delete;
  ~ScopedStatement() {
    if (statement_ != nullptr && owned_ == nullptr) statement_->Reset();
  }
  Statement* operator->() const { return statement_; }
  Statement& operator*() const { return *statement_; }

 private:
  Statement* statement_;
  std::unique_ptr<Statement> owned_;  // finalizes its statement when destroyed
};

class Connection {
 public:
  enum class Mode { kReadWrite, kReadOnly };

  // Opens (creating in kReadWrite mode) the database file through `vfs` (empty: SQLite's
  // default). Errors: kInternal.
  static Result<std::unique_ptr<Connection>> Open(const std::filesystem::path& file, Mode mode,
                                                  const std::string& vfs);
  ~Connection();

  // Runs one or more statements without results (schema, PRAGMAs, BEGIN/COMMIT).
  Status Execute(std::string_view sql);
  // A prepared statement, ready to bind: cached by its text, up to kMaxCachedStatements texts
  // (searches make texts of unbounded variety), then prepared for this use only. Do not hold it
  // across another Prepare of the same SQL.
  Result<ScopedStatement> Prepare(const std::string& sql);

  std::int64_t LastInsertRowId() const { return sqlite3_last_insert_rowid(db_); }
  sqlite3* handle() const { return db_; }
  // Whether no transaction is open (SQLite's autocommit mode). After an I/O error or a full disk
  // SQLite may roll a transaction back on its own; this is how the caller finds out.
  bool InAutocommit() const { return sqlite3_get_autocommit(db_) != 0; }

  // Interrupts any statement still running `limit` from now (kTooCostly); zero clears it.
  void SetTimeLimit(std::chrono::milliseconds limit);

 private:
  explicit Connection(sqlite3* db) : db_(db) {}
  static int CheckDeadline(void* self);
  struct Finalizer {
    void operator()(sqlite3_stmt* s) const { sqlite3_finalize(s); }
  };

  sqlite3* db_;
  std::chrono::steady_clock::time_point deadline_{};
  static constexpr std::size_t kMaxCachedStatements = 256;
  std::unordered_map<std::string, std::pair<std::unique_ptr<sqlite3_stmt, Finalizer>, std::unique_ptr<Statement>>> cache_;
};

// The Status for an SQLite result code (extended codes too), with `detail` for the log:
// busy or locked, read-only, I/O errors and out-of-memory are kUnavailable (503: retry later or
// elsewhere); a full disk kInsufficientStorage (507); corruption kCorrupt; an interrupted
// statement (SetTimeLimit) kTooCostly; anything else kInternal. Each has its own message.
Status SqliteStatus(int result_code, std::string detail);

// SqliteStatus for the connection's last error, the detail naming `what` failed.
Status SqliteError(sqlite3* db, std::string_view what);

}  // namespace ck::store::sqlite
